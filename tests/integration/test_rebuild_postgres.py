"""Rebuild and reconcile with a PostgreSQL index, against the real channel."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from ledger_service.chainsync.reconcile import MismatchKind, ReconcileSummary, reconcile
from ledger_service.index import make_engine, make_session_factory
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainRecord, ChainSync
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from tests.db.postgres import PostgresServer
from tests.integration.test_rebuild import anchoring_facts, run_replay

pytestmark = [pytest.mark.fabric, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_ledger(
    fabric_network: Topology,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AnchoredLedger, str]]:
    name = f"ledger_rebuild_{secrets.token_hex(4)}"
    url = postgres_server.create_database(name)
    ledger = make_anchored_ledger(
        fabric_network,
        Path(tmp_path_factory.mktemp("pg-ledger")),
        count=180,
        prefix=f"p{uuid.uuid4().hex[:8]}",
        db_url=url,
    )
    ledger.session_factory.kw["bind"].dispose()
    yield ledger, name
    postgres_server.drop_database(name)


def test_rebuild_and_reconcile_on_postgresql(
    pg_ledger: tuple[AnchoredLedger, str], postgres_server: PostgresServer
) -> None:
    ledger, template = pg_ledger
    ours = {r.record_id for r in ledger.records}
    worker = anchoring_facts(ledger.session_factory, ours)
    ledger.session_factory.kw["bind"].dispose()  # CREATE DATABASE .. TEMPLATE needs it idle

    name = f"ledger_restored_{secrets.token_hex(4)}"
    url = postgres_server.create_database(name, template=template)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with write_session(sessions) as s:
            for model in (
                m.RecordAnchor,
                m.OutboxEntry,
                m.Batch,
                ChainRecord,
                ChainBatch,
                ChainSync,
            ):
                s.execute(delete(model))

        result = run_replay(ledger, sessions, restore=True)
        assert result.restore is not None
        assert result.restore.anchors_inserted == len(ours)
        rebuilt = anchoring_facts(sessions, ours)
        assert {b[:7] for b in rebuilt[0]} == {b[:7] for b in worker[0]}
        assert rebuilt[1:] == worker[1:]

        summary = ReconcileSummary()
        got = list(
            reconcile(sessions, scope="index", channel=ledger.target.channel, summary=summary)
        )
        assert got == []
        assert summary.records_checked == len(ours)

        victim = ledger.records[3].record_id
        with write_session(sessions) as s:
            s.execute(
                update(m.Record).where(m.Record.record_id == victim).values(salt=b"\x09" * 32)
            )
            s.execute(
                update(m.RecordAnchor)
                .where(m.RecordAnchor.record_id == ledger.records[4].record_id)
                .values(leaf_index=10_000)
            )
        got = list(reconcile(sessions, scope="index", channel=ledger.target.channel))
        assert {(x.kind, x.record_id) for x in got} == {
            (MismatchKind.CONTENT_ALTERED, victim),
            (MismatchKind.WRONG_LEAF_INDEX, ledger.records[4].record_id),
        }
    finally:
        engine.dispose()
        postgres_server.drop_database(name)
