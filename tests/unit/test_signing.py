"""Writer signatures over records: sign, verify, and every way verification must fail."""

from __future__ import annotations

import base64

import pytest
from credit_ledger_verify.records import Record, parse_record
from nacl.signing import SigningKey

from ledger_service.errors import SignatureError, ValidationError, VerificationError
from ledger_service.signing import (
    WriterKey,
    generate_writer_key,
    load_signing_key,
    load_verify_key,
    sign_record,
    verify_record_signature,
)
from tests.unit.test_records import credit_repair, data_update, financing_event


@pytest.fixture
def writer() -> WriterKey:
    return generate_writer_key()


def _signed(writer: WriterKey) -> Record:
    return sign_record(parse_record(financing_event()), writer.signing_key_b64)


def test_generated_keys_are_base64_of_32_bytes(writer: WriterKey) -> None:
    assert len(base64.b64decode(writer.signing_key_b64)) == 32
    assert len(base64.b64decode(writer.verify_key_b64)) == 32
    assert writer.signing_key_b64 not in repr(writer)
    assert generate_writer_key() != writer


def test_sign_then_verify(writer: WriterKey) -> None:
    record = _signed(writer)
    assert record.signature is not None
    assert len(base64.b64decode(record.signature)) == 64
    verify_record_signature(record, writer.verify_key_b64)
    verify_record_signature(record, base64.b64decode(writer.verify_key_b64))
    verify_record_signature(record, load_verify_key(writer.verify_key_b64))


def test_signature_survives_json_round_trip(writer: WriterKey) -> None:
    record = _signed(writer)
    verify_record_signature(parse_record(record.canonical_bytes()), writer.verify_key_b64)


def test_signature_is_deterministic_and_over_signing_bytes(writer: WriterKey) -> None:
    record = _signed(writer)
    again = _signed(writer)
    assert record.signature == again.signature  # Ed25519 is deterministic
    key = SigningKey(base64.b64decode(writer.signing_key_b64))
    expected = key.sign(parse_record(financing_event()).signing_bytes()).signature
    assert record.signature == base64.b64encode(expected).decode()


def test_accepts_key_objects_and_raw_bytes(writer: WriterKey) -> None:
    raw = base64.b64decode(writer.signing_key_b64)
    unsigned = parse_record(data_update())
    assert sign_record(unsigned, raw) == sign_record(unsigned, load_signing_key(raw))


def test_unsigned_record_fails(writer: WriterKey) -> None:
    with pytest.raises(SignatureError, match='record "r-17": signature: record is not signed'):
        verify_record_signature(parse_record(data_update()), writer.verify_key_b64)


def test_wrong_key_fails(writer: WriterKey) -> None:
    record = _signed(writer)
    with pytest.raises(SignatureError, match="does not verify") as caught:
        verify_record_signature(record, generate_writer_key().verify_key_b64)
    assert caught.value.record_id == "r-17"
    assert isinstance(caught.value, VerificationError)


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "someone-else"},
        {"parents": ["s-1", "s-2"]},
        {"occurred_at": "2024-05-01T00:00:01Z"},
        {"record_id": "r-18"},
    ],
)
def test_tampered_envelope_fails(writer: WriterKey, change: dict[str, object]) -> None:
    record = _signed(writer)
    tampered = parse_record({**record.to_json_dict(), **change})
    with pytest.raises(SignatureError):
        verify_record_signature(tampered, writer.verify_key_b64)


def test_tampered_payload_fails(writer: WriterKey) -> None:
    data = _signed(writer).to_json_dict()
    data["payload"]["amount"]["value"] = "1000000.01"
    with pytest.raises(SignatureError, match='record "r-17"'):
        verify_record_signature(parse_record(data), writer.verify_key_b64)


def test_signature_moved_to_another_record_fails(writer: WriterKey) -> None:
    signature = _signed(writer).signature
    assert signature is not None
    other = parse_record(credit_repair()).with_signature(signature)
    with pytest.raises(SignatureError):
        verify_record_signature(other, writer.verify_key_b64)


def test_flipped_signature_bit_fails(writer: WriterKey) -> None:
    record = _signed(writer)
    assert record.signature is not None
    raw = bytearray(base64.b64decode(record.signature))
    raw[10] ^= 1
    forged = record.with_signature(base64.b64encode(bytes(raw)).decode())
    with pytest.raises(SignatureError):
        verify_record_signature(forged, writer.verify_key_b64)


@pytest.mark.parametrize("bad_key", ["not base64!", base64.b64encode(b"short").decode(), b"x" * 31])
def test_malformed_verify_key(writer: WriterKey, bad_key: str | bytes) -> None:
    with pytest.raises(SignatureError, match="unusable verify key"):
        verify_record_signature(_signed(writer), bad_key)


def test_malformed_signing_key() -> None:
    with pytest.raises(ValueError, match="signing key must be 32 bytes, got 5"):
        sign_record(parse_record(data_update()), b"short")


def test_refuses_to_resign(writer: WriterKey) -> None:
    with pytest.raises(ValidationError, match="already signed"):
        sign_record(_signed(writer), writer.signing_key_b64)


def test_sign_keeps_concrete_type(writer: WriterKey) -> None:
    record = parse_record(data_update())
    assert type(sign_record(record, writer.signing_key_b64)) is type(record)
