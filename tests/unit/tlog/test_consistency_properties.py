"""Consistency proofs: every m <= n up to a bound verifies; any single-byte change fails."""

from __future__ import annotations

import pytest
from credit_ledger_verify.errors import VerificationError
from credit_ledger_verify.merkle import build_tree, verify_consistency
from hypothesis import given, settings
from hypothesis import strategies as st

BOUND = 33
TREE = build_tree([index.to_bytes(2, "big") for index in range(BOUND)])


def test_every_pair_up_to_the_bound_verifies() -> None:
    for size2 in range(BOUND + 1):
        for size1 in range(size2 + 1):
            proof = TREE.consistency_proof(size1, size2)
            verify_consistency(size1, size2, TREE.root_at(size1), TREE.root_at(size2), proof)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_byte_change_fails(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(2, BOUND), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    parts = [TREE.root_at(size1), TREE.root_at(size2), *TREE.consistency_proof(size1, size2)]
    target = data.draw(st.integers(0, len(parts) - 1), label="which hash")
    offset = data.draw(st.integers(0, 31), label="byte")
    delta = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(parts[target])
    changed[offset] ^= delta
    parts[target] = bytes(changed)
    with pytest.raises(VerificationError):
        verify_consistency(size1, size2, parts[0], parts[1], parts[2:])
