"""Reports of the retention workflows: the runs (``retention_runs``) and the erasures (the
``erasure`` records, each with where it is anchored: batch, transaction, block).

Erasure records are found by the ``(kind, occurred_at)`` index; their content (kept: an
erasure record is never erased) says what was erased, on what basis and under which rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from credit_ledger_verify.records import ErasurePayload, RecordKind
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.index import models as m
from ledger_service.index.retention_models import RetentionRun
from ledger_service.queries.records import AnchorInfo, stored_records

__all__ = [
    "ErasureLine",
    "erasure_to_json",
    "erasures",
    "retention_runs",
    "run_to_json",
]

#: Newest first, at most this many lines per report.
DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class ErasureLine:
    erasure_record_id: str
    record_id: str
    subject: str
    basis: str
    rule: str
    reason: str | None
    conduct_ended: date | None
    expired_on: date | None
    erased_at: datetime
    anchor: AnchorInfo | None


def retention_runs(session: Session, limit: int = DEFAULT_LIMIT) -> list[RetentionRun]:
    """The runs, newest first."""
    query = select(RetentionRun).order_by(RetentionRun.started_at.desc()).limit(limit)
    return list(session.scalars(query))


def run_to_json(run: RetentionRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "as_of": run.as_of.isoformat(),
        "started_at": run.started_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "started_by": run.started_by,
        "expired": run.expired,
        "erased": run.erased,
        "kept": run.kept,
        "not_ended": run.not_ended,
    }


def erasures(
    session: Session, *, subject: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[ErasureLine]:
    """Every erasure record (newest first), parsed, with its anchor."""
    r = m.Record
    query = select(r.record_id).where(r.kind == RecordKind.ERASURE.value)
    if subject is not None:
        query = query.where(r.subject == subject)
    ids = list(session.scalars(query.order_by(r.occurred_at.desc(), r.record_id).limit(limit)))
    stored = stored_records(session, ids)
    lines: list[ErasureLine] = []
    for record_id in ids:
        row = stored[record_id]
        record = row.record()
        payload = record.payload
        assert isinstance(payload, ErasurePayload)
        lines.append(
            ErasureLine(
                erasure_record_id=record_id,
                record_id=payload.erased_record,
                subject=record.subject,
                basis=payload.basis.value,
                rule=payload.rule,
                reason=payload.reason,
                conduct_ended=payload.conduct_ended,
                expired_on=payload.expired_on,
                erased_at=record.occurred_at,
                anchor=row.anchor,
            )
        )
    return lines


def erasure_to_json(line: ErasureLine) -> dict[str, Any]:
    anchor = line.anchor
    return {
        "record_id": line.record_id,
        "subject": line.subject,
        "basis": line.basis,
        "rule": line.rule,
        "reason": line.reason,
        "conduct_ended": None if line.conduct_ended is None else line.conduct_ended.isoformat(),
        "expired_on": None if line.expired_on is None else line.expired_on.isoformat(),
        "erased_at": line.erased_at.isoformat(),
        "erasure_record": line.erasure_record_id,
        "anchor": None
        if anchor is None
        else {
            "batch_id": anchor.batch_id,
            "batch_state": anchor.batch_state,
            "tx_id": anchor.tx_id,
            "block_number": anchor.block_number,
        },
    }
