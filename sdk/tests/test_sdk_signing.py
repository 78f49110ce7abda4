"""The SDK signs byte-identically to the service: the shared vectors (tests/data/signing/,
made by the service's code) rebuilt with the SDK's Writer; keys from seed, base64 or PEM."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_client import Writer
from credit_ledger_client._wire import encode_records
from credit_ledger_verify.errors import ValidationError
from credit_ledger_verify.records import parse_record
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VECTORS = sorted((Path(__file__).parents[2] / "tests" / "data" / "signing").glob("*.json"))


def test_the_shared_vectors_are_there() -> None:
    assert len(VECTORS) >= 5


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_sdk_signs_the_vector_byte_identically(path: Path) -> None:
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    writer = Writer(vector["record"]["actor"], vector["seed_b64"])
    assert writer.public_key_b64 == vector["public_key_b64"]
    record = parse_record(vector["record"])
    assert record.signing_bytes().hex() == vector["signing_bytes_hex"]
    signed = writer.sign(record)
    assert signed.signature == vector["signature_b64"]
    assert signed.canonical_bytes().hex() == vector["canonical_bytes_hex"]
    # and building the same record from its fields gives the same bytes
    fields = {k: v for k, v in vector["record"].items() if k != "kind"}
    built = writer.build(vector["record"]["kind"], **fields)
    assert built.canonical_bytes().hex() == vector["canonical_bytes_hex"]


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_the_json_sent_is_the_records_json(path: Path) -> None:
    # the SDK encodes with pydantic's serializer; the service must read the record it signed
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    signed = Writer(vector["record"]["actor"], vector["seed_b64"]).sign(
        parse_record(vector["record"])
    )
    encoded = encode_records([signed, signed.to_json_dict()])
    assert encoded.ids == [signed.record_id, signed.record_id]
    sent, sent_as_mapping = (json.loads(body) for body in encoded.bodies)
    assert sent == sent_as_mapping == signed.to_json_dict()
    assert parse_record(encoded.bodies[0]).canonical_bytes().hex() == vector["canonical_bytes_hex"]


def test_keys_from_pem_and_base64_files(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    (tmp_path / "w.pem").write_bytes(pem)
    (tmp_path / "w.b64").write_text(base64.b64encode(seed).decode() + "\n")
    a = Writer.from_file("w", tmp_path / "w.pem")
    b = Writer.from_file("w", tmp_path / "w.b64")
    assert a.public_key == b.public_key == Writer("w", seed).public_key
    assert base64.b64encode(seed).decode() not in repr(a)


def test_bad_keys_and_records_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 3"):
        Writer("w", b"abc")
    with pytest.raises(ValueError, match="base64"):
        Writer("w", "not base64!")
    writer = Writer("w", bytes(32))
    with pytest.raises(ValidationError) as caught:
        writer.build(
            "data_update",
            record_id="r-1",
            subject="bad",
            occurred_at="2026-01-01T00:00:00Z",
            source="s",
            payload={},
        )
    assert (caught.value.record_id, caught.value.field) == ("r-1", "subject")


def test_objection_helpers_build_signed_case_steps() -> None:
    writer = Writer("platform", base64.b64encode(bytes(range(32))).decode())
    envelope = {"occurred_at": "2026-03-01T08:00:00Z", "source": "objection-desk"}
    subject = "91110000100000000R"
    opened = writer.open_objection(
        disputes="rec-si", subject=subject, reason="arrears were paid", **envelope
    )
    assert opened.kind == "objection"
    assert opened.disputes == "rec-si"
    assert opened.to_json_dict()["payload"] == {"step": "opened", "reason": "arrears were paid"}
    corrected = writer.resolve_objection(
        case=opened.record_id,
        step="corrected",
        subject=subject,
        reason="the agency corrected it",
        correction="rec-si-2",
        **envelope,
    )
    assert corrected.disputes is None
    assert corrected.to_json_dict()["payload"]["correction"] == "rec-si-2"
    assert parse_record(corrected.to_json_dict()).canonical_bytes() == corrected.canonical_bytes()
    with pytest.raises(ValidationError, match=r"payload\.correction: is required"):
        writer.resolve_objection(
            case=opened.record_id, step="corrected", subject=subject, reason="x", **envelope
        )
    with pytest.raises(ValidationError, match=r"payload\.case: is required"):
        writer.build(
            "objection", subject=subject, payload={"step": "upheld", "reason": "ok"}, **envelope
        )
