"""Index reads the anchoring worker and the evidence code rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError, UnknownRecord
from ledger_service.index import make_engine, sqlite_url, upgrade
from ledger_service.index.models import (
    Batch,
    BatchState,
    LineageEdge,
    OutboxEntry,
    OutboxState,
    RecordAnchor,
)
from ledger_service.index.models import Record as RecordRow
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.queries import RecordQueries
from tests.db.factories import RecordFactory
from tests.unit.conftest import NOW


def anchor(session_factory: sessionmaker[Session], batch_id: str, record_ids: list[str]) -> None:
    """What the anchoring worker does: batch the records, then see the batch committed."""
    with write_session(session_factory) as session:
        session.add(
            Batch(
                batch_id=batch_id,
                root=b"\x01" * 32,
                size=len(record_ids),
                state=BatchState.COMMITTED,
                envelope=b"signed-envelope",
                tx_id=f"tx-{batch_id}",
                block_number=7,
                validation_code="VALID",
                created_at=NOW,
                submitted_at=NOW,
                committed_at=NOW,
            )
        )
        session.flush()
        session.add_all(
            RecordAnchor(record_id=record_id, batch_id=batch_id, leaf_index=index)
            for index, record_id in enumerate(record_ids)
        )
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.record_id.in_(record_ids))
            .values(state=OutboxState.BATCHED, batched_at=NOW)
        )


def test_pending_records_in_order_with_limit(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    results = service.append([platform.data_update(f"du-{i}") for i in range(5)])
    assert queries.pending_records(0) == []
    first_three = queries.pending_records(3)
    assert [p.record_id for p in first_three] == ["du-0", "du-1", "du-2"]
    assert [p.commitment.hex() for p in first_three] == [r.commitment for r in results[:3]]

    anchor(session_factory, "batch-1", ["du-0", "du-1"])
    assert [p.record_id for p in queries.pending_records(10)] == ["du-2", "du-3", "du-4"]


def test_stored_record_carries_anchoring_facts(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    service.append([platform.data_update("du-0"), platform.data_update("du-1")])
    anchor(session_factory, "batch-1", ["du-0", "du-1"])
    stored = queries.get_record("du-1")
    assert stored is not None
    assert stored.anchor is not None
    assert stored.anchor.batch_id == "batch-1"
    assert stored.anchor.leaf_index == 1
    assert stored.anchor.batch_size == 2
    assert stored.anchor.tx_id == "tx-batch-1"
    assert stored.anchor.block_number == 7
    assert stored.anchor.validation_code == "VALID"
    assert stored.anchor.batch_state == BatchState.COMMITTED
    assert stored.anchor.committed_at == NOW


def test_get_records_skips_unknown_ids(
    service: LedgerService, queries: RecordQueries, platform: RecordFactory
) -> None:
    service.append([platform.data_update("du-0")])
    assert set(queries.get_records(["du-0", "ghost"])) == {"du-0"}
    assert queries.get_record("ghost") is None
    assert queries.get_records([]) == {}


def test_erased_record_cannot_be_parsed(
    service: LedgerService, queries: RecordQueries, platform: RecordFactory
) -> None:
    service.append([platform.data_update("du-0")])
    service.erase_record_content("du-0")
    stored = queries.get_record("du-0")
    assert stored is not None
    with pytest.raises(LedgerError, match="erased"):
        stored.record()
    with pytest.raises(UnknownRecord):
        service.erase_record_content("ghost")


def _sqlite_plan(engine: Engine, statement: object) -> str:
    compiled = statement.compile(engine)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())
        ).all()
    return " | ".join(row[-1] for row in rows)


def test_sqlite_access_paths_use_indexes(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    try:
        parents_of = select(LineageEdge.parent_id).where(LineageEdge.child_id == "x")
        children_of = select(LineageEdge.child_id).where(LineageEdge.parent_id == "x")
        pending = (
            select(OutboxEntry.seq)
            .where(OutboxEntry.state == OutboxState.PENDING)
            .order_by(OutboxEntry.seq)
            .limit(10)
        )
        timeline = (
            select(RecordRow.record_id)
            .where(RecordRow.subject == "s", RecordRow.occurred_at <= NOW)
            .order_by(RecordRow.occurred_at)
        )
        assert "USING PRIMARY KEY (child_id=?)" in _sqlite_plan(engine, parents_of)
        assert "ix_lineage_edges_parent_id_child_id (parent_id=?)" in _sqlite_plan(
            engine, children_of
        )
        assert "ix_anchoring_outbox_pending_seq" in _sqlite_plan(engine, pending)
        assert "ix_records_subject_occurred_at" in _sqlite_plan(engine, timeline)
    finally:
        engine.dispose()
