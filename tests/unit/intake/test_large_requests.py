"""Bulk intake: a full 10,000-record request on each backend, and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from credit_ledger_verify.records import DataUpdateRecord, Record, ScoreChangeRecord
from nacl.signing import SigningKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index.models import LineageEdge, OutboxEntry
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake import DEFAULT_MAX_RECORDS, AppendResult, LedgerService
from ledger_service.queries import RecordQueries
from ledger_service.signing import sign_record
from tests.db.factories import RecordFactory, table_counts, uscc

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def bulk_records(count: int, key: SigningKey, prefix: str = "r") -> list[Record]:
    """Data updates for 100 subjects; every 10th record is a score relying on the 9 before."""
    records: list[Record] = []
    for i in range(count):
        common = {
            "record_id": f"{prefix}-{i:05d}",
            "subject": uscc(i % 100),
            "occurred_at": EPOCH + timedelta(seconds=i),
            "actor": "platform",
        }
        if i % 10 == 9:
            record: Record = ScoreChangeRecord(
                **common,
                source="scoring-engine",
                parents=[f"{prefix}-{j:05d}" for j in range(i - 9, i)],
                payload={
                    "model_id": "m",
                    "model_version": "1",
                    "score_after": "700",
                    "grade_after": "A",
                },
            )
        else:
            record = DataUpdateRecord(
                **common,
                source="tax-bureau",
                payload={
                    "dataset": "tax",
                    "fields_changed": {"paid": str(i)},
                    "source_reference": f"ref-{i}",
                },
            )
        records.append(sign_record(record, key))
    return records


def test_append_10000_records_in_one_request(session_factory: sessionmaker[Session]) -> None:
    key = SigningKey.generate()
    service = LedgerService(session_factory=session_factory)
    service.register_writer("platform", bytes(key.verify_key))
    records = bulk_records(DEFAULT_MAX_RECORDS, key)

    results = service.append(records)

    assert len(results) == DEFAULT_MAX_RECORDS
    assert {r.status for r in results} == {"created"}
    counts = table_counts(session_factory)
    assert counts["records"] == DEFAULT_MAX_RECORDS
    assert counts["anchoring_outbox"] == DEFAULT_MAX_RECORDS
    assert counts["lineage_edges"] == 9 * (DEFAULT_MAX_RECORDS // 10)
    pending = RecordQueries(session_factory).pending_records(DEFAULT_MAX_RECORDS)
    assert [p.record_id for p in pending] == [r.record_id for r in records]

    # The whole request again: all idempotent, nothing new.
    replay = service.append(records)
    assert replay == [AppendResult(r.record_id, r.commitment, "existing") for r in results]
    assert table_counts(session_factory) == counts


def test_concurrent_appends_of_the_same_records(session_factory: sessionmaker[Session]) -> None:
    """Racing writers with the same request: one creates, the others see "existing"."""
    writer = RecordFactory("platform")
    service = LedgerService(session_factory=session_factory)
    service.register_writer("platform", writer.public_key)
    base = writer.data_update("base")
    service.append([base])
    records = [base] + [writer.score_change(f"sc-{i}", parents=["base"]) for i in range(50)]

    threads = 4
    barrier = threading.Barrier(threads)
    outcomes: list[list[AppendResult] | BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result: list[AppendResult] | BaseException = service.append(records)
        except BaseException as exc:  # reported below
            result = exc
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, errors
    answers = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(answers) == threads
    created = [sum(r.status == "created" for r in answer) for answer in answers]
    assert sorted(created) == [0] * (threads - 1) + [50]
    commitments = {tuple(r.commitment for r in answer) for answer in answers}
    assert len(commitments) == 1, "every writer must get the same commitments"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(RecordRow)) == 51
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 51
        assert session.scalar(select(func.count()).select_from(LineageEdge)) == 50


@pytest.mark.parametrize("count", [1, 899, 900, 901, 1801])
def test_in_list_chunk_boundaries(session_factory: sessionmaker[Session], count: int) -> None:
    key = SigningKey.generate()
    service = LedgerService(session_factory=session_factory)
    service.register_writer("platform", bytes(key.verify_key))
    records = bulk_records(count, key)
    assert {r.status for r in service.append(records)} == {"created"}
    assert {r.status for r in service.append(records)} == {"existing"}
