"""Access-log entries anchored on the real channel, beside the records, and their evidence
verified offline: entries written by reads are batched with records by the same worker, an
access-log bundle verifies against the network's org CAs (library and CLI), an entry changed
in the index fails at a named step, and rebuild/reconcile know the entries' leaves."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from ledger_service.chainsync.reconcile import reconcile
from ledger_service.cli import app
from ledger_service.evidence import (
    ACCESS_BUNDLE_FORMAT,
    Step,
    StepStatus,
    TrustStore,
    Verifier,
    build_access_bundle,
    encode_bundle,
)
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.index import models as m
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import enterprise_story
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from tests.integration.test_rebuild import ANCHORING_TABLES, MIRROR_TABLES, copy_index, run_replay

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def ledger(fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory) -> AnchoredLedger:
    """A small anchored ledger; then reads logged (one entry per record read), more records
    appended after them, and the worker run again: entries and records share batches."""
    state = tmp_path_factory.mktemp("access")
    ledger = make_anchored_ledger(
        fabric_network, state, count=40, prefix=f"a{uuid.uuid4().hex[:8]}"
    )
    log = ledger.context.access_log
    for i, record in enumerate(ledger.records[:12]):
        log.log_answer(
            accessor=f"bank/loans (verifier key k{i % 3})",
            query="evidence",
            purpose="loan_review: application 7",
            read=[(record.subject, record.record_id)],
            request_id=f"req-{i}",
        )
    ledger.append(list(enterprise_story(ledger.writer, 90_001, prefix="after")))
    log.log(accessor="csrc/audit (auditor key k9)", query="lineage", purpose="supervision")
    ledger.anchor(batch_size=16)
    return ledger


@pytest.fixture(scope="module")
def trust(fabric_network: Topology) -> TrustStore:
    return TrustStore.from_topology(fabric_network)


def entry_ids(ledger: AnchoredLedger) -> list[int]:
    with ledger.session_factory() as s:
        return list(s.scalars(select(m.AccessLogEntry.id).order_by(m.AccessLogEntry.id)))


def bundle_of(ledger: AnchoredLedger, ids: list[int]) -> bytes:
    with ledger.target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, ledger.target.channel)
        return encode_bundle(build_access_bundle(ledger.session_factory, ids, block_source=reader))


def test_every_entry_is_anchored_with_records_in_committed_batches(
    ledger: AnchoredLedger,
) -> None:
    ids = entry_ids(ledger)
    assert len(ids) == 13
    with ledger.session_factory() as s:
        anchored = s.execute(
            select(m.AccessAnchor.entry_id, m.Batch.batch_id, m.Batch.state).join(
                m.Batch, m.Batch.batch_id == m.AccessAnchor.batch_id
            )
        ).all()
        pending = s.scalars(select(m.OutboxEntry).where(m.OutboxEntry.state == "pending")).all()
        mixed = s.scalars(
            select(m.RecordAnchor.batch_id).where(
                m.RecordAnchor.batch_id.in_({a.batch_id for a in anchored})
            )
        ).all()
    assert sorted(a.entry_id for a in anchored) == ids
    assert {a.state for a in anchored} == {"committed"}
    assert pending == []
    assert mixed  # at least one batch holds records and entries


def test_access_bundle_verifies_offline(
    ledger: AnchoredLedger, trust: TrustStore, fabric_network: Topology, tmp_path: Path
) -> None:
    ids = entry_ids(ledger)
    data = bundle_of(ledger, ids)
    bundle = json.loads(data)
    assert bundle["format"] == ACCESS_BUNDLE_FORMAT
    assert [e["entry_id"] for e in bundle["entries"]] == ids
    result = Verifier(trust).verify(data)
    assert result.ok, result.messages
    assert [r.record_id for r in result.records] == [f"access-{i}" for i in ids]
    # nothing on chain names the subject or the accessor: the chain holds only commitments
    subject = ledger.records[0].subject
    blocks = json.dumps(bundle["blocks"])
    assert subject not in blocks
    assert "bank/loans" not in blocks

    runner = CliRunner()
    state = ["--state-dir", fabric_network.state_dir]
    trust_dir = tmp_path / "trust"
    assert runner.invoke(app, ["trust", "export", str(trust_dir), *state]).exit_code == 0
    out = tmp_path / "access.json"
    result_cli = runner.invoke(
        app,
        [
            "access-evidence",
            f"{ids[0]}-{ids[4]}",
            str(ids[-1]),
            "--out",
            str(out),
            "--db",
            ledger.db_url,
            *state,
        ],
    )
    assert result_cli.exit_code == 0, result_cli.output
    assert [e["entry_id"] for e in json.loads(out.read_bytes())["entries"]] == [
        *ids[:5],
        ids[-1],
    ]
    verified = runner.invoke(app, ["verify", str(out), "--trust", str(trust_dir)])
    assert verified.exit_code == 0, verified.output


def test_a_changed_entry_fails_at_a_named_step(
    ledger: AnchoredLedger, trust: TrustStore, tmp_path: Path
) -> None:
    copy = copy_index(ledger, tmp_path / "tampered")
    try:
        victim = entry_ids(ledger)[3]
        with copy.sessions.begin() as s:
            s.execute(
                update(m.AccessLogEntry)
                .where(m.AccessLogEntry.id == victim)
                .values(purpose="curiosity")
            )
        with ledger.target.gateway() as gateway:
            reader = GatewayBlockReader(gateway, ledger.target.channel)
            tampered = build_access_bundle(copy.sessions, [victim], block_source=reader)
        (outcome,) = Verifier(trust).verify(encode_bundle(tampered)).records
        assert outcome.failure is not None
        assert outcome.failure.step is Step.CONTENT
        assert outcome.message.startswith(f'step 1 (content): record "access-{victim}"')
        # the commitment recomputed to match: the chain has no such key
        entry = tampered["entries"][0]
        entry["commitment"] = hashlib.sha256(
            bytes.fromhex(entry["salt"]) + entry["content"].encode()
        ).hexdigest()
        (outcome,) = Verifier(trust).verify(encode_bundle(tampered)).records
        assert outcome.step(Step.CONTENT).status is StepStatus.PASSED  # type: ignore[union-attr]
        assert outcome.failure is not None
        assert outcome.failure.step is Step.WRITE_SET
    finally:
        copy.engine.dispose()


def test_rebuild_restores_the_entries_anchors_and_reconcile_is_clean(
    ledger: AnchoredLedger, tmp_path: Path
) -> None:
    def facts(sessions: object) -> tuple[set[tuple[int, str, int]], dict[int, str]]:
        with sessions() as s:  # type: ignore[operator]
            anchors = {
                (a.entry_id, a.batch_id, a.leaf_index) for a in s.scalars(select(m.AccessAnchor))
            }
            outbox = {
                o.access_entry_id: o.state
                for o in s.scalars(select(m.OutboxEntry))
                if o.access_entry_id is not None
            }
        return anchors, outbox

    worker_anchors, worker_outbox = facts(ledger.session_factory)
    fresh = copy_index(ledger, tmp_path / "fresh", drop=ANCHORING_TABLES + MIRROR_TABLES)
    try:
        result = run_replay(ledger, fresh.sessions, restore=True)
        assert result.anomaly_count == 0
        rebuilt_anchors, rebuilt_outbox = facts(fresh.sessions)
        assert rebuilt_anchors == worker_anchors
        assert rebuilt_outbox == worker_outbox == dict.fromkeys(entry_ids(ledger), "batched")
        mismatches = list(reconcile(fresh.sessions, scope="index", channel=ledger.target.channel))
        assert mismatches == []
        # the entries' bundle still verifies from the rebuilt index
        with ledger.target.gateway() as gateway:
            reader = GatewayBlockReader(gateway, ledger.target.channel)
            build_access_bundle(fresh.sessions, entry_ids(ledger), block_source=reader)
    finally:
        fresh.engine.dispose()
