"""The ledger generator's records pass the real intake, and the bulk loader leaves exactly
the rows intake would have written, in exactly the migrated schema (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from credit_ledger_verify.records import Record
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from ledger_service.index import make_engine, sqlite_url, upgrade
from ledger_service.index import models as m
from ledger_service.intake import LedgerService
from ledger_service.samples.generator import GeneratedRecord, LedgerGenerator
from ledger_service.samples.loader import (
    LOADED_TABLES,
    IndexNotEmpty,
    copy_index,
    count_rows,
    load_ledger,
)
from ledger_service.signing import verify_record_signature
from tests.db.fixtures import IndexDatabase

RECORDS = 2000


@pytest.fixture(scope="module")
def generated() -> list[GeneratedRecord]:
    return list(LedgerGenerator(RECORDS, seed=3).records())


def test_the_sample_covers_every_kind_of_fact(generated: list[GeneratedRecord]) -> None:
    assert len(generated) == RECORDS
    kinds = Counter(r.kind for r in generated)
    assert set(kinds) == {"data_update", "score_change", "financing_event", "credit_repair"}
    events = Counter(r.loan_event for r in generated if r.loan_event)
    assert {"application", "approval", "disbursement", "repayment"} <= set(events)
    assert any(r.superseded_by for r in generated if r.kind == "data_update")
    assert any(r.superseded_by for r in generated if r.kind == "credit_repair")
    assert any(r.disputed_by for r in generated)
    assert any(len(r.parents) >= 3 for r in generated if r.kind == "score_change")


def test_same_seed_same_ledger_other_seed_other_ledger() -> None:
    first = [r.content + r.salt for r in LedgerGenerator(300, seed=9).records()]
    again = [r.content + r.salt for r in LedgerGenerator(300, seed=9).records()]
    other = [r.content + r.salt for r in LedgerGenerator(300, seed=10).records()]
    assert first == again
    assert not set(first) & set(other)


def test_content_is_canonical_and_signed_by_a_registered_writer(
    generated: list[GeneratedRecord],
) -> None:
    keys = {w.actor: w.public_key for w in LedgerGenerator(1, seed=3).writers}
    for row in generated:
        record = Record.model_validate_json(row.content)
        assert record.canonical_bytes() == row.content
        verify_record_signature(record, keys[row.actor])
        assert list(record.parents) == list(row.parents)
        assert (record.supersedes, record.disputes) == (row.supersedes, row.disputes)


@pytest.mark.parametrize("index_backend", ["sqlite"], indirect=True)
def test_intake_accepts_every_generated_record_and_stores_the_same_rows(
    generated: list[GeneratedRecord], service: LedgerService, index_db: IndexDatabase
) -> None:
    generator = LedgerGenerator(RECORDS, seed=3)
    for writer in generator.writers:
        service.register_writer(writer.actor, writer.public_key)
    records = [Record.model_validate_json(r.content) for r in generated]
    for start in range(0, len(records), 500):  # parents first, across requests too
        results = service.append(records[start : start + 500])
        assert {r.status for r in results} == {"created"}
    with index_db.session_factory() as session:
        stored = {row.record_id: row for row in session.scalars(select(m.Record))}
        edges = set(session.execute(select(m.LineageEdge.child_id, m.LineageEdge.parent_id)))
    assert len(stored) == RECORDS
    for r in generated:
        row = stored[r.record_id]
        assert row.content == r.content
        assert row.content_sha256 == r.content_sha256
        assert (row.kind, row.subject, row.source, row.actor, row.occurred_at) == (
            r.kind, r.subject, r.source, r.actor, r.occurred_at,
        )  # fmt: skip
        # what the generator fills in for intake's derived columns is what intake fills in
        assert (row.superseded_by, row.disputed_by) == (r.superseded_by, r.disputed_by)
        assert (row.loan_id, row.loan_event) == (r.loan_id, r.loan_event)
    assert edges == {(r.record_id, p) for r in generated for p in r.parents}


def _normal(row: Any) -> tuple[Any, ...]:
    """A table's definition as the set of its column and constraint lines: Alembic's batch
    mode (SQLite table rebuilds) writes the constraints in no fixed order."""
    kind, name, table, sql = row
    if kind == "table" and sql:
        head, _, body = sql.partition("(")
        lines = frozenset(part.strip().rstrip(",") for part in body.rsplit(")", 1)[0].split("\n"))
        return kind, name, table, head, lines
    return kind, name, table, sql


def _schema(engine: Engine) -> set[tuple[Any, ...]]:
    """Every table, index and constraint definition, as the database itself reports it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # sqlite_stat1 holds ANALYZE's statistics: data about the data, not schema
            rows = connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
            return {_normal(row) for row in rows if row[1] != "sqlite_stat1"}
        indexes = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        )
        constraints = connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
            )
        )
        return {tuple(row) for row in indexes} | {tuple(row) for row in constraints}


@pytest.fixture
def loaded(index_db: IndexDatabase, generated: list[GeneratedRecord]) -> tuple[IndexDatabase, Any]:
    writers = LedgerGenerator(RECORDS, seed=3).writers
    report = load_ledger(
        index_db.url, generated, writers, chunk=700, batch_size=256, progress=lambda _: None
    )
    return index_db, report


def test_loaded_schema_equals_the_migrated_schema(
    loaded: tuple[IndexDatabase, Any], empty_index_engine: Engine
) -> None:
    index_db, _report = loaded
    upgrade(empty_index_engine)
    assert _schema(index_db.engine) == _schema(empty_index_engine)
    with index_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []
        if index_db.backend == "sqlite":  # PostgreSQL checked them when they were re-added
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_loaded_rows_anchors_and_outbox(
    loaded: tuple[IndexDatabase, Any], generated: list[GeneratedRecord]
) -> None:
    index_db, report = loaded
    with index_db.session_factory() as session:
        counts = count_rows(session)
        assert counts["records"] == report.records == RECORDS
        assert counts["lineage_edges"] == report.edges == sum(len(r.parents) for r in generated)
        assert counts["anchoring_outbox"] == RECORDS
        assert counts["record_anchors"] == report.anchored > 0
        assert counts["batches"] == report.batches
        _check_batches(session)
        writers = set(session.scalars(select(m.WriterKey.actor)))
        assert writers == {r.actor for r in generated}


def _check_batches(session: Session) -> None:
    rows = session.execute(select(m.Record.record_id, m.Record.commitment))
    commitments = {record_id: commitment for record_id, commitment in rows}
    leaves: dict[str, list[tuple[int, str]]] = {}
    for record_id, batch_id, leaf in session.execute(
        select(m.RecordAnchor.record_id, m.RecordAnchor.batch_id, m.RecordAnchor.leaf_index)
    ):
        leaves.setdefault(batch_id, []).append((leaf, record_id))
    for batch in session.scalars(select(m.Batch)):
        ordered = [rid for _leaf, rid in sorted(leaves[batch.batch_id])]
        tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(commitments[r]) for r in ordered])
        assert batch.root == tree.root
        assert batch.size == len(ordered)
        assert batch.state == "committed"
        assert batch.committed_at is not None
        first_seq = session.scalar(
            select(m.OutboxEntry.seq).where(m.OutboxEntry.record_id == ordered[0])
        )
        assert batch.batch_id == f"b{first_seq}-{tree.root.hex()[:12]}"
    states = Counter(session.scalars(select(m.OutboxEntry.state)))
    anchored = sum(len(v) for v in leaves.values())
    assert states == Counter({"batched": anchored, "pending": len(commitments) - anchored})


def test_the_loader_fills_only_a_new_index(
    loaded: tuple[IndexDatabase, Any], generated: list[GeneratedRecord]
) -> None:
    index_db, _report = loaded
    writers = LedgerGenerator(RECORDS, seed=3).writers
    with pytest.raises(IndexNotEmpty, match="new database"):
        load_ledger(index_db.url, generated[:10], writers, progress=lambda _: None)
    engine = make_engine(index_db.url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM records")).scalar() == RECORDS
    finally:
        engine.dispose()


@pytest.mark.parametrize("index_backend", ["sqlite", "postgresql"], indirect=True)
def test_copy_index_loads_the_same_ledger(
    index_db: IndexDatabase, generated: list[GeneratedRecord], tmp_path: Path
) -> None:
    source = sqlite_url(tmp_path / "source")
    writers = LedgerGenerator(RECORDS, seed=3).writers
    first = load_ledger(source, generated, writers, batch_size=256, progress=lambda _: None)
    report = copy_index(source, index_db.url, chunk=300, progress=lambda _: None)
    assert (report.records, report.edges, report.batches, report.anchored) == (
        first.records, first.edges, first.batches, first.anchored,
    )  # fmt: skip
    engine = make_engine(source)
    try:
        for table in (*LOADED_TABLES, "writer_keys"):
            columns = [c for c in m.Base.metadata.tables[table].c if c.name != "id"]
            query = select(*columns)
            with engine.connect() as a, index_db.engine.connect() as b:
                assert sorted(a.execute(query), key=repr) == sorted(b.execute(query), key=repr)
    finally:
        engine.dispose()
