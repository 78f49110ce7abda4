"""The CBOR serialisation of checkpoint-form bundles (evidence/binary_form.py): the golden
bundles and every golden mutation (tests/data/evidence/checkpoint/cases) give the same result
in CBOR as in JSON; malformed CBOR is refused before any cryptography."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from credit_ledger_verify.evidence.binary_form import (
    decode_cbor_bundle,
    encode_cbor_bundle,
    is_cbor_bundle,
)
from credit_ledger_verify.tlog import CheckpointPolicy, VerifierKey

from ledger_service.evidence import BundleShapeError, TrustStore, Verifier
from tests.unit.evidence.test_checkpoint_cases import CASES, DATA, mutate


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "bundle.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    key = VerifierKey.parse((DATA / "log.vkey").read_text().strip())
    return Verifier(TrustStore.load(DATA / "trust"), checkpoint_policy=CheckpointPolicy(key))


def _outcome(verifier: Verifier, data: bytes) -> tuple[str | None, str | None]:
    """(bundle error, first failing step's name) of a verification."""
    result = verifier.verify(data)
    if result.error is not None:
        return result.error, None
    (record,) = result.records
    return None, None if record.failure is None else record.failure.name


@pytest.mark.parametrize("name", ["bundle.json", "redacted.json"])
def test_golden_bundles_verify_in_cbor_and_are_smaller(name: str, verifier: Verifier) -> None:
    text = (DATA / name).read_bytes()
    binary = encode_cbor_bundle(json.loads(text))
    assert is_cbor_bundle(binary)
    assert not is_cbor_bundle(text)
    result = verifier.verify(binary)
    assert result.ok, result.messages
    # the base64 of the packed block, proof, salt and hashes is gone
    assert len(binary) < len(text) * 0.82
    assert len(binary) <= 4096


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_golden_mutation_fails_the_same_in_cbor(
    path: Path, golden: dict[str, Any], verifier: Verifier
) -> None:
    case = json.loads(path.read_text())
    mutated = mutate(golden, case["mutation"])
    as_json = _outcome(verifier, json.dumps(mutated).encode())
    try:
        binary = encode_cbor_bundle(mutated)
    except BundleShapeError:
        # a binary field that is not base64 at all cannot be carried as bytes: such a
        # mutation is a format defect of the JSON spelling
        assert case["expect"]["step"] in ("bundle", "format"), case
        return
    as_cbor = _outcome(verifier, binary)
    if as_json[0] is not None:
        assert as_cbor[0] is not None, case
    else:
        assert as_cbor == as_json, case


def _refused(verifier: Verifier, data: bytes, fragment: str) -> None:
    result = verifier.verify(data)
    assert result.error is not None, result.messages
    assert fragment in result.error, result.error


def test_malformed_cbor_is_refused_by_name(golden: dict[str, Any], verifier: Verifier) -> None:
    binary = encode_cbor_bundle(golden)
    _refused(verifier, binary + b"\x00", "not CBOR")  # trailing data
    _refused(verifier, binary[:-5], "not CBOR")  # truncated
    # the same map encoded non-deterministically (keys in insertion order, not sorted)
    obj = cbor2.loads(binary)
    shuffled = dict(reversed(list(obj.items())))
    _refused(verifier, cbor2.dumps(shuffled), "deterministic encoding")
    # a duplicate key: the decoded map has one, so its deterministic encoding differs
    dup = bytearray(binary)
    dup[0] += 1  # one more pair announced ...
    extra = cbor2.dumps("form", canonical=True) + cbor2.dumps("checkpoint")
    _refused(verifier, bytes(dup) + extra, "deterministic encoding")
    # a binary field spelled as base64 text, as JSON would
    texty = dict(obj)
    texty["anchor"] = {**obj["anchor"], "packed": golden["anchor"]["packed"]}
    _refused(verifier, cbor2.dumps(texty, canonical=True), "anchor.packed: must be a CBOR byte")
    # a field of the wrong type is named by the shape parser, as in JSON; a tag is not in
    # the bundle's data model at all
    floaty = {**obj, "created_at": 1.5}
    _refused(verifier, cbor2.dumps(floaty, canonical=True), "created_at")
    tagged = {**obj, "created_at": cbor2.CBORTag(1, 1700000000)}
    _refused(verifier, cbor2.dumps(tagged, canonical=True), "is not allowed")
    # only the checkpoint form has a CBOR serialisation
    other = {**obj, "format": "credit-ledger-evidence/3"}
    _refused(verifier, cbor2.dumps(other, canonical=True), "defined for credit-ledger-evidence/5")


def test_decode_gives_the_json_object_back(golden: dict[str, Any]) -> None:
    decoded = decode_cbor_bundle(encode_cbor_bundle(golden))
    assert isinstance(decoded["anchor"]["packed"], bytes)
    assert decoded["checkpoint"] == golden["checkpoint"]
    assert decoded["records"][0]["content"] == golden["records"][0]["content"]
