"""Intake stage 4: insert the new records, their lineage edges and anchoring-outbox rows.

Each new record gets a fresh 32-byte salt and ``commitment = SHA-256(salt ‖ canonical_bytes)``.
Runs inside the request's write transaction, after the write plan.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from credit_ledger_verify.commitments import SALT_BYTES, commitment
from credit_ledger_verify.records import Record
from credit_ledger_verify.records.payloads import (
    FinancingEventPayload,
    ObjectionPayload,
    ObjectionStep,
)
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger_service.index.bulk import RowWriter
from ledger_service.index.models import LineageEdge, OutboxEntry, OutboxState
from ledger_service.index.models import Record as RecordRow
from ledger_service.index.repair_models import RepairAffected, RepairStep
from ledger_service.intake.checks import Candidate
from ledger_service.intake.plan import AppendResult
from ledger_service.intake.repairs import RepairStepRow
from ledger_service.regulation.deadlines import DEFAULT_OBJECTION_DAYS, answer_deadline

__all__ = ["insert_new"]

_RECORDS = RecordRow.metadata.tables[RecordRow.__tablename__]
_LINEAGE_EDGES = LineageEdge.metadata.tables[LineageEdge.__tablename__]
_OUTBOX = OutboxEntry.metadata.tables[OutboxEntry.__tablename__]
_REPAIR_STEPS = RepairStep.metadata.tables[RepairStep.__tablename__]
_REPAIR_AFFECTED = RepairAffected.metadata.tables[RepairAffected.__tablename__]

# Columns of the intake's bulk inserts, in the order of the row tuples insert_new builds.
_RECORD_COLUMNS = (
    "record_id",
    "kind",
    "subject",
    "occurred_at",
    "recorded_at",
    "source",
    "actor",
    "content",
    "salt",
    "commitment",
    "content_sha256",
    "supersedes",
    "disputes",
    "superseded_by",
    "disputed_by",
    "erased_at",
    "loan_id",
    "loan_event",
    "case_id",
    "case_step",
    "case_deadline",
)
_EDGE_COLUMNS = ("child_id", "parent_id")
_OUTBOX_COLUMNS = ("record_id", "state", "enqueued_at", "batched_at")
_REPAIR_STEP_COLUMNS = (
    "record_id",
    "case_id",
    "subject",
    "action",
    "status",
    "recorded_at",
    "score_change_id",
)
_REPAIR_AFFECTED_COLUMNS = ("case_id", "record_id")


def insert_new(
    session: Session,
    new: list[Candidate],
    now: datetime,
    results: list[AppendResult | None],
    repair_steps: Sequence[RepairStepRow] = (),
    objection_days: int = DEFAULT_OBJECTION_DAYS,
) -> None:
    """INSERT the new records, their lineage edges and outbox entries (and the repair-case
    rows of those that are case steps), and mark the records they supersede or dispute;
    fills ``results`` at the new records' positions."""
    connection = session.connection()
    writer = RowWriter.for_connection(connection)
    occurred_at_param = writer.datetime_param
    now_param = occurred_at_param(now)
    record_rows: list[tuple[Any, ...]] = []
    edge_rows: list[tuple[str, str]] = []
    outbox_rows: list[tuple[Any, ...]] = []
    pending = OutboxState.PENDING.value
    superseded_by: dict[str, str] = {}
    disputed_by: dict[str, str] = {}
    # One read of the OS CSPRNG for every salt of the request (a syscall per record is
    # measurable at 10,000 records); each record still gets its own independent salt.
    salts = secrets.token_bytes(SALT_BYTES * len(new))
    for index, candidate in enumerate(new):
        record = candidate.record
        record_id = record.record_id
        salt = salts[index * SALT_BYTES : (index + 1) * SALT_BYTES]
        digest = commitment(salt, candidate.canonical)
        loan_id, loan_event = _loan_of(record)
        case_id, case_step, case_deadline = _case_of(record, now, objection_days)
        # In _RECORD_COLUMNS order.
        record_rows.append(
            (
                record_id,
                record.kind.value,
                record.subject,
                occurred_at_param(record.occurred_at),
                now_param,
                record.source,
                record.actor,
                candidate.canonical,
                salt,
                digest,
                candidate.content_sha256,
                record.supersedes,
                record.disputes,
                None,  # superseded_by
                None,  # disputed_by
                None,  # erased_at
                loan_id,
                loan_event,
                case_id,
                case_step,
                None if case_deadline is None else writer.date_param(case_deadline),
            )
        )
        for parent in record.parents:
            edge_rows.append((record_id, parent))
        outbox_rows.append((record_id, pending, now_param, None))
        if record.supersedes is not None:
            superseded_by[record.supersedes] = record_id
        if record.disputes is not None:
            disputed_by[record.disputes] = record_id  # the latest objection wins
        results[candidate.position] = AppendResult(record_id, digest.hex(), "created")

    # In request order: a record's in-request parents are inserted before it, and the
    # outbox's seq follows the request.
    writer.insert(_RECORDS, _RECORD_COLUMNS, record_rows)
    writer.insert(_LINEAGE_EDGES, _EDGE_COLUMNS, edge_rows)
    writer.insert(_OUTBOX, _OUTBOX_COLUMNS, outbox_rows)
    if repair_steps:
        writer.insert(
            _REPAIR_STEPS,
            _REPAIR_STEP_COLUMNS,
            [
                (
                    s.record_id,
                    s.case_id,
                    s.subject,
                    s.action,
                    s.status,
                    now_param,
                    s.score_change_id,
                )
                for s in repair_steps
            ],
        )
        writer.insert(
            _REPAIR_AFFECTED,
            _REPAIR_AFFECTED_COLUMNS,
            [(s.case_id, affected) for s in repair_steps for affected in s.affected],
        )
    status_updates: dict[str, dict[str, Any]] = {}
    for target, by in superseded_by.items():
        status_updates.setdefault(target, {"record_id": target})["superseded_by"] = by
    for target, by in disputed_by.items():
        status_updates.setdefault(target, {"record_id": target})["disputed_by"] = by
    # Bulk UPDATE by primary key needs the same keys in every row: group by key set.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in status_updates.values():
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for rows in by_shape.values():
        session.execute(update(RecordRow), rows)


def _loan_of(record: Record) -> tuple[str | None, str | None]:
    """A financing event's loan id and event type, for the index's loan columns."""
    payload = record.payload
    if isinstance(payload, FinancingEventPayload):
        return payload.loan_id, payload.event.value
    return None, None


def _case_of(
    record: Record, now: datetime, days: int
) -> tuple[str | None, str | None, date | None]:
    """An objection step's case, step and (opening step only) answer deadline."""
    payload = record.payload
    if not isinstance(payload, ObjectionPayload):
        return None, None, None
    if payload.step is ObjectionStep.OPENED:
        return record.record_id, payload.step.value, answer_deadline(now, days)
    return payload.case, payload.step.value, None
