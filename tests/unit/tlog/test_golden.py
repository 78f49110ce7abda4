"""Walks tests/data/tlog/{checkpoints,consistency}/*.json: one case per file, each valid or
carrying one mutation with the error (code, field, message part) it must raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.merkle import verify_consistency
from credit_ledger_verify.tlog import verify_checkpoint
from pymerkle import InmemoryTree

from tests.unit.tlog.golden import CHECKPOINT_CASES, CONSISTENCY_CASES, POLICY, load


def test_there_is_a_case_for_every_malformation_the_brief_names() -> None:
    names = {path.stem for path in CHECKPOINT_CASES}
    assert {
        "valid",
        "bad-log-signature",
        "wrong-key-hash",
        "reordered-lines",
        "missing-blank-line",
        "size-not-a-number",
        "root-wrong-length",
        "extra-trailing-newline",
    } <= names
    assert len(CONSISTENCY_CASES) >= 15


@pytest.mark.parametrize("path", CHECKPOINT_CASES, ids=lambda path: path.stem)
def test_checkpoint_case(path: Path) -> None:
    case = load(path)
    if case["error"] is None:
        verified = verify_checkpoint(case["note"].encode(), POLICY)
        assert verified.checkpoint.origin == POLICY.origin
        assert len(verified.cosignatures) >= POLICY.witnesses_required
        return
    with pytest.raises(LedgerError) as raised:
        verify_checkpoint(case["note"].encode(), POLICY)
    error = raised.value
    assert error.code == case["error"], str(error)
    assert error.field == case["field"], str(error)
    assert case["message"] in str(error)


@pytest.mark.parametrize("path", CONSISTENCY_CASES, ids=lambda path: path.stem)
def test_consistency_case(path: Path) -> None:
    case = load(path)
    args = (
        case["size1"],
        case["size2"],
        bytes.fromhex(case["root1"]),
        bytes.fromhex(case["root2"]),
        [bytes.fromhex(value) for value in case["proof"]],
    )
    if case["error"] is None:
        # The roots come from an independent implementation, not from our builder.
        theirs = InmemoryTree.init_from_entries(
            [f"leaf-{index}".encode() for index in range(case["leaves"])], algorithm="sha256"
        )
        for size, root in ((args[0], args[2]), (args[1], args[3])):
            if size:
                assert theirs.get_root(size) == root
        verify_consistency(*args)
        return
    with pytest.raises(LedgerError) as raised:
        verify_consistency(*args)
    assert raised.value.code == case["error"], str(raised.value)
    assert case["message"] in str(raised.value)


def test_the_generator_reproduces_the_files() -> None:
    # Ed25519 is deterministic: regenerating in memory gives the stored cases byte for byte.
    from tests.data.tlog import make_cases

    for name, (note, code, field, message) in make_cases.checkpoint_cases().items():
        stored = load(make_cases.HERE / "checkpoints" / f"{name}.json")
        assert stored == {"note": note, "error": code, "field": field, "message": message}
    for name, case in make_cases.consistency_cases().items():
        assert load(make_cases.HERE / "consistency" / f"{name}.json") == case
