"""Walks tests/data/evidence/checkpoint/cases/*.json: each is ONE mutation of the golden
checkpoint-form bundle (captured from a real network by scripts/regen_checkpoint_evidence.py)
and names the step that must fail first, with a fragment of its message; the golden bundle
and its redacted twin verify. Mutations inside the packed block are applied to the unpacked
bytes and packed again, as a forger would."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.evidence.packed_block import (
    pack_block,
    packing_dictionary,
    unpack_block,
)
from credit_ledger_verify.tlog import CheckpointPolicy, VerifierKey
from cryptography.hazmat.primitives.serialization import Encoding

from ledger_service.evidence import CheckpointStep, StepStatus, TrustStore, Verifier

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence" / "checkpoint"
CASES = sorted((DATA / "cases").glob("*.json"))
_HEX = re.compile(r"[0-9a-f]+")


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "bundle.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    key = VerifierKey.parse((DATA / "log.vkey").read_text().strip())
    return Verifier(TrustStore.load(DATA / "trust"), checkpoint_policy=CheckpointPolicy(key))


def _parent(bundle: dict[str, Any], path: list[Any]) -> tuple[Any, Any]:
    node: Any = bundle
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


def _flip_text(value: str, offset: int) -> str:
    if _HEX.fullmatch(value) and len(value) % 2 == 0:
        raw = bytearray(bytes.fromhex(value))
        raw[offset] ^= 0x01
        return raw.hex()
    raw = bytearray(base64.b64decode(value))
    raw[offset] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _dictionary(bundle: dict[str, Any], note: str) -> bytes:
    trust = TrustStore.load(DATA / "trust")
    cas = bundle["anchor"]["cas"]
    der = [c.public_bytes(Encoding.DER) for m in cas for c in trust.msps[m].ca_certs]
    return packing_dictionary(der, note.encode())


def _repack(bundle: dict[str, Any], old_note: str, edit: Any) -> None:
    anchor = bundle["anchor"]
    packed = base64.b64decode(anchor["packed"])
    data, sigs, codes = unpack_block(packed, dictionary=_dictionary(bundle, old_note))
    data, sigs = edit(data, sigs)
    repacked = pack_block(data, sigs, codes, dictionary=_dictionary(bundle, bundle["checkpoint"]))
    anchor["packed"] = base64.b64encode(repacked).decode()


def _flip(raw: bytes, offset: int) -> bytes:
    out = bytearray(raw)
    out[offset] ^= 0x01
    return bytes(out)


def mutate(golden: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(golden)
    note = bundle["checkpoint"]
    op = m["op"]
    if op in ("set", "flip", "add", "truncate", "delete"):
        node, key = _parent(bundle, m["path"])
        if op == "delete":
            del node[key]
        elif op == "set":
            node[key] = m["value"]
        elif op == "flip":
            node[key] = _flip_text(node[key], m["offset"])
        elif op == "add":
            node[key] += m["value"]
        else:
            raw = base64.b64decode(node[key])
            node[key] = base64.b64encode(raw[: -m["bytes"]]).decode()
    elif op == "note-signature":
        text, _, lines = note.partition("\n\n")
        sig_lines = lines.rstrip("\n").split("\n")
        name, _, blob = sig_lines[m["index"]][2:].rpartition(" ")
        raw = base64.b64decode(blob)
        sig_lines[m["index"]] = f"— {name} {base64.b64encode(_flip(raw, len(raw) - 2)).decode()}"
        bundle["checkpoint"] = text + "\n\n" + "\n".join(sig_lines) + "\n"
    elif op == "note-swap":
        bundle["checkpoint"] = m["value"]
        _repack(bundle, note, lambda data, sigs: (data, sigs))
    elif op == "packed":

        def edit(data: list[bytes], sigs: bytes) -> tuple[list[bytes], bytes]:
            if m["part"] == "signatures":
                return data, _flip(sigs, m["offset"])
            data[m["index"]] = _flip(data[m["index"]], m["offset"])
            return data, sigs

        _repack(bundle, note, edit)
    else:
        raise AssertionError(f"unknown op {op!r}")
    return bundle


def test_golden_bundles_verify(golden: dict[str, Any], verifier: Verifier) -> None:
    for name in ("bundle.json", "redacted.json"):
        result = verifier.verify((DATA / name).read_bytes())
        assert result.ok, result.messages
        (outcome,) = result.records
        assert [s.step for s in outcome.steps] == list(CheckpointStep)[1:]
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, golden: dict[str, Any], verifier: Verifier) -> None:
    case = json.loads(path.read_text())
    expect = case["expect"]
    result = verifier.verify(json.dumps(mutate(golden, case["mutation"])).encode())
    if expect["step"] == "bundle":
        assert result.error is not None
        assert expect["message"] in result.error, result.error
        return
    assert result.error is None, result.error
    (outcome,) = result.records
    failure = outcome.failure
    assert failure is not None, f"{path.stem}: verified"
    assert failure.status is StepStatus.FAILED, outcome.message
    assert failure.name == expect["step"], outcome.message
    assert expect["message"] in failure.detail, outcome.message
    assert outcome.message.startswith(f"step {int(failure.step)} ({expect['step']}): ")


def test_without_a_log_key_step_3_fails(golden: dict[str, Any]) -> None:
    result = Verifier(TrustStore.load(DATA / "trust")).verify(golden)
    failure = result.records[0].failure
    assert failure is not None
    assert failure.step is CheckpointStep.CHECKPOINT
    assert "no log key" in failure.detail


def test_another_log_key_fails_step_3(golden: dict[str, Any]) -> None:
    from credit_ledger_verify.tlog import SignerKey

    other = SignerKey.generate(VerifierKey.parse((DATA / "log.vkey").read_text().strip()).name)
    verifier = Verifier(
        TrustStore.load(DATA / "trust"), checkpoint_policy=CheckpointPolicy(other.verifier)
    )
    failure = verifier.verify(golden).records[0].failure
    assert failure is not None
    assert failure.step is CheckpointStep.CHECKPOINT


def test_signature_policy_skips_the_chain_and_says_so(golden: dict[str, Any]) -> None:
    """checkpoint_chain=False (the fast policy): steps 4-7 are skipped, never 'passed' — a
    forged block then goes unnoticed, which is what that policy accepts."""
    key = VerifierKey.parse((DATA / "log.vkey").read_text().strip())
    fast = Verifier(
        TrustStore.load(DATA / "trust"),
        checkpoint_policy=CheckpointPolicy(key),
        checkpoint_chain=False,
    )
    forged = mutate(golden, {"op": "set", "path": ["anchor", "packed"], "value": "AAAA"})
    outcome = fast.verify(forged).records[0]
    assert outcome.ok
    assert [s.status for s in outcome.steps[3:]] == [StepStatus.SKIPPED] * 4
    assert "not checked by policy" in outcome.steps[3].detail
    tampered = mutate(golden, {"op": "flip", "path": ["records", 0, "salt"], "offset": 1})
    assert fast.verify(tampered).records[0].failure.step is CheckpointStep.INCLUSION  # type: ignore[union-attr]


def test_a_policy_requiring_a_witness_needs_its_cosignature(golden: dict[str, Any]) -> None:
    """k = 1 of a named witness: the anchored note alone fails step 3; the same note with
    the witness's cosignature line (block re-packed for the longer note) verifies, steps 1-7,
    because the anchored value is compared by the note's text, not its signature lines."""
    from credit_ledger_verify.tlog import ED25519_COSIGNATURE, SignerKey, cosign, parse_note
    from credit_ledger_verify.tlog.note import encode_note

    log_key = VerifierKey.parse((DATA / "log.vkey").read_text().strip())
    witness = SignerKey.generate("witness.bank.example", ED25519_COSIGNATURE)
    policy = CheckpointPolicy(log_key, (witness.verifier,), witnesses_required=1)
    verifier = Verifier(TrustStore.load(DATA / "trust"), checkpoint_policy=policy)
    failure = verifier.verify(golden).records[0].failure
    assert failure is not None
    assert failure.step is CheckpointStep.CHECKPOINT
    assert "0 valid witness cosignature(s), 1 required" in failure.detail

    note = parse_note(golden["checkpoint"])
    signed = [*note.signatures, cosign(witness, note.text, 1_764_000_000)]
    cosigned = encode_note(note.text, signed).decode()
    bundle = mutate(golden, {"op": "note-swap", "value": cosigned})
    result = verifier.verify(bundle)
    assert result.ok, result.messages
    assert "witness.bank.example" in result.records[0].steps[2].detail
