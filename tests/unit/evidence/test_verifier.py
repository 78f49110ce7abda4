"""The offline verifier on a bundle captured from the real network (tests/data/evidence).

Mutations that need no Fabric bytes rebuilt are data files (tests/data/evidence/cases, walked
by test_cases.py); the cases here edit envelopes, signatures and trust stores.

A valid bundle verifies step by step; every kind of tampering is caught at the step the
format spec names, with the record id and the reason in the message.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify import verify_bundle as public_verify_bundle
from credit_ledger_verify.fabric import blocks
from credit_ledger_verify.onchain import encode_record_value, record_key
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_response_pb2, transaction_pb2
from typer.testing import CliRunner

from ledger_service.cli import app
from ledger_service.evidence import (
    EvidenceError,
    EvidenceVerificationError,
    IdentityError,
    MspRole,
    RecordOutcome,
    Step,
    StepStatus,
    TrustStore,
    Verifier,
    verify_bundle,
)
from tests.unit.evidence.synthetic import self_signed_ca

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

Bundle = dict[str, Any]


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore.load(DATA / "trust")


@pytest.fixture(scope="module")
def saved() -> Bundle:
    data: Bundle = json.loads((DATA / "bundle.json").read_bytes())
    return data


@pytest.fixture
def bundle(saved: Bundle) -> Bundle:
    return copy.deepcopy(saved)


# -- helpers ----------------------------------------------------------------------------------


def only(bundle: Bundle, index: int = 0) -> Bundle:
    """The bundle reduced to one record (blocks kept)."""
    out = copy.deepcopy(bundle)
    out["records"] = [out["records"][index]]
    return out


def check_one(bundle: Bundle, trust: TrustStore) -> RecordOutcome:
    result = Verifier(trust).verify(bundle)
    assert result.error is None, result.error
    (outcome,) = result.records
    return outcome


def failed_steps(outcome: RecordOutcome) -> list[Step]:
    return [s.step for s in outcome.failures]


def assert_fails(outcome: RecordOutcome, step: Step, *needles: str) -> None:
    assert not outcome.ok
    failure = outcome.failure
    assert failure is not None
    assert failure.step is step, outcome.message
    rid = outcome.record_id
    assert outcome.message.startswith(f'step {int(step)} ({failure.name}): record "{rid}": ')
    for needle in needles:
        assert needle in outcome.message, outcome.message


def block_of(bundle: Bundle, record: dict[str, Any]) -> dict[str, Any]:
    number = record["anchor"]["block_number"]
    entry: dict[str, Any] = next(b for b in bundle["blocks"] if b["number"] == number)
    return entry


def tx_index_of(bundle: Bundle, record: dict[str, Any]) -> int:
    block = block_of(bundle, record)
    return int(
        next(
            t["tx_index"] for t in block["transactions"] if t["tx_id"] == record["anchor"]["tx_id"]
        )
    )


def envelope_of(bundle: Bundle, record: dict[str, Any]) -> bytes:
    return base64.b64decode(block_of(bundle, record)["data"][tx_index_of(bundle, record)])


def set_envelope(
    bundle: Bundle, record: dict[str, Any], envelope: bytes, *, fix_data_hash: bool = False
) -> None:
    block = block_of(bundle, record)
    block["data"][tx_index_of(bundle, record)] = base64.b64encode(envelope).decode()
    if fix_data_hash:
        data = [base64.b64decode(d) for d in block["data"]]
        block["data_hash"] = blocks.block_data_hash(data).hex()


def edit_endorsed_action(
    envelope: bytes, edit: Callable[[transaction_pb2.ChaincodeEndorsedAction], None]
) -> bytes:
    env = common_pb2.Envelope.FromString(envelope)
    payload = common_pb2.Payload.FromString(env.payload)
    tx = transaction_pb2.Transaction.FromString(payload.data)
    cap = transaction_pb2.ChaincodeActionPayload.FromString(tx.actions[0].payload)
    edit(cap.action)
    tx.actions[0].payload = cap.SerializeToString()
    payload.data = tx.SerializeToString()
    env.payload = payload.SerializeToString()
    return env.SerializeToString()


def other_r(signature: bytes) -> bytes:
    r, s = decode_dss_signature(signature)
    return encode_dss_signature(r ^ 1, s)


def make_ca(common_name: str) -> bytes:
    now = dt.datetime.now(dt.UTC)
    _, cert = self_signed_ca(
        common_name,
        valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=365),
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_of(trust: TrustStore, msp_id: str) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in trust.msps[msp_id].ca_certs)


# -- valid bundles ----------------------------------------------------------------------------


def test_saved_bundle_verifies_every_step(saved: Bundle, trust: TrustStore) -> None:
    verifier = Verifier(trust)
    result = verifier.verify(json.dumps(saved).encode())
    assert result.ok, result.messages
    assert len(result.records) == len(saved["records"]) == 45
    for outcome in result.records:
        assert [s.step for s in outcome.steps] == [Step(i) for i in range(1, 7)]
        assert all(s.status is StepStatus.PASSED for s in outcome.steps)
        assert outcome.message == f'record "{outcome.record_id}": verified'
        assert outcome.block_header_hash is not None
    # the heavy part once per block and once per transaction
    n_tx = sum(len(b["transactions"]) for b in saved["blocks"])
    assert verifier.stats.blocks_checked == len(saved["blocks"]) == 2
    assert verifier.stats.transactions_checked == n_tx == 6
    assert result.messages == []
    result.raise_for_failure()


def test_header_hash_reported_is_fabrics(saved: Bundle, trust: TrustStore) -> None:
    result = Verifier(trust).verify(saved)
    for block in saved["blocks"]:
        expected = blocks.block_header_hash(
            block["number"],
            bytes.fromhex(block["previous_hash"]),
            bytes.fromhex(block["data_hash"]),
        ).hex()
        numbers = {r.block_header_hash for r in result.records if r.block_number == block["number"]}
        assert numbers == {expected}
    # consecutive blocks chain: the later one's previous_hash is the earlier one's header hash
    first, second = saved["blocks"]
    if second["number"] == first["number"] + 1:
        assert second["previous_hash"] == next(
            r.block_header_hash for r in result.records if r.block_number == first["number"]
        )


def test_redacted_bundle_verifies_without_content(saved: Bundle, trust: TrustStore) -> None:
    redacted = copy.deepcopy(saved)
    for record in redacted["records"]:
        del record["content"]
        del record["salt"]
    result = Verifier(trust).verify(redacted)
    assert result.ok, result.messages
    for outcome in result.records:
        assert outcome.redacted
        assert outcome.step(Step.CONTENT).status is StepStatus.SKIPPED  # type: ignore[union-attr]
        assert outcome.message.endswith("verified (redacted: content not checked)")


def test_chain_layout_of_record_values(saved: Bundle) -> None:
    """The record's key is its commitment, its value is byte for byte what onchain.py
    encodes, and no key or value of the transaction names a record id."""
    record = saved["records"][0]
    info = blocks.parse_envelope(envelope_of(saved, record))
    writes = {w.key: w.value for w in info.writes()[record["anchor"]["chaincode"]]}
    assert writes[record_key(bytes.fromhex(record["commitment"]))] == encode_record_value(
        record["merkle"]["leaf_index"], record["anchor"]["batch_id"]
    )
    ids = {r["record_id"] for r in saved["records"]}
    on_chain = " ".join(k + v.decode("latin-1") for k, v in writes.items())
    assert not any(rid in on_chain for rid in ids)


# -- step 1: content ---------------------------------------------------------------------------


def test_content_that_is_not_a_record(bundle: Bundle, trust: TrustStore) -> None:
    import hashlib

    one = only(bundle, 0)
    record = one["records"][0]
    record["content"] = '{"hello":"world"}'
    record["commitment"] = hashlib.sha256(
        bytes.fromhex(record["salt"]) + record["content"].encode()
    ).hexdigest()
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.CONTENT, "content is not a valid record")


# -- step 2: merkle ---------------------------------------------------------------------------


def test_wrong_leaf_index(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 2)
    merkle = one["records"][0]["merkle"]
    merkle["leaf_index"] = (merkle["leaf_index"] + 1) % merkle["tree_size"]
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.MERKLE)
    assert failed_steps(outcome) == [Step.MERKLE, Step.WRITE_SET]
    assert "chain leaf index" in outcome.step(Step.WRITE_SET).detail  # type: ignore[union-attr]


# -- step 3: write set ------------------------------------------------------------------------


def test_anchor_of_a_different_batch(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    mine = one["records"][0]["anchor"]
    other = next(r for r in bundle["records"] if r["anchor"]["batch_id"] != mine["batch_id"])
    one["records"][0]["anchor"] = dict(other["anchor"])
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.WRITE_SET, "has no key for the record")
    assert failed_steps(outcome) == [Step.WRITE_SET]
    assert outcome.step(Step.MERKLE).status is StepStatus.NOT_CHECKED  # type: ignore[union-attr]


def test_batch_id_claim_differs_from_chain(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    one["records"][0]["anchor"]["batch_id"] = "b-forged"
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.WRITE_SET, "chain batch id", "!= bundle batch id 'b-forged'")
    # the proof is still checked, against the batch the chain names for the record
    assert outcome.step(Step.MERKLE).status is StepStatus.PASSED  # type: ignore[union-attr]


def test_chaincode_claims(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    one["records"][0]["anchor"]["chaincode"] = "other"
    assert_fails(check_one(one, trust), Step.WRITE_SET, "not the trusted 'ledger'")
    unpinned = TrustStore(trust.msps.values())
    assert_fails(check_one(one, unpinned), Step.WRITE_SET, "invokes chaincode 'ledger'")


# -- step 4: endorsement ----------------------------------------------------------------------


def test_endorsement_signature_flipped(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]

    def flip(action: transaction_pb2.ChaincodeEndorsedAction) -> None:
        action.endorsements[0].signature = other_r(action.endorsements[0].signature)

    set_envelope(one, record, edit_endorsed_action(envelope_of(one, record), flip))
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.ENDORSEMENT, "endorsement 0 (", "does not verify")
    assert Step.BLOCK in failed_steps(outcome)  # the block no longer hashes to its header

    # even with the block's data hash recomputed (and so its orderer signature broken)
    set_envelope(
        one, record, edit_endorsed_action(envelope_of(bundle, record), flip), fix_data_hash=True
    )
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.ENDORSEMENT, "does not verify")
    assert failed_steps(outcome) == [Step.ENDORSEMENT, Step.ORDERER]


def test_high_s_endorsement_signature(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]

    def high_s(action: transaction_pb2.ChaincodeEndorsedAction) -> None:
        r, s = decode_dss_signature(action.endorsements[1].signature)
        action.endorsements[1].signature = encode_dss_signature(r, P256_ORDER - s)

    set_envelope(one, record, edit_endorsed_action(envelope_of(one, record), high_s))
    assert_fails(check_one(one, trust), Step.ENDORSEMENT, "endorsement 1 (", "high S")


def test_endorsement_removed(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]

    def drop(action: transaction_pb2.ChaincodeEndorsedAction) -> None:
        del action.endorsements[1:]

    set_envelope(one, record, edit_endorsed_action(envelope_of(one, record), drop))
    assert_fails(
        check_one(one, trust), Step.ENDORSEMENT, "endorsed by 1 of 3 application orgs", "needs 2"
    )


def test_same_org_endorsing_twice_counts_once(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]

    def duplicate(action: transaction_pb2.ChaincodeEndorsedAction) -> None:
        first = action.endorsements[0]
        del action.endorsements[1:]
        action.endorsements.append(first)

    set_envelope(one, record, edit_endorsed_action(envelope_of(one, record), duplicate))
    assert_fails(check_one(one, trust), Step.ENDORSEMENT, "endorsed by 1 of 3")


def test_endorsed_payload_altered(bundle: Bundle, trust: TrustStore) -> None:
    """A different write set under the same endorsements: the signatures no longer match."""
    one = only(bundle, 0)
    record = one["records"][0]

    def alter(action: transaction_pb2.ChaincodeEndorsedAction) -> None:
        prp = proposal_response_pb2.ProposalResponsePayload.FromString(
            action.proposal_response_payload
        )
        # the commitment is in the write set as the record key (base64url)
        old_key = record_key(bytes.fromhex(record["commitment"])).encode()
        assert old_key in prp.extension
        prp.extension = prp.extension.replace(
            old_key, record_key(bytes.fromhex("cd" * 32)).encode()
        )
        action.proposal_response_payload = prp.SerializeToString()

    set_envelope(one, record, edit_endorsed_action(envelope_of(one, record), alter))
    record["commitment"] = "cd" * 32
    del record["content"], record["salt"]
    outcome = check_one(one, trust)
    # the renamed key may also fall out of the write set's key order (steps 2/3 fail too)
    assert not outcome.ok
    assert Step.ENDORSEMENT in failed_steps(outcome)
    assert "does not verify" in outcome.step(Step.ENDORSEMENT).detail  # type: ignore[union-attr]


def test_creator_signature_broken(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]
    env = common_pb2.Envelope.FromString(envelope_of(one, record))
    env.signature = other_r(env.signature)
    set_envelope(one, record, env.SerializeToString(), fix_data_hash=True)
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.ENDORSEMENT, "creator (PlatformMSP)", "does not verify")


def test_untrusted_ca(bundle: Bundle, trust: TrustStore) -> None:
    """A trust directory of freshly generated orgs with the same MSP ids trusts nothing here."""
    strangers = TrustStore.from_pems(
        {m: make_ca(f"ca.{m.lower()}") for m in trust.application_msps},
        {m: make_ca(f"ca.{m.lower()}") for m in trust.orderer_msps},
        channel="ledger",
        chaincode="ledger",
    )
    outcome = check_one(only(bundle, 0), strangers)
    assert_fails(outcome, Step.ENDORSEMENT, "is not issued by a trusted", "CA")
    assert failed_steps(outcome) == [Step.ENDORSEMENT, Step.ORDERER]
    assert "is not issued by a trusted OrdererMSP CA" in outcome.step(Step.ORDERER).detail  # type: ignore[union-attr]


def test_one_org_missing_from_the_trust_directory(bundle: Bundle, trust: TrustStore) -> None:
    record = bundle["records"][0]
    endorsers = {e.msp_id for e in blocks.parse_envelope(envelope_of(bundle, record)).endorsements}
    dropped = sorted(endorsers)[0]
    partial = TrustStore([t for m, t in trust.msps.items() if m != dropped])
    outcome = check_one(only(bundle, 0), partial)
    assert_fails(outcome, Step.ENDORSEMENT, f"MSP '{dropped}' is not in the trust directory")


def test_too_few_endorsing_orgs_for_a_larger_consortium(bundle: Bundle, trust: TrustStore) -> None:
    """With five application orgs trusted, MAJORITY needs three endorsements; there are two."""
    app_pems = {m: pem_of(trust, m) for m in trust.application_msps}
    app_pems |= {"ExtraOneMSP": make_ca("ca.one"), "ExtraTwoMSP": make_ca("ca.two")}
    larger = TrustStore.from_pems(app_pems, {m: pem_of(trust, m) for m in trust.orderer_msps})
    assert larger.endorsement_quorum == 3
    outcome = check_one(only(bundle, 0), larger)
    assert_fails(outcome, Step.ENDORSEMENT, "endorsed by 2 of 5 application orgs", "needs 3")
    assert failed_steps(outcome) == [Step.ENDORSEMENT]


def test_endorser_from_an_orderer_org_does_not_count(bundle: Bundle, trust: TrustStore) -> None:
    record = bundle["records"][0]
    endorser = sorted(
        e.msp_id for e in blocks.parse_envelope(envelope_of(bundle, record)).endorsements
    )[0]
    roles = TrustStore(
        [
            type(t)(msp_id=t.msp_id, role=MspRole.ORDERER, ca_certs=t.ca_certs)
            if m == endorser
            else t
            for m, t in trust.msps.items()
        ]
    )
    assert_fails(check_one(only(bundle, 0), roles), Step.ENDORSEMENT, "is not an application org")


# -- step 5: block ----------------------------------------------------------------------------


def test_block_data_hash_mismatch(bundle: Bundle, trust: TrustStore) -> None:
    record = next(
        r for r in bundle["records"] if len(block_of(bundle, r)["data"]) > 1
    )  # a block with other transactions: alter one of those, not ours
    one = copy.deepcopy(bundle)
    one["records"] = [copy.deepcopy(record)]
    block = block_of(one, record)
    mine = tx_index_of(one, record)
    other = next(i for i in range(len(block["data"])) if i != mine)
    raw = bytearray(base64.b64decode(block["data"][other]))
    raw[-1] ^= 1
    block["data"][other] = base64.b64encode(bytes(raw)).decode()
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.BLOCK, "data entries", "!= header data_hash")
    assert failed_steps(outcome) == [Step.BLOCK]


def test_transaction_marked_invalid(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    record = one["records"][0]
    block = block_of(one, record)
    codes = bytearray(base64.b64decode(block["metadata"]["transactions_filter"]))
    codes[tx_index_of(one, record)] = transaction_pb2.MVCC_READ_CONFLICT
    block["metadata"]["transactions_filter"] = base64.b64encode(bytes(codes)).decode()
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.BLOCK, "MVCC_READ_CONFLICT, not VALID")
    assert failed_steps(outcome) == [Step.BLOCK]


def test_tx_index_pointing_at_another_transaction(bundle: Bundle, trust: TrustStore) -> None:
    record = next(r for r in bundle["records"] if len(block_of(bundle, r)["data"]) > 1)
    one = copy.deepcopy(bundle)
    one["records"] = [copy.deepcopy(record)]
    block = block_of(one, record)
    for t in block["transactions"]:
        if t["tx_id"] == record["anchor"]["tx_id"]:
            t["tx_index"] = (t["tx_index"] + 1) % len(block["data"])
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.BLOCK, f"not {record['anchor']['tx_id'][:16]}..")


def test_missing_block_and_transaction(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    one["records"][0]["anchor"]["block_number"] = 999_999
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.BLOCK, "the bundle carries no block 999999")
    assert all(
        s.status is StepStatus.NOT_CHECKED
        for s in outcome.steps
        if s.step in (Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT, Step.ORDERER)
    )
    one = only(bundle, 0)
    one["records"][0]["anchor"]["tx_id"] = "f" * 64
    assert_fails(check_one(one, trust), Step.BLOCK, "lists no transaction ffffffffffffffff..")


def test_channel_claims(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    one["records"][0]["anchor"]["channel"] = "elsewhere"
    assert_fails(check_one(one, trust), Step.BLOCK, "on channel 'ledger', not 'elsewhere'")
    pinned = TrustStore(trust.msps.values(), channel="production")
    assert_fails(check_one(only(bundle, 0), pinned), Step.BLOCK, "not the trusted 'production'")


def test_malformed_block_entry(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    block_of(one, one["records"][0])["data"][0] = "not base64!"
    assert_fails(check_one(one, trust), Step.BLOCK, "is not valid base64")
    one = only(bundle, 0)
    block_of(one, one["records"][0])["data"][0] = "é\ud800"
    assert_fails(check_one(one, trust), Step.BLOCK, "is not valid base64")
    one = only(bundle, 0)
    del block_of(one, one["records"][0])["metadata"]
    assert_fails(check_one(one, trust), Step.BLOCK, "missing field 'metadata'")


# -- step 6: orderer --------------------------------------------------------------------------


def _edit_block_signatures(
    bundle: Bundle, record: dict[str, Any], edit: Callable[[common_pb2.Metadata], None]
) -> None:
    block = block_of(bundle, record)
    metadata = common_pb2.Metadata.FromString(base64.b64decode(block["metadata"]["signatures"]))
    edit(metadata)
    block["metadata"]["signatures"] = base64.b64encode(metadata.SerializeToString()).decode()


def test_orderer_signature_broken(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)

    def flip(md: common_pb2.Metadata) -> None:
        md.signatures[0].signature = other_r(md.signatures[0].signature)

    _edit_block_signatures(one, one["records"][0], flip)
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.ORDERER, "orderer signature 0", "does not verify")
    assert failed_steps(outcome) == [Step.ORDERER]


def test_orderer_signed_value_altered(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)

    def alter(md: common_pb2.Metadata) -> None:
        md.value = md.value + b"\x00"

    _edit_block_signatures(one, one["records"][0], alter)
    assert_fails(check_one(one, trust), Step.ORDERER, "does not verify")


def test_block_without_orderer_signature(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    _edit_block_signatures(one, one["records"][0], lambda md: md.ClearField("signatures"))
    assert_fails(check_one(one, trust), Step.ORDERER, "carries no orderer signature")


def test_orderer_signature_by_a_peer_org(bundle: Bundle, trust: TrustStore) -> None:
    """An application org's identity cannot stand in for the orderer."""
    one = only(bundle, 0)
    record = one["records"][0]
    endorser = blocks.parse_envelope(envelope_of(one, record)).endorsements[0].endorser

    def swap(md: common_pb2.Metadata) -> None:
        header = common_pb2.SignatureHeader.FromString(md.signatures[0].signature_header)
        header.creator = endorser
        md.signatures[0].signature_header = header.SerializeToString()

    _edit_block_signatures(one, record, swap)
    assert_fails(check_one(one, trust), Step.ORDERER, "is not an orderer org")


# -- format and API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"format": ', "bundle is not valid JSON"),
        (b"\xff\xfe", "byte order mark"),
        (b"[]", "bundle must be a JSON object"),
        (b"{}", "it has no format field"),
        (
            b'{"format": "credit-ledger-evidence/1"}',
            "bundle format 'credit-ledger-evidence/1' is no longer supported",
        ),
        (
            b'{"format": "credit-ledger-evidence/2", "records": [], "blocks": []}',
            "on-chain layout v2 (record keys named record ids)",
        ),
        (b'{"format": "credit-ledger-evidence/9"}', "has format 'credit-ledger-evidence/9'"),
        (
            b'{"format": "credit-ledger-evidence/3", "records": {}, "blocks": []}',
            "'records' must be a list",
        ),
        (
            b'{"format": "credit-ledger-evidence/3", "records": [], "blocks": [{"number": -1}]}',
            "blocks[0]: 'number' must be a non-negative integer",
        ),
    ],
)
def test_unreadable_bundles(data: bytes, error: str, trust: TrustStore) -> None:
    result = Verifier(trust).verify(data, source="x.json")
    assert not result.ok
    assert result.error is not None
    assert error in result.error
    assert result.messages == [f"x.json: {result.error}"]
    with pytest.raises(EvidenceVerificationError, match=r"x\.json: "):
        result.raise_for_failure()


def test_empty_bundle_is_not_ok(trust: TrustStore) -> None:
    result = Verifier(trust).verify(
        {"format": "credit-ledger-evidence/3", "records": [], "blocks": []}
    )
    assert not result.ok
    assert result.messages == ["bundle holds no records"]


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda r: r.pop("commitment"), "commitment must be 64 lowercase hex digits"),
        (lambda r: r.update(commitment=r["commitment"].upper()), "commitment must be 64"),
        (lambda r: r.pop("salt"), "content and salt must both be present"),
        (lambda r: r.update(content=7), "content must be a string"),
        (lambda r: r["merkle"].update(leaf_index=-1), "merkle.leaf_index"),
        (lambda r: r["merkle"].update(leaf_index=True), "merkle.leaf_index"),
        (lambda r: r["merkle"].update(proof=["xyz"]), "merkle.proof"),
        (lambda r: r.pop("anchor"), "anchor must be an object"),
        (lambda r: r["anchor"].update(batch_id="a b"), "anchor.batch_id"),
        (lambda r: r["anchor"].update(block_number="7"), "anchor.block_number"),
        (lambda r: r.update(content=None, salt=None), "content is null"),
    ],
)
def test_malformed_record_entry(
    bundle: Bundle, trust: TrustStore, edit: Callable[[dict[str, Any]], object], error: str
) -> None:
    one = only(bundle, 0)
    edit(one["records"][0])
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.FORMAT, error)
    assert outcome.record_id == bundle["records"][0]["record_id"]
    assert all(s.status is StepStatus.NOT_CHECKED for s in outcome.steps[1:])


def test_entry_without_id_is_named_by_position(bundle: Bundle, trust: TrustStore) -> None:
    one = only(bundle, 0)
    one["records"].append("junk")
    result = Verifier(trust).verify(one)
    assert result.records[0].ok
    assert result.records[1].record_id == "records[1]"
    assert result.records[1].failure.step is Step.FORMAT  # type: ignore[union-attr]


def test_a_bad_record_does_not_spoil_the_others(bundle: Bundle, trust: TrustStore) -> None:
    bundle["records"][7]["salt"] = "00" * 32
    result = Verifier(trust).verify(bundle)
    assert [r.record_id for r in result.failed] == [bundle["records"][7]["record_id"]]
    assert len(result.messages) == 1
    assert result.messages[0].startswith(
        f'step 1 (content): record "{bundle["records"][7]["record_id"]}"'
    )
    with pytest.raises(EvidenceVerificationError, match=r"^step 1 \(content\)"):
        result.raise_for_failure()


def test_block_checks_are_cached_across_bundles(saved: Bundle, trust: TrustStore) -> None:
    verifier = Verifier(trust)
    for i in range(len(saved["records"])):
        assert verifier.verify(only(saved, i)).ok
    assert verifier.stats.blocks_checked == 2
    assert verifier.stats.block_cache_hits == len(saved["records"]) - 2
    # a tampered copy of a cached block is a different block: checked afresh, and caught
    one = only(saved, 0)
    block_of(one, one["records"][0])["data_hash"] = "00" * 32
    assert not verifier.verify(one).ok
    assert verifier.stats.blocks_checked == 3
    # same header and metadata, one data entry altered: the cached check is not reused
    record = next(r for r in saved["records"] if len(block_of(saved, r)["data"]) > 1)
    one = copy.deepcopy(saved)
    one["records"] = [copy.deepcopy(record)]
    block = block_of(one, record)
    other = next(i for i in range(len(block["data"])) if i != tx_index_of(one, record))
    raw = bytearray(base64.b64decode(block["data"][other]))
    raw[10] ^= 1
    block["data"][other] = base64.b64encode(bytes(raw)).decode()
    outcome = check_one(one, trust)
    assert_fails(outcome, Step.BLOCK, "!= header data_hash")
    (outcome,) = verifier.verify(one).records
    assert_fails(outcome, Step.BLOCK, "!= header data_hash")
    assert verifier.stats.blocks_checked == 4
    # and the genuine block is still recognised afterwards
    assert verifier.verify(only(saved, 0)).ok


def test_verify_bundle_and_public_entry_point(saved: Bundle, trust: TrustStore) -> None:
    assert public_verify_bundle is verify_bundle
    assert verify_bundle(json.dumps(saved), DATA / "trust").ok
    assert verify_bundle(saved, trust).ok


def test_verify_file(tmp_path: Path, trust: TrustStore) -> None:
    result = Verifier(trust).verify_file(tmp_path / "missing.json")
    assert result.error is not None
    assert result.error.startswith("cannot read bundle")
    assert Verifier(trust).verify_file(DATA / "bundle.json").ok


def test_result_as_dict_is_json(saved: Bundle, trust: TrustStore) -> None:
    result = Verifier(trust).verify(only(saved, 0))
    data = json.loads(json.dumps(result.as_dict()))
    assert data["ok"] is True
    assert [s["step"] for s in data["records"][0]["steps"]] == [1, 2, 3, 4, 5, 6]


# -- trust directory --------------------------------------------------------------------------


def test_trust_directory_without_manifest(tmp_path: Path, saved: Bundle) -> None:
    for pem in (DATA / "trust").glob("*.pem"):
        shutil.copy(pem, tmp_path / pem.name)
    store = TrustStore.load(tmp_path)
    assert store.orderer_msps == ("OrdererMSP",)
    assert store.application_msps == ("BankMSP", "PlatformMSP", "RegulatorMSP")
    assert store.channel is None
    assert Verifier(store).verify(saved).ok


def test_trust_store_roundtrip(tmp_path: Path, trust: TrustStore) -> None:
    written = trust.write(tmp_path / "t")
    assert sorted(p.name for p in written) == sorted(
        [*(f"{m}.pem" for m in trust.msps), "trust.json"]
    )
    again = TrustStore.load(tmp_path / "t")
    assert again.application_msps == trust.application_msps
    assert again.orderer_msps == trust.orderer_msps
    assert (again.channel, again.chaincode) == (trust.channel, trust.chaincode)


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("{", "cannot read"),
        ('{"format": "other"}', "not a credit-ledger-trust/1 manifest"),
        ('{"format": "credit-ledger-trust/1", "msps": {}}', "'msps' must be a non-empty object"),
        (
            '{"format": "credit-ledger-trust/1", "msps": {"A": {"role": "boss"}}}',
            "msps.A.role must be 'application' or 'orderer'",
        ),
        (
            '{"format": "credit-ledger-trust/1", "msps": {"A": {"role": "orderer", "ca": "../x"}}}',
            "must be a file name",
        ),
        (
            '{"format": "credit-ledger-trust/1", "msps": {"A": {"role": "orderer"}}}',
            "cannot read",
        ),
    ],
)
def test_bad_trust_directories(tmp_path: Path, manifest: str, error: str) -> None:
    (tmp_path / "trust.json").write_text(manifest)
    with pytest.raises(EvidenceError, match=error.replace("(", r"\(").replace(".", r"\.")):
        TrustStore.load(tmp_path)


def test_missing_or_empty_trust_directory(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="does not exist"):
        TrustStore.load(tmp_path / "nope")
    with pytest.raises(EvidenceError, match=r"holds no trust\.json and no"):
        TrustStore.load(tmp_path)
    (tmp_path / "X.pem").write_text("garbage")
    with pytest.raises(EvidenceError, match="no"):
        TrustStore.load(tmp_path)


# -- CLI --------------------------------------------------------------------------------------


def test_cli_verify(tmp_path: Path, saved: Bundle) -> None:
    runner = CliRunner()
    trust_dir = str(DATA / "trust")
    result = runner.invoke(app, ["verify", str(DATA / "bundle.json"), "--trust", trust_dir])
    assert result.exit_code == 0, result.output
    assert "45 of 45 record(s) verified in 1 bundle(s)" in result.output
    for block in saved["blocks"]:
        assert f"block {block['number']}: header hash " in result.output

    bad = only(saved, 0)
    bad["records"][0]["salt"] = "00" * 32
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = runner.invoke(app, ["verify", str(path), "--trust", trust_dir])
    assert result.exit_code == 1
    assert "step 1 (content):" in result.output
    assert "1 record(s) failed" in result.output

    result = runner.invoke(app, ["verify", str(tmp_path / "nope.json"), "--trust", trust_dir])
    assert result.exit_code == 1
    assert "cannot read bundle" in result.output

    result = runner.invoke(app, ["verify", str(path), "--trust", str(tmp_path / "no-trust")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_ed25519_identities(tmp_path: Path) -> None:
    """Fabric also allows Ed25519 MSP identities: checked and verified over the message."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from fabric_protos.msp import identities_pb2

    ca_key = ed25519.Ed25519PrivateKey.generate()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca.ed")])
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, None)
    )
    key = ed25519.Ed25519PrivateKey.generate()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "peer"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "peer0.ed"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, None)
    )
    store = TrustStore.from_pems({"EdMSP": ca.public_bytes(serialization.Encoding.PEM)}, {})
    serialized = identities_pb2.SerializedIdentity(
        mspid="EdMSP", id_bytes=leaf.public_bytes(serialization.Encoding.PEM)
    ).SerializeToString()
    identity = store.identity(serialized)
    assert identity.check_ou(["peer"]) is None
    assert identity.check_valid_at(now) is None
    assert identity.check_valid_at(now + dt.timedelta(days=3)) is not None
    message = b"proposal response payload" + serialized
    signature = key.sign(message)
    digest = __import__("hashlib").sha256(message).digest()
    assert identity.verify(signature, message) is None
    assert identity.verify_digest(signature, digest, lambda: message) is None
    assert identity.verify(signature, message + b"x") == 'signature by "peer0.ed" does not verify'
    # an identity of an unknown MSP, or one that does not parse
    other = identities_pb2.SerializedIdentity(mspid="Nope", id_bytes=b"x").SerializeToString()
    with pytest.raises(IdentityError, match="MSP 'Nope' is not in the trust directory"):
        store.identity(other)
    with pytest.raises(IdentityError, match="holds no PEM certificate"):
        store.identity(
            identities_pb2.SerializedIdentity(mspid="EdMSP", id_bytes=b"x").SerializeToString()
        )


def test_random_corruption_never_verifies_and_never_raises(
    saved: Bundle, trust: TrustStore
) -> None:
    import random

    rng = random.Random(1234)
    base = only(saved, 0)
    record = base["records"][0]
    envelope = envelope_of(base, record)
    verifier = Verifier(trust)
    for i in range(150):
        forged = copy.deepcopy(base)
        raw = bytearray(envelope)
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        set_envelope(forged, forged["records"][0], bytes(raw), fix_data_hash=i % 2 == 0)
        result = verifier.verify(forged)
        assert result.error is None
        (outcome,) = result.records
        assert not outcome.ok
        assert outcome.failure is not None


def test_hostile_shapes_do_not_raise(saved: Bundle, trust: TrustStore) -> None:
    deep = (
        b'{"format": "credit-ledger-evidence/3", "records": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}"
    )
    result = Verifier(trust).verify(deep)
    assert result.error is not None

    one = only(saved, 0)
    record = one["records"][0]
    env = common_pb2.Envelope.FromString(envelope_of(one, record))
    payload = common_pb2.Payload.FromString(env.payload)
    header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    header.timestamp.seconds = 2**62
    payload.header.channel_header = header.SerializeToString()
    env.payload = payload.SerializeToString()
    set_envelope(one, record, env.SerializeToString(), fix_data_hash=True)
    assert_fails(check_one(one, trust), Step.BLOCK, "out of range")
