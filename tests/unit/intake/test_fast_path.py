"""The fast intake path stores exactly what the plain path stored, on both backends.

``LedgerService.append`` canonicalises each record once (the committed form is the signed
form with the signature spliced in) and bulk-inserts through the driver (SQLite
``executemany``, PostgreSQL ``COPY``) instead of SQLAlchemy's Core ``insert()``. These tests
pin the equivalences: same rows byte for byte (types included), same errors, same retries.
Speed itself is measured by ``scripts/bench_intake.py``, not by tests.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from credit_ledger_verify import canonical as canonical_module
from credit_ledger_verify.records import Record
from hypothesis import settings
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import SignatureError, ValidationError
from ledger_service.index import write_session
from ledger_service.index.bulk import RowWriter
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake import AppendResult, LedgerService
from ledger_service.intake import service as intake_service
from ledger_service.intake.plan import plan_write
from ledger_service.queries import RecordQueries
from ledger_service.samples.data import SampleWriter, stories
from tests.db.factories import RecordFactory, table_counts

NOW = datetime(2025, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
INTAKE_TABLES = ("anchoring_outbox", "lineage_edges", "records")


def _request(writer: SampleWriter) -> list[Record]:
    """Every kind, parents in and out of the request, a correction and an objection."""
    records = list(stories(writer, 18, prefix="perf"))
    factory = RecordFactory(writer.actor, writer.signing_key)
    subject = records[0].subject
    records.append(
        factory.data_update("perf-fix", subject=subject, supersedes=records[0].record_id)
    )
    records.append(
        factory.data_update("perf-objection", subject=subject, disputes=records[1].record_id)
    )
    return records


def _stored_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every intake row as the database holds it (on SQLite with each value's storage class)."""
    sqlite = engine.dialect.name == "sqlite"
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in INTAKE_TABLES:
            columns = [
                column.name
                for column in RecordRow.metadata.tables[table].columns
                if column.name != "seq"  # autoincrement: compared by order below
            ]
            selected = list(columns)
            if sqlite:
                selected += [f"typeof({column})" for column in columns]
            order = "seq" if table == "anchoring_outbox" else ", ".join(columns[:2])
            result = connection.exec_driver_sql(
                f"SELECT {', '.join(selected)} FROM {table} ORDER BY {order}"
            )
            rows[table] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in result
            ]
    return rows


def _clear(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in INTAKE_TABLES:
            connection.exec_driver_sql(f"DELETE FROM {table}")


def _core_mode(connection: Any) -> RowWriter:
    return RowWriter(connection, "core")


def test_rows_equal_the_core_insert_path(
    index_engine: Engine,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = SampleWriter()
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer(writer.actor, writer.public_key)
    records = _request(writer)
    # The same salts on both runs, so commitments (and rows) can be compared.
    counter = itertools.count()
    monkeypatch.setattr(
        secrets,
        "token_bytes",
        lambda n: bytes((next(counter) + i) % 256 for i in range(n)),
    )

    counter = itertools.count()
    fast_results = service.append(records)
    fast_rows = _stored_rows(index_engine)
    _clear(index_engine)

    counter = itertools.count()
    with monkeypatch.context() as patch:
        patch.setattr(RowWriter, "for_connection", staticmethod(_core_mode))
        core_results = service.append(records)
    core_rows = _stored_rows(index_engine)

    assert fast_results == core_results
    assert {r.status for r in fast_results} == {"created"}
    assert fast_rows == core_rows
    assert len(fast_rows["records"]) == len(records)
    if index_engine.dialect.name == "sqlite":
        record = fast_rows["records"][0]
        half = len(record) // 2
        names = RecordRow.metadata.tables["records"].columns.keys()
        storage = dict(zip(names, record[half:], strict=True))
        assert storage["content"] == storage["salt"] == storage["commitment"] == "blob"
        assert storage["occurred_at"] == storage["recorded_at"] == "text"
        assert record[4] == "2025-03-01 12:00:00.250000"  # recorded_at, SQLAlchemy's format


def test_bulk_insert_errors_are_sqlalchemy_errors(session_factory: sessionmaker[Session]) -> None:
    columns: tuple[str, ...] = ("record_id", "kind", "subject", "occurred_at", "recorded_at")
    columns += ("source", "actor")
    columns += ("content", "salt", "commitment", "content_sha256")
    with session_factory() as session:
        connection = session.connection()
        writer = RowWriter.for_connection(connection)
        now = writer.datetime_param(NOW)
        digest = b"\x01" * 32
        row = ("dup", "data_update", "x", now, now, "s", "a", b"{}", b"\x00" * 32, digest, digest)
        with pytest.raises(IntegrityError) as caught:
            writer.insert(RecordRow.metadata.tables["records"], columns, [row, row])
        session.rollback()
    if connection.dialect.name == "postgresql":
        assert getattr(caught.value.orig, "sqlstate", None) == "23505"  # unique_violation
    assert table_counts(session_factory)["records"] == 0


def test_duplicate_insert_is_retried_as_a_concurrent_write(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record inserted by someone else between the check and the insert: retry, "existing"."""
    factory = RecordFactory("platform")
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer("platform", factory.public_key)
    record = factory.data_update("raced")
    first = service.append([record])

    calls = 0

    def stale_plan(session: Session, candidates: list[Any]) -> Any:
        nonlocal calls
        calls += 1
        plan = plan_write(session, candidates)
        if calls == 1:  # the first attempt does not see the committed row
            plan.new = list(candidates)
            plan.results = [None] * len(candidates)
        return plan

    monkeypatch.setattr(intake_service, "plan_write", stale_plan)
    again = service.append([record])
    assert calls == 2
    assert again == [AppendResult(record.record_id, first[0].commitment, "existing")]
    assert table_counts(session_factory)["records"] == 1


def test_append_canonicalises_each_record_once_on_the_fast_path(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SampleWriter()
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer(writer.actor, writer.public_key)
    records = _request(writer)

    calls: list[object] = []
    real = canonical_module.canonicalize

    def counting(obj: Any) -> bytes:
        calls.append(obj)
        return real(obj)

    def no_reference(obj: Any) -> bytes:
        raise AssertionError("realistic records must not need the reference canonicaliser")

    monkeypatch.setattr("credit_ledger_verify.records.envelope.canonicalize", counting)
    monkeypatch.setattr(canonical_module, "canonicalize_reference", no_reference)
    results = service.append(records)
    assert len(results) == len(records)
    assert len(calls) == len(records)


def test_stored_content_is_the_reference_canonical_form(
    session_factory: sessionmaker[Session],
) -> None:
    writer = SampleWriter()
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer(writer.actor, writer.public_key)
    records = _request(writer)
    service.append(records)
    stored = RecordQueries(session_factory).get_records(r.record_id for r in records)
    for record in records:
        content = stored[record.record_id].content
        assert content == canonical_module.canonicalize_reference(record.to_json_dict())
    with write_session(session_factory) as session:  # the table is still writable as usual
        session.execute(
            insert(RecordRow),
            [
                {
                    "record_id": "plain",
                    "kind": "data_update",
                    "subject": records[0].subject,
                    "occurred_at": NOW,
                    "recorded_at": NOW,
                    "source": "s",
                    "actor": "a",
                    "content": b"{}",
                    "salt": b"\x00" * 32,
                    "commitment": b"\x00" * 32,
                    "content_sha256": b"\x00" * 32,
                }
            ],
        )


@settings(max_examples=300, deadline=None)
def _signed_batch(factory: RecordFactory, prefix: str, count: int) -> list[Record]:
    return [factory.data_update(f"{prefix}-{i}") for i in range(count)]


@pytest.mark.parametrize(
    "spoil",
    ["none", "bad_signature", "unsigned_later", "impostor", "unsigned_first"],
)
def test_parallel_verification_decides_like_the_calling_thread(
    session_factory: sessionmaker[Session], spoil: str
) -> None:
    """verify_threads > 1 gives the same results, and the same first error, as 1 thread."""
    platform = RecordFactory("platform")
    bank = RecordFactory("bank")
    outcomes: list[Any] = []
    for threads in (1, 3):
        service = LedgerService(
            session_factory=session_factory, clock=lambda: NOW, verify_threads=threads
        )
        service.register_writer("platform", platform.public_key)
        service.register_writer("bank", bank.public_key)
        records = _signed_batch(platform, f"pv{threads}", 150)
        if spoil in ("bad_signature", "unsigned_later"):
            other = records[71].without_signature().with_signature(records[70].signature or "")
            records[71] = other  # a valid signature, of another record
        if spoil == "unsigned_later":
            records[120] = records[120].without_signature()
        if spoil == "impostor":
            records[90] = bank.sign(records[90])  # signed by bank, claims platform
        if spoil == "unsigned_first":
            records[3] = records[3].without_signature()
            records[80] = (
                records[80].without_signature().with_signature(records[81].signature or "")
            )
        try:
            result: Any = [
                (r.record_id[len(f"pv{threads}") :], r.status) for r in service.append(records)
            ]
        except (SignatureError, ValidationError) as exc:
            result = (type(exc).__name__, str(exc).replace(f"pv{threads}", "pv"))
        outcomes.append(result)
    assert outcomes[0] == outcomes[1]
    if spoil == "none":
        assert len(outcomes[0]) == 150
    else:
        assert isinstance(outcomes[0], tuple), outcomes[0]


def test_verify_threads_must_be_positive(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="verify_threads"):
        LedgerService(session_factory=session_factory, verify_threads=0)
