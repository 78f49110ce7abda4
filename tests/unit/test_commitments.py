"""Salted commitments: SHA-256(salt ‖ canonical) with checked preconditions."""

from __future__ import annotations

import hashlib

import pytest
from credit_ledger_verify.commitments import (
    COMMITMENT_BYTES,
    SALT_BYTES,
    commitment,
    new_salt,
    verify_commitment,
)
from credit_ledger_verify.records import parse_record

from ledger_service.errors import CommitmentError, CommitmentMismatch, VerificationError
from tests.unit.test_records import data_update


def test_new_salt_is_32_fresh_bytes() -> None:
    salts = {new_salt() for _ in range(100)}
    assert len(salts) == 100
    assert all(len(salt) == SALT_BYTES == 32 for salt in salts)


def test_commitment_is_sha256_of_salt_then_canonical() -> None:
    salt = bytes(range(32))
    canonical = parse_record(data_update()).canonical_bytes()
    value = commitment(salt, canonical)
    assert value == hashlib.sha256(salt + canonical).digest()
    assert len(value) == COMMITMENT_BYTES
    verify_commitment(salt, canonical, value)


def test_salt_hides_equal_content() -> None:
    canonical = parse_record(data_update()).canonical_bytes()
    assert commitment(new_salt(), canonical) != commitment(new_salt(), canonical)


@pytest.mark.parametrize(
    ("salt", "canonical", "message"),
    [
        (b"\x00" * 31, b"{}", "salt must be exactly 32 bytes, got 31"),
        (b"\x00" * 33, b"{}", "salt must be exactly 32 bytes, got 33"),
        (b"", b"{}", "salt must be exactly 32 bytes, got 0"),
        ("a" * 32, b"{}", "salt must be bytes, got str"),
        (b"\x00" * 32, b"", "canonical form is empty"),
        (b"\x00" * 32, "{}", "canonical form must be bytes, got str"),
    ],
)
def test_preconditions(salt: bytes, canonical: bytes, message: str) -> None:
    with pytest.raises(CommitmentError, match=message):
        commitment(salt, canonical)


def test_mismatch_and_malformed_expected() -> None:
    salt, canonical = new_salt(), b'{"a":1}'
    with pytest.raises(CommitmentMismatch) as caught:
        verify_commitment(salt, b'{"a":2}', commitment(salt, canonical))
    assert isinstance(caught.value, VerificationError)
    assert caught.value.expected == commitment(salt, canonical)
    with pytest.raises(CommitmentMismatch):
        verify_commitment(new_salt(), canonical, commitment(salt, canonical))
    with pytest.raises(CommitmentError, match="commitment must be exactly 32 bytes, got 3"):
        verify_commitment(salt, canonical, b"abc")
