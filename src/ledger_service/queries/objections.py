"""Objection cases (征信业管理条例 Art. 25; docs/regulation.md "Objections"): listings of open,
overdue and resolved cases as of a time, one case with every step, its impact downstream,
and the report.

A case is the opening ``objection`` record (``step: opened``, ``disputes``: the record) and at
most one resolution naming it (``corrected`` / ``upheld`` / ``rejected``); intake keeps that
so (``intake.objections``). As of T: a case exists when its opening was recorded by T; it is
**open** until a resolution recorded by T, and **overdue** when open and T's day (China time)
is after its deadline. Everything is read from index columns (``case_id``, ``case_step``,
``case_deadline``, ``recorded_at``) except the steps' reasons, which are in their content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from credit_ledger_verify.records import ObjectionPayload, parse_record
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from ledger_service.errors import LedgerError, ValidationError
from ledger_service.index import models as m
from ledger_service.queries.lineage.cases import OPENED
from ledger_service.queries.lineage.impact import DEFAULT_IMPACT_DEPTH, impact
from ledger_service.queries.lineage.model import LineageGraph, graph_to_json
from ledger_service.queries.records import AnchorInfo, StoredRecord, stored_records
from ledger_service.regulation.deadlines import is_overdue
from ledger_service.regulation.rules import local_date

__all__ = [
    "CASE_STATUSES",
    "CaseImpact",
    "CaseStatus",
    "CaseStep",
    "LoanOfCase",
    "ObjectionCase",
    "ObjectionReport",
    "UnknownObjectionCase",
    "case_files",
    "case_impact",
    "case_impact_to_json",
    "case_steps",
    "case_to_json",
    "find_case",
    "list_cases",
    "objection_report",
    "report_to_json",
    "step_to_json",
    "subjects_of",
]

CaseStatus = Literal["open", "overdue", "resolved"]
CASE_STATUSES: tuple[CaseStatus, ...] = ("open", "overdue", "resolved")


class UnknownObjectionCase(LedgerError):
    """No objection case is opened by that record id (by the time asked about)."""

    code: ClassVar[str] = "unknown_objection_case"

    def __init__(self, case_id: str, as_of: datetime) -> None:
        self.record_id = case_id
        super().__init__(
            f"no objection case {case_id!r} was opened by {as_of.isoformat()} "
            "(a case is named by its opening record)"
        )


@dataclass(frozen=True, slots=True)
class ObjectionCase:
    """One case as of a time."""

    case: str
    subject: str
    #: the record objected to
    disputed: str
    opened_at: datetime
    deadline: date
    #: ``corrected`` / ``upheld`` / ``rejected`` once resolved by the time asked about
    resolution_step: str | None
    resolution: str | None
    resolved_at: datetime | None
    #: open after its deadline day (as of the time asked about)
    overdue: bool

    @property
    def status(self) -> CaseStatus:
        if self.resolution is not None:
            return "resolved"
        return "overdue" if self.overdue else "open"

    @property
    def answered_in_time(self) -> bool | None:
        """Resolved on or before its deadline day (None while open)."""
        if self.resolved_at is None:
            return None
        return local_date(self.resolved_at) <= self.deadline


def _cases_query(as_of: datetime) -> Any:
    opening, resolution = aliased(m.Record), aliased(m.Record)
    return (
        (
            select(
                opening.record_id,
                opening.subject,
                opening.disputes,
                opening.recorded_at,
                opening.case_deadline,
                resolution.record_id.label("resolution"),
                resolution.case_step.label("resolution_step"),
                resolution.recorded_at.label("resolved_at"),
            )
            .outerjoin(
                resolution,
                and_(
                    resolution.case_id == opening.record_id,
                    resolution.case_step != OPENED,
                    resolution.recorded_at <= as_of,
                ),
            )
            .where(opening.case_step == OPENED, opening.recorded_at <= as_of)
        ),
        opening,
        resolution,
    )


def _case_of(row: Any, as_of: datetime) -> ObjectionCase:
    open_ = row.resolution is None
    return ObjectionCase(
        case=row.record_id,
        subject=row.subject,
        disputed=row.disputes,
        opened_at=row.recorded_at,
        deadline=row.case_deadline,
        resolution_step=row.resolution_step,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        overdue=open_ and is_overdue(row.case_deadline, as_of),
    )


def list_cases(
    session: Session,
    *,
    as_of: datetime,
    status: CaseStatus | None = None,
    subject: str | None = None,
    limit: int = 1000,
    after: tuple[datetime, str] | None = None,
) -> list[ObjectionCase]:
    """Cases opened by ``as_of``, oldest first (``(opened_at, case)``), optionally only
    those open (overdue ones included), overdue or resolved as of then; at most ``limit``,
    after the position ``after`` (the last case of the previous page)."""
    if status is not None and status not in CASE_STATUSES:
        raise _bad("status", f"must be one of {', '.join(CASE_STATUSES)}, got {status!r}")
    if limit < 1:
        raise _bad("limit", f"must be at least 1, got {limit}")
    query, opening, resolution = _cases_query(as_of)
    if subject is not None:
        query = query.where(opening.subject == subject)
    if status == "resolved":
        query = query.where(resolution.record_id.is_not(None))
    elif status in ("open", "overdue"):
        query = query.where(resolution.record_id.is_(None))
    if status == "overdue":
        # deadline day before as_of's day (China time): deadline < local date of as_of
        query = query.where(opening.case_deadline < local_date(as_of))
    if after is not None:
        query = query.where(
            or_(
                opening.recorded_at > after[0],
                and_(opening.recorded_at == after[0], opening.record_id > after[1]),
            )
        )
    query = query.order_by(opening.recorded_at, opening.record_id).limit(limit)
    return [_case_of(row, as_of) for row in session.execute(query)]


def find_case(session: Session, case_id: str, *, as_of: datetime) -> ObjectionCase:
    """The case opened by record ``case_id``, as of ``as_of``.

    Raises:
        UnknownObjectionCase: no such case opened by then.
    """
    query, opening, _ = _cases_query(as_of)
    row = session.execute(query.where(opening.record_id == case_id)).first()
    if row is None:
        raise UnknownObjectionCase(case_id, as_of)
    return _case_of(row, as_of)


@dataclass(frozen=True, slots=True)
class CaseStep:
    """A record of the case file: a step, the disputed record or the correction."""

    record_id: str
    #: ``disputed`` / ``opened`` / ``corrected`` / ``upheld`` / ``rejected`` / ``correction``
    role: str
    recorded_at: datetime
    actor: str
    #: the objection's grounds or the written answer (None for other roles, or once erased)
    reason: str | None
    anchor: AnchorInfo | None


def case_steps(session: Session, case: ObjectionCase) -> list[CaseStep]:
    """The case file's records in order: the disputed record, the opening, the correction
    (for ``corrected``) and the resolution, each with its anchoring facts."""
    return case_files(session, [case])[case.case]


def case_files(session: Session, cases: list[ObjectionCase]) -> dict[str, list[CaseStep]]:
    """:func:`case_steps` of many cases, by case, in two batched reads (the cases' records,
    then the corrections their resolutions name)."""
    stored = stored_records(
        session, [i for c in cases for i in (c.case, c.disputed, *_ids(c.resolution))]
    )
    corrections: dict[str, str] = {}
    for c in cases:
        if c.resolution is not None:
            payload = _payload(stored[c.resolution].content)
            if payload is not None and payload.correction is not None:
                corrections[c.case] = payload.correction
    stored.update(stored_records(session, corrections.values()))
    files: dict[str, list[CaseStep]] = {}
    for c in cases:
        roles = [(c.disputed, "disputed"), (c.case, OPENED)]
        if c.case in corrections:
            roles.append((corrections[c.case], "correction"))
        if c.resolution is not None:
            roles.append((c.resolution, c.resolution_step or "resolution"))
        files[c.case] = [_step(stored[record_id], role) for record_id, role in roles]
    return files


def _step(record: StoredRecord, role: str) -> CaseStep:
    payload = _payload(record.content) if record.kind == "objection" else None
    return CaseStep(
        record_id=record.record_id,
        role=role,
        recorded_at=record.recorded_at,
        actor=record.actor,
        reason=None if payload is None else payload.reason,
        anchor=record.anchor,
    )


def _ids(value: str | None) -> list[str]:
    return [] if value is None else [value]


def _payload(content: bytes | None) -> ObjectionPayload | None:
    if content is None:
        return None
    payload = parse_record(content).payload
    return payload if isinstance(payload, ObjectionPayload) else None


@dataclass(frozen=True, slots=True)
class LoanOfCase:
    loan_id: str
    events: tuple[str, ...]
    decision: str | None
    decided_at: datetime | None
    #: True: decided before the objection was recorded; False: after; None: undecided
    decided_before_objection: bool | None


@dataclass
class CaseImpact:
    case: ObjectionCase
    scores: list[str]
    loans: list[LoanOfCase]
    graph: LineageGraph


def case_impact(
    session: Session, case_id: str, *, as_of: datetime, depth: int = DEFAULT_IMPACT_DEPTH
) -> CaseImpact:
    """Every score and loan downstream of the disputed record (as of ``as_of``), and whether
    each loan's decision came before or after the objection."""
    case = find_case(session, case_id, as_of=as_of)
    hit = impact(session, case.disputed, depth=depth, as_of=as_of)
    loans = [
        LoanOfCase(
            loan.loan_id,
            loan.events,
            loan.decision,
            loan.decided_at,
            None if loan.decided_at is None else loan.decided_at < case.opened_at,
        )
        for loan in hit.loans
    ]
    return CaseImpact(case, hit.scores, loans, hit.graph)


@dataclass
class ObjectionReport:
    as_of: datetime
    counts: dict[str, int]
    #: every case opened by then, each with its records' anchoring
    lines: list[tuple[ObjectionCase, list[CaseStep]]]


def objection_report(
    session: Session, *, as_of: datetime, subject: str | None = None
) -> ObjectionReport:
    """Counts (open, overdue, resolved by step, answered in time or late) and one line per
    case with the anchoring facts of its records."""
    cases = list_cases(session, as_of=as_of, subject=subject, limit=1_000_000)
    counts = {
        "opened": len(cases),
        "open": sum(c.status == "open" for c in cases),
        "overdue": sum(c.status == "overdue" for c in cases),
        "resolved": sum(c.status == "resolved" for c in cases),
        "corrected": sum(c.resolution_step == "corrected" for c in cases),
        "upheld": sum(c.resolution_step == "upheld" for c in cases),
        "rejected": sum(c.resolution_step == "rejected" for c in cases),
        "answered_in_time": sum(c.answered_in_time is True for c in cases),
        "answered_late": sum(c.answered_in_time is False for c in cases),
    }
    files = case_files(session, cases)
    return ObjectionReport(as_of, counts, [(c, files[c.case]) for c in cases])


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError(None, field, message)


# --- JSON -------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def case_to_json(case: ObjectionCase) -> dict[str, Any]:
    return {
        "case": case.case,
        "subject": case.subject,
        "disputed": case.disputed,
        "status": case.status,
        "opened_at": _time(case.opened_at),
        "deadline": case.deadline.isoformat(),
        "overdue": case.overdue,
        "resolution": case.resolution,
        "resolution_step": case.resolution_step,
        "resolved_at": _time(case.resolved_at),
        "answered_in_time": case.answered_in_time,
    }


def step_to_json(step: CaseStep) -> dict[str, Any]:
    anchor = step.anchor
    committed = anchor is not None and anchor.batch_state == m.BatchState.COMMITTED.value
    return {
        "record_id": step.record_id,
        "role": step.role,
        "recorded_at": _time(step.recorded_at),
        "actor": step.actor,
        "reason": step.reason,
        "anchor": None
        if anchor is None or not committed
        else {
            "batch_id": anchor.batch_id,
            "leaf_index": anchor.leaf_index,
            "tx_id": anchor.tx_id,
            "block_number": anchor.block_number,
            "committed_at": _time(anchor.committed_at),
        },
    }


def case_impact_to_json(hit: CaseImpact) -> dict[str, Any]:
    return {
        "case": case_to_json(hit.case),
        "scores": hit.scores,
        "loans": [
            {
                "loan_id": loan.loan_id,
                "events": list(loan.events),
                "decision": loan.decision,
                "decided_at": _time(loan.decided_at),
                "decided_before_objection": loan.decided_before_objection,
            }
            for loan in hit.loans
        ],
        "graph": graph_to_json(hit.graph),
    }


def report_to_json(report: ObjectionReport) -> dict[str, Any]:
    return {
        "as_of": _time(report.as_of),
        "counts": report.counts,
        "lines": [
            {**case_to_json(case), "records": [step_to_json(s) for s in steps]}
            for case, steps in report.lines
        ],
    }


def subjects_of(cases: list[ObjectionCase]) -> list[tuple[str, str]]:
    """(subject, case) pairs: what a read of these cases logs."""
    return [(c.subject, c.case) for c in cases]
