"""The checkpoint routes over a real global log: notes and JSON for every role, the proof
route is `checkpoint prove`'s body, and cosignatures are stored only from registered,
unrevoked witnesses under their own name, each refusal named."""

from __future__ import annotations

import base64

import pytest
from credit_ledger_client import InvalidInput, NotFound
from credit_ledger_verify.tlog import (
    CheckpointPolicy,
    SignerKey,
    cosign,
    parse_note,
    verify_checkpoint,
)

from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import prove_consistency
from ledger_service.tlog.witnesses import (
    WitnessKeyError,
    list_witnesses,
    register_witness,
    revoke_witness,
)
from tests.unit.witness.conftest import NOW, ORIGIN, LogHarness


def test_checkpoints_are_served_to_every_role_as_notes_and_json(harness: LogHarness) -> None:
    first = harness.grow(3)
    latest = harness.grow(5)
    for role in ("writer", "verifier", "auditor", "admin", "witness"):
        headers = {"Authorization": f"Bearer {harness.token(role, f'{role}-reader')}"}
        answer = harness.http.get("/v1/checkpoints/latest", headers=headers)
        assert answer.status_code == 200, (role, answer.text)
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.content == latest.note
    reader = harness.client("verifier", "bank")
    assert reader.checkpoint(3).note == first.note
    assert reader.checkpoint().checkpoint == latest.checkpoint
    as_json = harness.http.get(
        "/v1/checkpoints/8",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {harness.token('auditor', 'csrc')}"},
    ).json()
    assert as_json["size"] == 8
    assert as_json["origin"] == ORIGIN
    assert base64.b64decode(as_json["root"]) == latest.checkpoint.root
    assert as_json["note"].encode() == latest.note
    assert as_json["signers"] == [ORIGIN]
    with pytest.raises(NotFound, match="no checkpoint of size 4"):
        reader.checkpoint(4)


def test_the_proof_route_answers_what_checkpoint_prove_prints(harness: LogHarness) -> None:
    harness.grow(3)
    harness.grow(6)
    reader = harness.client("witness", "any")
    with harness.ledger.session_factory() as session:
        expected = prove_consistency(session, ORIGIN, 3, 9)
    assert reader.consistency_proof(3, 9) == expected
    assert reader.consistency_proof(0, 9).proof == ()
    with pytest.raises(NotFound):
        reader.consistency_proof(9, 3)


def test_a_registered_witness_cosignature_is_stored_and_served(harness: LogHarness) -> None:
    stored = harness.grow(4)
    directory, client = harness.new_witness("bank-witness")
    key = directory.load()[0].key
    line = cosign(key, parse_note(stored.note).text, 1_700_000_000).line()
    client.submit_cosignature(4, line)
    client.submit_cosignature(4, line)  # the same line again: a no-op
    served = client.checkpoint(4).note
    assert served == stored.note + line.encode()
    policy = CheckpointPolicy(harness.log_key.verifier, (key.verifier,), 1)
    assert [c.name for c in verify_checkpoint(served, policy).cosignatures] == ["bank-witness"]


def test_cosignatures_are_refused_by_name_and_nothing_is_stored(harness: LogHarness) -> None:
    stored = harness.grow(4)
    text = parse_note(stored.note).text
    other = harness.grow(2)
    bank, bank_client = harness.new_witness("bank-witness")
    bank_key = bank.load()[0].key
    stranger, stranger_client = harness.new_witness("stranger", register=False)
    stranger_key = stranger.load()[0].key
    _, regulator_client = harness.new_witness("regulator-witness")

    cases = [
        (stranger_client, cosign(stranger_key, text, 5).line(), "is not registered"),
        (bank_client, cosign(bank_key, parse_note(other.note).text, 5).line(), "does not verify"),
        (regulator_client, cosign(bank_key, text, 5).line(), "submits for 'regulator-witness'"),
        (bank_client, "— bank-witness not-base64", "not valid base64"),
        (bank_client, "two\nlines", "one signature line"),
    ]
    for client, line, message in cases:
        with pytest.raises(InvalidInput, match=message) as refused:
            client.submit_cosignature(4, line)
        assert refused.value.problem_code == "cosignature_refused"
    assert bank_client.checkpoint(4).note == stored.note

    bank_client.submit_cosignature(4, cosign(bank_key, text, 6).line())
    with write_session(harness.ledger.session_factory) as session:
        revoke_witness(session, "bank-witness", NOW)
    assert bank_client.checkpoint(4).note == stored.note  # a revoked witness is not served
    with pytest.raises(InvalidInput, match=r"bank-witness' key [0-9a-f]{8} is revoked"):
        bank_client.submit_cosignature(4, cosign(bank_key, text, 7).line())
    with pytest.raises(NotFound):
        bank_client.submit_cosignature(99, cosign(bank_key, text, 7).line())


def test_witness_registration_refuses_what_cannot_cosign(harness: LogHarness) -> None:
    cosigner = SignerKey.generate("bank-witness", 0x04).verifier
    with write_session(harness.ledger.session_factory) as session:
        with pytest.raises(WitnessKeyError, match="a witness key is a cosigner key"):
            register_witness(session, harness.log_key.verifier.encode(), NOW)
        name, _, material = cosigner.encode().split("+", 2)
        with pytest.raises(WitnessKeyError, match="key ID 00000000 does not match"):
            register_witness(session, f"{name}+00000000+{material}", NOW)
        first = register_witness(session, cosigner.encode(), NOW)
        assert register_witness(session, cosigner.encode(), NOW) == first  # idempotent
        rotated = SignerKey.generate("bank-witness", 0x04).verifier
        with pytest.raises(WitnessKeyError, match="has another active key"):
            register_witness(session, rotated.encode(), NOW)
        revoke_witness(session, "bank-witness", NOW)
        with pytest.raises(WitnessKeyError, match="was revoked"):
            register_witness(session, cosigner.encode(), NOW)
        register_witness(session, rotated.encode(), NOW)  # a new key after the revocation
        with pytest.raises(WitnessKeyError, match="no active witness key named 'nobody'"):
            revoke_witness(session, "nobody", NOW)
        listed = [(w.name, w.key, w.revoked_at is None) for w in list_witnesses(session)]
    assert sorted(listed, key=lambda w: w[2]) == [
        ("bank-witness", cosigner, False),
        ("bank-witness", rotated, True),
    ]
