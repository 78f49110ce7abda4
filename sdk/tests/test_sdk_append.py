"""Bulk append through the SDK against the app in-process: chunking, per-record results,
progress, idempotent replays and conflicts naming the record and its position."""

from __future__ import annotations

import pytest
from credit_ledger_client import AppendProgress, IdempotencyConflict, InvalidInput
from sdk_testutil import InProcessLedger, data_updates


def test_append_in_chunks_reports_each_record_and_progress(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 25)
    seen: list[AppendProgress] = []
    with ledger.client() as client:
        results = client.append(records, chunk_size=10, progress=seen.append)
    assert [r.record_id for r in results] == [r.record_id for r in records]
    assert [r.index for r in results] == list(range(25))
    assert {r.status for r in results} == {"created"}
    assert [(p.done, p.total, len(p.chunk)) for p in seen] == [
        (10, 25, 10),
        (20, 25, 10),
        (25, 25, 5),
    ]
    assert ledger.stored_count() == 25


def test_the_same_bulk_twice_gives_the_same_answers_and_writes_nothing_twice(
    ledger: InProcessLedger,
) -> None:
    records = data_updates(ledger.writer, 30)
    with ledger.client() as client:
        first = client.append(records, chunk_size=7)
        second = client.append(records, chunk_size=7)
    assert {r.status for r in second} == {"existing"}
    # a second write would have drawn a new salt, hence a new commitment
    assert [r.commitment for r in second] == [r.commitment for r in first]
    assert (ledger.stored_count(), ledger.outbox_count()) == (30, 30)


def test_one_changed_record_is_a_conflict_naming_it_and_its_position(
    ledger: InProcessLedger,
) -> None:
    records = data_updates(ledger.writer, 30)
    with ledger.client() as client:
        client.append(records, chunk_size=10)
        changed = list(records)
        original = records[23]
        changed[23] = ledger.writer.build(
            "data_update",
            record_id=original.record_id,
            subject=original.subject,
            occurred_at=original.occurred_at,
            source="another-bureau",
            payload=original.payload,
        )
        with pytest.raises(IdempotencyConflict) as caught:
            client.append(changed, chunk_size=10)
    error = caught.value
    assert (error.status, error.record_id, error.record_index) == (409, original.record_id, 23)
    assert error.problem_code == "idempotency_conflict"
    assert original.record_id in str(error)
    assert "#23" in str(error)
    assert ledger.stored_count() == 30


def test_invalid_input_names_the_record_position_and_field(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 5)
    bad = records[3].to_json_dict()
    del bad["subject"]
    with ledger.client() as client, pytest.raises(InvalidInput) as caught:
        client.append([*records[:3], bad, records[4]], chunk_size=2)
    error = caught.value
    assert (error.status, error.record_index, error.field) == (422, 3, "subject")
    # chunk [0, 1] was acknowledged before chunk [2, 3] was refused as a whole
    assert ledger.stored_count() == 2


async def test_async_client_appends_replays_and_reports_progress(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 12)
    done: list[int] = []

    async def progress(update: AppendProgress) -> None:
        done.append(update.done)

    async with ledger.async_client() as client:
        first = await client.append(records, chunk_size=5, progress=progress)
        again = await client.append(records, chunk_size=5)
    assert done == [5, 10, 12]
    assert {r.status for r in first} == {"created"}
    assert {r.status for r in again} == {"existing"}
    assert [r.commitment for r in again] == [r.commitment for r in first]
    assert ledger.stored_count() == 12


def test_chunk_size_is_checked(ledger: InProcessLedger) -> None:
    with ledger.client() as client, pytest.raises(ValueError, match="chunk_size"):
        client.append(data_updates(ledger.writer, 1), chunk_size=0)
