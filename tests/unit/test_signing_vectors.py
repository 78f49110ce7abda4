"""The shared signing vectors (tests/data/signing/, made by scripts/regen_signing_vectors.py)
hold for the service's signing code: the same canonical bytes and signature, byte for byte,
and the signature verifies. The SDK checks the same files (sdk/tests/test_signing.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.records import parse_record

from ledger_service.errors import SignatureError
from ledger_service.signing import sign_record, verify_record_signature

VECTORS = sorted((Path(__file__).parents[1] / "data" / "signing").glob("*.json"))


def test_there_is_a_vector_per_kind_and_one_for_unicode() -> None:
    assert {p.stem for p in VECTORS} >= {
        "data_update", "score_change", "financing_event", "credit_repair", "unicode_and_numbers"
    }  # fmt: skip


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_service_signs_the_vector_byte_identically(path: Path) -> None:
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    record = parse_record(vector["record"])
    assert record.signing_bytes().hex() == vector["signing_bytes_hex"]
    signed = sign_record(record, vector["seed_b64"])
    assert signed.signature == vector["signature_b64"]
    assert signed.canonical_bytes().hex() == vector["canonical_bytes_hex"]
    verify_record_signature(signed, vector["public_key_b64"])


@pytest.mark.parametrize("path", VECTORS[:1], ids=lambda p: p.stem)
def test_a_changed_record_does_not_verify_under_the_vector_signature(path: Path) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    altered = dict(vector["record"], source="someone-else", signature=vector["signature_b64"])
    with pytest.raises(SignatureError):
        verify_record_signature(parse_record(altered), vector["public_key_b64"])
