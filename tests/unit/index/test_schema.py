"""The index schema: created only by the Alembic migrations, identical to the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import current_revision, head_revision, upgrade
from ledger_service.index.migrate import downgrade
from ledger_service.index.models import AccessLogEntry, Base
from ledger_service.index.session import make_engine, sqlite_url, write_session

TABLES = {
    "access_anchors",
    "access_log",
    "anchoring_outbox",
    "batches",
    "lineage_edges",
    "record_anchors",
    "records",
    "writer_keys",
}


def test_migrations_create_every_table(empty_index_engine: Engine) -> None:
    assert current_revision(empty_index_engine) is None
    upgrade(empty_index_engine)
    assert current_revision(empty_index_engine) == head_revision()
    assert set(inspect(empty_index_engine).get_table_names()) >= TABLES


def test_models_and_migrations_agree(empty_index_engine: Engine) -> None:
    upgrade(empty_index_engine)
    with empty_index_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(empty_index_engine: Engine) -> None:
    upgrade(empty_index_engine)
    downgrade(empty_index_engine, "base")
    assert current_revision(empty_index_engine) is None
    assert not TABLES & set(inspect(empty_index_engine).get_table_names())
    upgrade(empty_index_engine)
    assert current_revision(empty_index_engine) == head_revision()


def test_upgrade_is_idempotent(empty_index_engine: Engine) -> None:
    upgrade(empty_index_engine)
    upgrade(empty_index_engine)
    assert current_revision(empty_index_engine) == head_revision()


def test_lineage_edges_indexed_both_ways(index_engine: Engine) -> None:
    inspector = inspect(index_engine)
    assert inspector.get_pk_constraint("lineage_edges")["constrained_columns"] == [
        "child_id",
        "parent_id",
    ]
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("lineage_edges")}
    assert ("parent_id", "child_id") in indexed
    record_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("records")}
    assert {("subject", "occurred_at"), ("kind", "occurred_at"), ("supersedes",)} <= record_indexes


def test_timestamps_round_trip_as_aware_utc(session_factory: sessionmaker[Session]) -> None:
    china = timezone(timedelta(hours=8))
    moment = datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=china)
    with write_session(session_factory) as session:
        session.add(
            AccessLogEntry(
                accessed_at=moment,
                accessor="auditor",
                query="lineage",
                purpose="audit",
                salt=bytes(32),
                commitment=bytes(32),
            )
        )
    with session_factory() as session:
        stored = session.scalars(select(AccessLogEntry.accessed_at)).one()
        assert stored == moment
        assert stored.tzinfo == UTC
        earlier = moment - timedelta(microseconds=1)
        found = session.scalars(
            select(AccessLogEntry.id).where(AccessLogEntry.accessed_at > earlier)
        ).all()
        assert len(found) == 1


def test_naive_timestamps_are_refused(session_factory: sessionmaker[Session]) -> None:
    entry = AccessLogEntry(
        accessed_at=datetime(2024, 5, 1),
        accessor="a",
        query="q",
        purpose="p",
        salt=bytes(32),
        commitment=bytes(32),
    )
    with session_factory() as session:
        session.add(entry)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_sqlite_connection_pragmas(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(str(tmp_path)))
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("busy_timeout") == 10_000
    finally:
        engine.dispose()


def test_sqlite_write_session_takes_the_write_lock_up_front(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(str(tmp_path)), sqlite_busy_timeout_ms=50)
    upgrade(engine)
    factory = sessionmaker(bind=engine)
    try:
        # A second writer cannot even begin while the first holds the lock.
        with write_session(factory), pytest.raises(OperationalError, match="locked"):  # noqa: SIM117
            with write_session(factory) as second:
                second.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def test_migration_0007_commits_and_queues_entries_written_before_it(
    empty_index_engine: Engine,
) -> None:
    """Entries written under 0006 get a salt, a commitment over their canonical JSON and a
    pending outbox row each, in id order; the downgrade drops them again."""
    import hashlib

    from credit_ledger_verify.access_entry import parse_access_entry

    from ledger_service.queries.access import committed_entry

    upgrade(empty_index_engine, "0006")
    with empty_index_engine.begin() as connection:
        for i, purpose in enumerate(("loan_review", "supervision")):
            connection.execute(
                text(
                    "INSERT INTO access_log (accessed_at, accessor, subject, query, purpose) "
                    "VALUES (:at, 'bank', :subject, 'evidence', :purpose)"
                ),
                {"at": f"2026-11-30 08:00:0{i}.000000", "subject": f"S{i}", "purpose": purpose},
            )
    upgrade(empty_index_engine)
    sessions = sessionmaker(empty_index_engine)
    with sessions() as session:
        entries = session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)).all()
        outbox = session.execute(
            text("SELECT access_entry_id, state FROM anchoring_outbox ORDER BY seq")
        ).all()
        assert [tuple(r) for r in outbox] == [(e.id, "pending") for e in entries]
        for entry in entries:
            content = committed_entry(entry).canonical_bytes()
            assert hashlib.sha256(entry.salt + content).digest() == entry.commitment
            assert parse_access_entry(content).purpose == entry.purpose
    downgrade(empty_index_engine, "0006")
    with empty_index_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM anchoring_outbox")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM access_log")).scalar() == 2
