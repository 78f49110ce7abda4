"""Compact (checkpoint-form) evidence on the real network: records anchored, a checkpoint of
the global log anchored by hand (``ledger_service.samples.checkpoints``: the periodic
checkpointer is not used), bundles built from the chain's head and verified offline with
only the trust directory and the log key — through the library, the CLIs and the API."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import cbor2
import pytest
from credit_ledger_client import verify_evidence
from credit_ledger_verify.cli import main as verify_main
from credit_ledger_verify.tlog import CheckpointPolicy, SignerKey, cosign, parse_note
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledger_service.api import ApiSettings, create_app
from ledger_service.cli import app as ledgerctl
from ledger_service.evidence import (
    CheckpointStep,
    EvidenceError,
    StepStatus,
    TrustStore,
    Verifier,
    encode_bundle,
)
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.samples.checkpoints import anchor_checkpoint
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from ledger_service.tlog.checkpoints import load_or_create_log_key, platform_origin
from ledger_service.tlog.global_log import advance
from ledger_service.tlog.witnesses import accept_cosignature, register_witness


@pytest.fixture(scope="module")
def ledger(fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory) -> AnchoredLedger:
    state = tmp_path_factory.mktemp("compact")
    return make_anchored_ledger(
        fabric_network, state, count=40, prefix=f"c{uuid.uuid4().hex[:8]}", batch_size=16
    )


def _policy(topo: Topology) -> CheckpointPolicy:
    origin = platform_origin(topo.channel, topo.chaincode)
    key = load_or_create_log_key(Path(topo.state_dir), origin)
    return CheckpointPolicy(key.verifier)


def test_compact_bundles_verify_offline_with_the_log_key(
    ledger: AnchoredLedger, fabric_network: Topology, tmp_path: Path
) -> None:
    ids = [r.record_id for r in ledger.records]
    trust = TrustStore.from_topology(fabric_network)
    with ledger.target.gateway() as gateway:
        chain = ledger.context.anchored_checkpoints(gateway)
        head = chain.head()
        if head is not None:
            # the global log is computed from the index's chain mirror: empty in a new index
            with pytest.raises(EvidenceError, match="the global log holds 0 leaves"):
                ledger.context.build_checkpoint_bundle(ids[:1], chain=chain)
            ledger.context.replay(DeliverBlockStream(gateway, fabric_network.channel))
            with write_session(ledger.context.session_factory) as s:
                advance(s, _policy(fabric_network).origin, dt.datetime.now(dt.UTC))
            # records anchored after the newest anchored checkpoint are not covered yet
            with pytest.raises(EvidenceError, match="not covered by the newest anchored"):
                ledger.context.build_checkpoint_bundle(ids[:1], chain=chain)
        anchored = anchor_checkpoint(ledger.context, gateway)
        assert head is None or anchored.prev_size == head.size
        assert anchor_checkpoint(ledger.context, gateway) == anchored  # nothing new: same head
        single = [ledger.context.build_checkpoint_bundle([i], chain=chain) for i in ids]
        every = ledger.context.build_checkpoint_bundle(ids, chain=chain)
        redacted = ledger.context.build_checkpoint_bundle(ids[:1], chain=chain, redact=True)
    verifier = Verifier(trust, checkpoint_policy=_policy(fabric_network))
    for bundle in [*single, every, redacted]:
        result = verifier.verify(encode_bundle(bundle))
        assert result.ok, result.messages
    outcome = verifier.verify(every).records[0]
    assert outcome.tx_id == anchored.tx_id
    assert [s.status for s in outcome.steps] == [StepStatus.PASSED] * 7
    # the size of a one-record bundle does not grow with the batch: only with log2 of the log
    sizes = sorted(len(encode_bundle(b)) for b in single)
    assert len(encode_bundle(redacted)) <= 4096, len(encode_bundle(redacted))
    print(f"single-record compact bundles: {sizes[0]}..{sizes[-1]} bytes; log {anchored.size}")
    # a verifier without the log key cannot accept the checkpoint
    bare = Verifier(trust).verify(single[0]).records[0].failure
    assert bare is not None
    assert bare.step is CheckpointStep.CHECKPOINT


def test_a_bundle_built_after_a_witness_cosigned_meets_a_one_witness_policy(
    ledger: AnchoredLedger, fabric_network: Topology
) -> None:
    trust = TrustStore.from_topology(fabric_network)
    witness = SignerKey.generate("bank-witness", 0x04)
    log_only = _policy(fabric_network)
    one_witness = CheckpointPolicy(log_only.log_key, (witness.verifier,), witnesses_required=1)
    record = ledger.records[0].record_id
    with ledger.target.gateway() as gateway:
        anchored = anchor_checkpoint(ledger.context, gateway)
        chain = ledger.context.anchored_checkpoints(gateway)
        before = ledger.context.build_checkpoint_bundle([record], chain=chain)
        failed = Verifier(trust, checkpoint_policy=one_witness).verify(before).records[0].failure
        assert failed is not None
        assert failed.step is CheckpointStep.CHECKPOINT  # no cosignature stored yet
        now = dt.datetime.now(dt.UTC)
        with write_session(ledger.context.session_factory) as s:
            register_witness(s, witness.verifier.encode(), now)
            text = parse_note(anchored.note).text
            line = cosign(witness, text, int(now.timestamp())).line()
            accept_cosignature(s, log_only.origin, anchored.size, line, now)
        after = ledger.context.build_checkpoint_bundle([record], chain=chain)
    assert after["checkpoint"].startswith(anchored.note)
    assert after["checkpoint"].endswith(line)
    result = Verifier(trust, checkpoint_policy=one_witness).verify(encode_bundle(after))
    assert result.ok, result.messages
    (step3,) = [s for s in result.records[0].steps if s.step is CheckpointStep.CHECKPOINT]
    assert step3.status is StepStatus.PASSED
    assert "bank-witness" in step3.detail
    # the note with the cosignature still verifies under the log key alone
    assert Verifier(trust, checkpoint_policy=log_only).verify(after).ok


def test_cli_builds_and_both_clis_verify(
    ledger: AnchoredLedger, fabric_network: Topology, tmp_path: Path
) -> None:
    with ledger.target.gateway() as gateway:
        anchor_checkpoint(ledger.context, gateway)
    trust_dir, bare_dir, out = tmp_path / "trust", tmp_path / "bare", tmp_path / "c.json"
    env = {"LEDGER_STATE_DIR": fabric_network.state_dir, "LEDGER_DB_URL": ledger.db_url}
    runner = CliRunner()
    exported = runner.invoke(ledgerctl, ["trust", "export", str(trust_dir)], env=env)
    assert exported.exit_code == 0, exported.output
    key_file = trust_dir / "log.vkey"  # the log's public key beside the CA certificates
    assert key_file.read_text().strip() == _policy(fabric_network).log_key.encode()
    TrustStore.from_topology(fabric_network).write(bare_dir)  # CAs only
    built = runner.invoke(
        ledgerctl,
        ["evidence", ledger.records[0].record_id, "--form", "checkpoint", "-o", str(out)],
        env=env,
    )
    assert built.exit_code == 0, built.output
    assert json.loads(out.read_bytes())["format"] == "credit-ledger-evidence/5"
    assert verify_main([str(out), "--trust", str(trust_dir)]) == 0  # log.vkey found there
    assert verify_evidence(out.read_bytes(), trust_dir).ok  # the SDK's offline check too
    assert verify_main([str(out), "--trust", str(trust_dir), "--signatures-only"]) == 0
    bare = [str(out), "--trust", str(bare_dir)]
    assert verify_main(bare) == 1  # no log key: step 3 fails
    assert verify_main([*bare, "--log-key", str(key_file)]) == 0
    checked = runner.invoke(ledgerctl, ["verify", *bare, "--log-key", str(key_file)], env=env)
    assert checked.exit_code == 0, checked.output
    # the same bundle as deterministic CBOR: smaller, verified by the same commands
    binary = tmp_path / "c.cbor"
    built = runner.invoke(
        ledgerctl,
        [
            "evidence",
            ledger.records[0].record_id,
            "--form",
            "checkpoint",
            "--cbor",
            "-o",
            str(binary),
        ],
        env=env,
    )
    assert built.exit_code == 0, built.output
    assert len(binary.read_bytes()) < len(out.read_bytes()) * 0.85
    assert verify_main([str(binary), "--trust", str(trust_dir)]) == 0
    assert verify_evidence(binary.read_bytes(), trust_dir).ok
    tampered = cbor2.loads(binary.read_bytes())
    salt = bytearray(tampered["records"][0]["salt"])
    salt[0] ^= 1
    tampered["records"][0]["salt"] = bytes(salt)
    binary.write_bytes(cbor2.dumps(tampered, canonical=True))
    assert verify_main([str(binary), "--trust", str(trust_dir)]) == 1  # step 2 fails


def test_api_serves_the_checkpoint_form(ledger: AnchoredLedger, fabric_network: Topology) -> None:
    with ledger.target.gateway() as gateway:
        anchor_checkpoint(ledger.context, gateway)
    app = create_app(ledger.context, ApiSettings(rate=1000, burst=1000))
    _, token = app.state.api_keys.create(role="verifier", org="Example Bank", name="compact")
    with TestClient(app) as client:
        answer = client.post(
            "/v1/evidence",
            params={"purpose": "loan_review", "form": "checkpoint"},
            json={"record_ids": [ledger.records[1].record_id]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    verifier = Verifier(
        TrustStore.from_topology(fabric_network), checkpoint_policy=_policy(fabric_network)
    )
    assert verifier.verify(answer.content).ok
