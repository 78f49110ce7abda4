"""Intake: credit-repair cases (信用修复; docs/regulation.md "Credit repair").

A case is the chain of ``credit_repair`` records linked by ``supersedes``: a ``submitted``
record opens it (its record id is the case id), then ``verified``, then ``approved`` or
``rejected``. The status machine itself and "one successor per step" are checked with every
correction (:mod:`.plan`); this stage adds what makes the chain a case, inside the write
transaction, before anything is written:

* a submission names at least one affected record; each exists (earlier in the request or in
  the index), is about the same subject and is negative information under one of the
  retention rules (:mod:`ledger_service.regulation.rules`);
* every later step keeps the case's action, and its ``affected_records`` are empty or the
  submission's;
* an approval's ``resulting_score_change`` (optional: an approval need not move a score) is a
  ``score_change`` of the same subject, already recorded, whose ``parents`` include a step of
  this case — the re-scoring declares in its own signed content that it used the repair.

Not cases, and accepted as before: a ``credit_repair`` with ``disputes`` (an objection, the
objections workflow's), and a repair statement that is not a submission and supersedes no
case step (the sample ledger's ``verified`` statement; docs/regulation.md says why).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from credit_ledger_verify.records import (
    CreditRepairPayload,
    DataUpdatePayload,
    FinancingEventPayload,
    Record,
    RepairStatus,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import DanglingParent, ValidationError
from ledger_service.index.bulk import select_many
from ledger_service.index.models import LineageEdge
from ledger_service.index.models import Record as RecordRow
from ledger_service.index.repair_models import RepairAffected, RepairStep
from ledger_service.intake.checks import Candidate
from ledger_service.regulation.rules import RULES, RecordFacts, dataset_of, rule_for

__all__ = ["RepairCaseError", "RepairStepRow", "check_repair_cases"]


class RepairCaseError(ValidationError):
    """A ``credit_repair`` record does not fit its repair case; nothing was written."""

    code: ClassVar[str] = "repair_case_invalid"


@dataclass(frozen=True)
class RepairStepRow:
    """One accepted step of a case, for the ``repair_steps`` / ``repair_affected`` rows."""

    record_id: str
    case_id: str
    subject: str
    action: str
    status: str
    score_change_id: str | None
    #: the submission's affected records (empty for later steps)
    affected: tuple[str, ...]


@dataclass
class _Case:
    action: str
    affected: tuple[str, ...]
    steps: set[str]


@dataclass(frozen=True)
class _Referenced:
    """What the checks read about an affected record or a score change."""

    kind: str
    subject: str
    occurred_at: datetime
    loan_event: str | None
    dataset: str | None
    parents: frozenset[str]
    erased: bool


def _is_case_record(record: Record) -> bool:
    return isinstance(record.payload, CreditRepairPayload) and record.disputes is None


def check_repair_cases(session: Session, new: list[Candidate]) -> list[RepairStepRow]:
    """The case steps among ``new`` (in request order), checked against the index and the
    request's earlier records.

    Raises:
        RepairCaseError: naming the record and the field that does not fit its case.
        DanglingParent: an affected record or score change that does not exist.
    """
    repairs = [c.record for c in new if _is_case_record(c.record)]
    if not repairs:
        return []
    in_request = {c.record.record_id: c.record for c in new}
    cases, case_of = _stored_cases(
        session, {r.supersedes for r in repairs if r.supersedes and r.supersedes not in in_request}
    )
    referenced = _stored_referenced(
        session,
        {
            target
            for r in repairs
            for target in _payload(r).affected_records
            + [s for s in [_payload(r).resulting_score_change] if s is not None]
            if target not in in_request
        },
    )
    rows: list[RepairStepRow] = []
    earlier: dict[str, Record] = {}  # what a record may refer to within the request
    for candidate in new:
        record = candidate.record
        if _is_case_record(record):
            step = _case_step(record, cases, case_of, referenced, earlier)
            if step is not None:
                rows.append(step)
        earlier[record.record_id] = record
    return rows


def _case_step(
    record: Record,
    cases: dict[str, _Case],
    case_of: dict[str, str],
    referenced: dict[str, _Referenced],
    in_request: dict[str, Record],
) -> RepairStepRow | None:
    payload = _payload(record)
    if payload.status is RepairStatus.SUBMITTED and record.supersedes is None:
        _check_affected(record, payload, referenced, in_request)
        affected = tuple(payload.affected_records)
        cases[record.record_id] = _Case(payload.action.value, affected, {record.record_id})
        case_of[record.record_id] = record.record_id
        return _row(record, record.record_id, affected)
    case_id = case_of.get(record.supersedes) if record.supersedes else None
    if case_id is None:
        return None  # not a case step (module docstring)
    case = cases[case_id]
    _check_step(record, payload, case_id, case)
    if payload.resulting_score_change is not None:
        _check_score_change(record, payload.resulting_score_change, case, referenced, in_request)
    case.steps.add(record.record_id)
    case_of[record.record_id] = case_id
    return _row(record, case_id, ())


def _payload(record: Record) -> CreditRepairPayload:
    payload = record.payload
    assert isinstance(payload, CreditRepairPayload)
    return payload


def _row(record: Record, case_id: str, affected: tuple[str, ...]) -> RepairStepRow:
    payload = _payload(record)
    return RepairStepRow(
        record_id=record.record_id,
        case_id=case_id,
        subject=record.subject,
        action=payload.action.value,
        status=payload.status.value,
        score_change_id=payload.resulting_score_change,
        affected=affected,
    )


def _stored_cases(
    session: Session, superseded: set[str]
) -> tuple[dict[str, _Case], dict[str, str]]:
    """The cases (action, affected records, steps) of the stored records that new steps
    supersede, and each of those steps' case."""
    if not superseded:
        return {}, {}
    case_ids = {
        row.case_id
        for row in select_many(
            session, select(RepairStep.record_id, RepairStep.case_id), RepairStep.record_id,
            sorted(superseded),
        )
    }  # fmt: skip
    cases: dict[str, _Case] = {}
    case_of: dict[str, str] = {}
    for row in select_many(
        session,
        select(RepairStep.record_id, RepairStep.case_id, RepairStep.action),
        RepairStep.case_id,
        sorted(case_ids),
    ):
        case = cases.setdefault(row.case_id, _Case(row.action, (), set()))
        case.steps.add(row.record_id)
        case_of[row.record_id] = row.case_id
    affected: dict[str, list[str]] = {}
    for row in select_many(
        session,
        select(RepairAffected.case_id, RepairAffected.record_id),
        RepairAffected.case_id,
        sorted(case_ids),
    ):
        affected.setdefault(row.case_id, []).append(row.record_id)
    for case_id, records in affected.items():
        cases[case_id].affected = tuple(sorted(records))
    return cases, case_of


def _stored_referenced(session: Session, ids: Iterable[str]) -> dict[str, _Referenced]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    parents: dict[str, set[str]] = {}
    for edge in select_many(
        session,
        select(LineageEdge.child_id, LineageEdge.parent_id),
        LineageEdge.child_id,
        wanted,
    ):
        parents.setdefault(edge.child_id, set()).add(edge.parent_id)
    found: dict[str, _Referenced] = {}
    for row in select_many(
        session,
        select(
            RecordRow.record_id,
            RecordRow.kind,
            RecordRow.subject,
            RecordRow.occurred_at,
            RecordRow.loan_event,
            RecordRow.content,
        ),
        RecordRow.record_id,
        wanted,
    ):
        content = None if row.content is None else bytes(row.content)
        found[row.record_id] = _Referenced(
            kind=row.kind,
            subject=row.subject,
            occurred_at=row.occurred_at,
            loan_event=row.loan_event,
            dataset=dataset_of(row.kind, content),
            parents=frozenset(parents.get(row.record_id, ())),
            erased=content is None,
        )
    return found


def _of_record(record: Record) -> _Referenced:
    payload: Any = record.payload
    return _Referenced(
        kind=record.kind.value,
        subject=record.subject,
        occurred_at=record.occurred_at,
        loan_event=payload.event.value if isinstance(payload, FinancingEventPayload) else None,
        dataset=payload.dataset.value if isinstance(payload, DataUpdatePayload) else None,
        parents=frozenset(record.parents),
        erased=False,
    )


def _lookup(
    record: Record,
    field: str,
    target: str,
    referenced: dict[str, _Referenced],
    in_request: dict[str, Record],
) -> _Referenced:
    if target in in_request:
        return _of_record(in_request[target])
    found = referenced.get(target)
    if found is None:
        raise DanglingParent(record.record_id, field, target)
    return found


_RULE_NAMES = ", ".join(rule.name.value for rule in RULES)


def _check_affected(
    record: Record,
    payload: CreditRepairPayload,
    referenced: dict[str, _Referenced],
    in_request: dict[str, Record],
) -> None:
    if not payload.affected_records:
        raise RepairCaseError(
            record.record_id,
            "payload.affected_records",
            "a submitted repair must name the negative records it concerns",
        )
    for i, target in enumerate(payload.affected_records):
        field = f"payload.affected_records[{i}]"
        found = _lookup(record, field, target, referenced, in_request)
        if found.subject != record.subject:
            raise RepairCaseError(
                record.record_id,
                field,
                f"record {target!r} is about {found.subject}, not the repair's subject "
                f"{record.subject}",
            )
        if found.erased:
            raise RepairCaseError(
                record.record_id,
                field,
                f"record {target!r} has been erased; its content cannot show it is negative "
                "information",
            )
        facts = RecordFacts(
            record_id=target,
            kind=found.kind,
            subject=found.subject,
            occurred_at=found.occurred_at,
            loan_event=found.loan_event,
            dataset=found.dataset,
        )
        if rule_for(facts) is None:
            what = found.kind + (f" from the {found.dataset} data set" if found.dataset else "")
            what += f" ({found.loan_event})" if found.loan_event else ""
            raise RepairCaseError(
                record.record_id,
                field,
                f"record {target!r} ({what}) is not negative information under any retention "
                f"rule ({_RULE_NAMES}); only negative records can be repaired",
            )


def _check_step(record: Record, payload: CreditRepairPayload, case_id: str, case: _Case) -> None:
    if payload.action.value != case.action:
        raise RepairCaseError(
            record.record_id,
            "payload.action",
            f"repair case {case_id!r} is a {case.action} repair; a step cannot change it to "
            f"{payload.action.value}",
        )
    if payload.affected_records and sorted(payload.affected_records) != sorted(case.affected):
        raise RepairCaseError(
            record.record_id,
            "payload.affected_records",
            f"must be empty or the submission's ({', '.join(case.affected)}) in repair case "
            f"{case_id!r}",
        )


def _check_score_change(
    record: Record,
    score_change_id: str,
    case: _Case,
    referenced: dict[str, _Referenced],
    in_request: dict[str, Record],
) -> None:
    field = "payload.resulting_score_change"
    found = _lookup(record, field, score_change_id, referenced, in_request)
    if found.kind != "score_change" or found.subject != record.subject:
        raise RepairCaseError(
            record.record_id,
            field,
            f"must be a score_change about {record.subject}; {score_change_id!r} is a "
            f"{found.kind} about {found.subject}",
        )
    if not found.parents & case.steps:
        raise RepairCaseError(
            record.record_id,
            field,
            f"score change {score_change_id!r} does not list a step of this repair case among "
            f"its parents ({', '.join(sorted(case.steps))}); the re-scoring must declare that "
            "it used the repair",
        )
