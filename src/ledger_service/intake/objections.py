"""Intake rules of objection cases (征信业管理条例 Art. 25; docs/regulation.md "Objections"),
checked inside the write transaction against the index and, in request order, against the
records before each one in the same request:

* an objection opens (``step: opened``, ``disputes``: the record) only on a record that has
  no open case;
* a resolution (``corrected`` / ``upheld`` / ``rejected``) names in ``payload.case`` the
  opening record of an open case of the same subject — one resolution per case;
* ``corrected`` names in ``payload.correction`` a record that supersedes the disputed one.

Failures raise before anything is written, naming the record (its id and its position in
the request) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from credit_ledger_verify.records import ObjectionPayload, ObjectionStep
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from ledger_service.errors import DanglingParent, ValidationError
from ledger_service.index.bulk import select_many
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake.checks import Candidate

__all__ = ["check_objections"]

_OPENED = ObjectionStep.OPENED.value


@dataclass
class _Case:
    subject: str
    disputed: str
    resolved: bool


@dataclass
class _State:
    """What the checks know: cases by opening record, the open case on each record, and
    what each correction supersedes — the index's, then updated in request order."""

    cases: dict[str, _Case]
    open_on: dict[str, str]
    corrects: dict[str, str]
    #: records that are not a case's opening: what they are ("a data_update record")
    other_kinds: dict[str, str]


def check_objections(session: Session, new: list[Candidate]) -> None:
    """Raise :class:`ValidationError` / :class:`DanglingParent` for the first objection step
    of ``new`` (the request's new records, in order) that breaks a case rule."""
    steps = [c for c in new if isinstance(c.record.payload, ObjectionPayload)]
    if not steps:
        return
    state = _read_index(session, new, steps)
    for candidate in new:
        record = candidate.record
        payload = record.payload
        if not isinstance(payload, ObjectionPayload):
            if record.supersedes is not None:
                state.corrects[record.record_id] = record.supersedes
            state.other_kinds[record.record_id] = f"a {record.kind.value} record"
            continue
        where = f"record {candidate.position} of the request"
        if payload.step is ObjectionStep.OPENED:
            _check_opening(state, record.record_id, record.subject, record.disputes, where)
        else:
            _check_resolution(state, record.record_id, record.subject, payload, where)


def _check_opening(
    state: _State, record_id: str, subject: str, disputed: str | None, where: str
) -> None:
    assert disputed is not None  # the model requires it on an opening step
    case = state.open_on.get(disputed)
    if case is not None:
        raise ValidationError(
            record_id,
            "disputes",
            f"{where}: record {disputed!r} already has an open objection case {case!r}; "
            "it must be resolved before another one opens",
        )
    state.cases[record_id] = _Case(subject, disputed, resolved=False)
    state.open_on[disputed] = record_id


def _check_resolution(
    state: _State, record_id: str, subject: str, payload: ObjectionPayload, where: str
) -> None:
    case_id = payload.case
    assert case_id is not None  # the model requires it on a resolution
    case = state.cases.get(case_id)
    if case is None:
        if case_id in state.other_kinds:
            raise ValidationError(
                record_id,
                "payload.case",
                f"{where}: {case_id!r} is not an opened objection "
                f"(it is {state.other_kinds[case_id]})",
            )
        raise DanglingParent(record_id, "payload.case", case_id)
    if case.subject != subject:
        raise ValidationError(
            record_id,
            "payload.case",
            f"{where}: case {case_id!r} is about {case.subject}, not {subject}",
        )
    if case.resolved:
        raise ValidationError(
            record_id,
            "payload.case",
            f"{where}: case {case_id!r} is already resolved (one resolution per case)",
        )
    if payload.step is ObjectionStep.CORRECTED:
        correction = payload.correction
        assert correction is not None  # the model requires it on a corrected step
        if correction not in state.corrects and correction not in state.other_kinds:
            raise DanglingParent(record_id, "payload.correction", correction)
        if state.corrects.get(correction) != case.disputed:
            raise ValidationError(
                record_id,
                "payload.correction",
                f"{where}: record {correction!r} does not supersede the disputed record "
                f"{case.disputed!r}",
            )
    case.resolved = True
    state.open_on.pop(case.disputed, None)
    state.other_kinds[record_id] = f"the {payload.step.value} step of case {case_id!r}"


def _read_index(session: Session, new: list[Candidate], steps: list[Candidate]) -> _State:
    new_ids = {c.record.record_id for c in new}
    case_ids: set[str] = set()
    corrections: set[str] = set()
    disputed: set[str] = set()
    for candidate in steps:
        record = candidate.record
        payload = record.payload
        assert isinstance(payload, ObjectionPayload)
        if payload.case is not None:
            case_ids.add(payload.case)
        if payload.correction is not None:
            corrections.add(payload.correction)
        if record.disputes is not None:
            disputed.add(record.disputes)
    state = _State(cases={}, open_on={}, corrects={}, other_kinds={})
    referenced = sorted((case_ids | corrections) - new_ids)
    openings: list[str] = []
    for row in select_many(
        session,
        select(
            RecordRow.record_id,
            RecordRow.kind,
            RecordRow.subject,
            RecordRow.disputes,
            RecordRow.supersedes,
            RecordRow.case_id,
            RecordRow.case_step,
        ),
        RecordRow.record_id,
        referenced,
    ):
        if row.case_step == _OPENED:
            state.cases[row.record_id] = _Case(row.subject, row.disputes, resolved=False)
            openings.append(row.record_id)
        elif row.case_step is not None:
            state.other_kinds[row.record_id] = f"the {row.case_step} step of case {row.case_id!r}"
        else:
            state.other_kinds[row.record_id] = f"a {row.kind} record"
        if row.supersedes is not None:
            state.corrects[row.record_id] = row.supersedes
    for row in select_many(
        session,
        select(RecordRow.case_id).where(RecordRow.case_step != _OPENED),
        RecordRow.case_id,
        openings,
    ):
        state.cases[row.case_id].resolved = True
    state.open_on.update(_open_cases_on(session, sorted(disputed - new_ids)))
    return state


def _open_cases_on(session: Session, record_ids: list[str]) -> dict[str, str]:
    """disputed record -> its open case (at most one, which intake guarantees)."""
    opening, resolution = aliased(RecordRow), aliased(RecordRow)
    resolved = exists().where(
        resolution.case_id == opening.record_id, resolution.case_step != _OPENED
    )
    query = select(opening.disputes, opening.record_id).where(
        opening.case_step == _OPENED, ~resolved
    )
    return {
        row.disputes: row.record_id
        for row in select_many(session, query, opening.disputes, record_ids)
    }
