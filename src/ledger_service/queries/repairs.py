"""Credit-repair cases as of a time (docs/regulation.md "Credit repair"): the cases by
outcome, one case with its steps, affected records and linked score change, "which of these
records are repaired as of T", and the report's counts and lines.

A case's state as of T is made of its steps recorded (``recorded_at``) by T; its outcome is
the status of the latest of them (a case's statuses only move forward, so the latest step is
the one with the highest status). Each step carries its anchoring facts as of T (its batch,
transaction and block once the batch was committed by then), so a report line is backed by
anchored records. Reads ``repair_steps`` / ``repair_affected`` (filled by intake).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import UnknownRecord, ValidationError
from ledger_service.index import models as m
from ledger_service.index.bulk import select_many
from ledger_service.index.repair_models import RepairAffected, RepairStep
from ledger_service.queries.lineage.model import RepairMark
from ledger_service.queries.records import AnchorInfo

__all__ = [
    "OUTCOMES",
    "RepairCase",
    "RepairReport",
    "RepairStepInfo",
    "UnknownRepairCase",
    "case_to_json",
    "repair_case",
    "repair_cases",
    "repair_marks",
    "repair_report",
    "report_to_json",
]

#: A case's outcome is its latest status: open (submitted, verified) or final.
OUTCOMES = ("submitted", "verified", "approved", "rejected")
_RANK = {status: rank for rank, status in enumerate(OUTCOMES)}


class UnknownRepairCase(UnknownRecord):
    """No repair case has this id (as of the time asked about)."""

    code: ClassVar[str] = "unknown_repair_case"

    def __str__(self) -> str:
        return f'repair case "{self.record_id}": not in the index'


@dataclass(frozen=True)
class RepairStepInfo:
    record_id: str
    status: str
    recorded_at: datetime
    #: where the step's record is anchored, if its batch was committed by then
    anchor: AnchorInfo | None


@dataclass(frozen=True)
class RepairCase:
    case_id: str
    subject: str
    action: str
    #: the latest status recorded by the time asked about (one of :data:`OUTCOMES`)
    status: str
    affected: tuple[str, ...]
    steps: tuple[RepairStepInfo, ...]
    #: the approval's ``resulting_score_change``, if approved with one
    score_change: str | None

    @property
    def approved_at(self) -> datetime | None:
        return next((s.recorded_at for s in self.steps if s.status == "approved"), None)


def _check_status(status: str | None) -> None:
    if status is not None and status not in OUTCOMES:
        raise ValidationError(
            None, "status", f"must be one of {', '.join(OUTCOMES)}; got {status!r}"
        )


def repair_cases(
    session: Session,
    *,
    status: str | None = None,
    as_of: datetime | None = None,
    subject: str | None = None,
) -> list[RepairCase]:
    """The cases opened by ``as_of`` (now when ``None``), oldest first, optionally only
    those whose outcome by then is ``status`` or about ``subject``."""
    _check_status(status)
    query = select(RepairStep.case_id)
    if subject is not None:
        query = query.where(RepairStep.subject == subject)
    if as_of is not None:
        query = query.where(RepairStep.recorded_at <= as_of)
    case_ids = sorted({row.case_id for row in session.execute(query)})
    cases = _load(session, case_ids, as_of)
    found = [c for c in cases.values() if status is None or c.status == status]
    return sorted(found, key=lambda c: (c.steps[0].recorded_at, c.case_id))


def repair_case(session: Session, case_id: str, *, as_of: datetime | None = None) -> RepairCase:
    """One case as of ``as_of``.

    Raises:
        UnknownRepairCase: no case with this id was opened by then.
    """
    case = _load(session, [case_id], as_of).get(case_id)
    if case is None:
        raise UnknownRepairCase(case_id)
    return case


def repair_marks(
    session: Session, record_ids: Iterable[str], as_of: datetime | None = None
) -> dict[str, RepairMark]:
    """The repair of each record that one concerns as of ``as_of``: an approved case if any
    (the record is then *repaired*), else the latest-opened case. Records no case concerns
    are absent."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return {}
    by_record: dict[str, list[str]] = {}
    for row in select_many(
        session,
        select(RepairAffected.record_id, RepairAffected.case_id),
        RepairAffected.record_id,
        wanted,
    ):
        by_record.setdefault(row.record_id, []).append(row.case_id)
    cases = _load(session, sorted({c for ids in by_record.values() for c in ids}), as_of)
    marks: dict[str, RepairMark] = {}
    for record_id, case_ids in by_record.items():
        known = [cases[c] for c in case_ids if c in cases]
        if not known:
            continue
        best = max(known, key=lambda c: (c.status == "approved", c.steps[0].recorded_at))
        marks[record_id] = RepairMark(
            case=best.case_id,
            status=best.status,
            approved_at=best.approved_at,
            score_change=best.score_change,
        )
    return marks


def _load(session: Session, case_ids: list[str], as_of: datetime | None) -> dict[str, RepairCase]:
    if not case_ids:
        return {}
    query = (
        select(RepairStep, m.RecordAnchor, m.Batch)
        .outerjoin(m.RecordAnchor, m.RecordAnchor.record_id == RepairStep.record_id)
        .outerjoin(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
    )
    if as_of is not None:
        query = query.where(RepairStep.recorded_at <= as_of)
    steps: dict[str, list[tuple[RepairStep, RepairStepInfo]]] = {}
    for row in select_many(session, query, RepairStep.case_id, case_ids):
        step, anchor, batch = cast(tuple[RepairStep, Any, Any], tuple(row))
        info = RepairStepInfo(step.record_id, step.status, step.recorded_at, None)
        if anchor is not None and batch is not None and _committed_by(batch, as_of):
            info = RepairStepInfo(
                step.record_id,
                step.status,
                step.recorded_at,
                AnchorInfo.of(batch, anchor.leaf_index),
            )
        steps.setdefault(step.case_id, []).append((step, info))
    affected: dict[str, list[str]] = {}
    for row in select_many(
        session,
        select(RepairAffected.case_id, RepairAffected.record_id),
        RepairAffected.case_id,
        sorted(steps),
    ):
        affected.setdefault(row.case_id, []).append(row.record_id)
    cases: dict[str, RepairCase] = {}
    for case_id, rows in steps.items():
        rows.sort(key=lambda pair: (_RANK[pair[0].status], pair[0].recorded_at))
        first, last = rows[0][0], rows[-1][0]
        cases[case_id] = RepairCase(
            case_id=case_id,
            subject=first.subject,
            action=first.action,
            status=last.status,
            affected=tuple(sorted(affected.get(case_id, []))),
            steps=tuple(info for _, info in rows),
            score_change=last.score_change_id,
        )
    return cases


def _committed_by(batch: Any, as_of: datetime | None) -> bool:
    if batch.state != m.BatchState.COMMITTED.value:
        return as_of is None  # pending/submitted/failed: shown as they stand now
    return as_of is None or (batch.committed_at is not None and batch.committed_at <= as_of)


@dataclass(frozen=True)
class RepairReport:
    """Cases by outcome as of a time, and every case as a line."""

    as_of: datetime | None
    counts: dict[str, int]
    cases: list[RepairCase]


def repair_report(session: Session, *, as_of: datetime | None = None) -> RepairReport:
    cases = repair_cases(session, as_of=as_of)
    counts = dict.fromkeys(OUTCOMES, 0)
    for case in cases:
        counts[case.status] += 1
    return RepairReport(as_of, counts, cases)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _anchor_json(anchor: AnchorInfo | None) -> dict[str, Any] | None:
    if anchor is None:
        return None
    return {
        "batch_id": anchor.batch_id,
        "leaf_index": anchor.leaf_index,
        "state": anchor.batch_state,
        "tx_id": anchor.tx_id,
        "block_number": anchor.block_number,
        "committed_at": _time(anchor.committed_at),
    }


def case_to_json(case: RepairCase) -> dict[str, Any]:
    return {
        "case": case.case_id,
        "subject": case.subject,
        "action": case.action,
        "status": case.status,
        "affected_records": list(case.affected),
        "approved_at": _time(case.approved_at),
        "score_change": case.score_change,
        "anchored": all(
            s.anchor is not None and s.anchor.block_number is not None for s in case.steps
        ),
        "steps": [
            {
                "record_id": s.record_id,
                "status": s.status,
                "recorded_at": _time(s.recorded_at),
                "anchor": _anchor_json(s.anchor),
            }
            for s in case.steps
        ],
    }


def report_to_json(report: RepairReport) -> dict[str, Any]:
    return {
        "as_of": _time(report.as_of),
        "counts": report.counts,
        "cases": [case_to_json(c) for c in report.cases],
    }
