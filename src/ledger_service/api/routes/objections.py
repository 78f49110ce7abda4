"""Objection cases (征信业管理条例 Art. 25): listings (open / overdue / resolved as of a
time, cursor-paginated), one case with its steps and impact, its case-file bundle, and the
report — auditors only, each read with its purpose logged (docs/regulation.md). Steps are
written by writers through the normal ``POST /v1/records``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from ledger_service.api.deps import Caller, Context, log_read
from ledger_service.api.params import (
    AsOfQuery,
    Cursor,
    LimitQuery,
    as_of_time,
    decode_time_cursor,
    encode_cursor,
)
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.api.routes.evidence import open_blocks
from ledger_service.evidence import EvidenceError, build_case_bundle
from ledger_service.queries.objections import (
    case_impact,
    case_impact_to_json,
    case_steps,
    case_to_json,
    find_case,
    list_cases,
    objection_report,
    report_to_json,
    step_to_json,
    subjects_of,
)

router = APIRouter(prefix="/v1", tags=["objections"], responses=PROBLEM_RESPONSES)

StatusQuery = Annotated[
    Literal["open", "overdue", "resolved"] | None,
    Query(description="open (overdue ones included), overdue, or resolved as of the time."),
]


def _at(context: Any, as_of: str | None) -> datetime:
    return as_of_time(as_of) or context.now()


@router.get(
    "/objections",
    name="objections",
    summary="Objection cases opened by a time: open, overdue or resolved (cursor-paginated)",
)
def objections(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    status: StatusQuery = None,
    subject: str | None = None,
    as_of: AsOfQuery = None,
    limit: LimitQuery = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    at = _at(context, as_of)
    with context.session_factory() as session:
        cases = list_cases(
            session,
            as_of=at,
            status=status,
            subject=subject,
            limit=limit + 1,
            after=decode_time_cursor(cursor),
        )
    more = len(cases) > limit
    cases = cases[:limit]
    log_read(context, caller, what="objections", purpose=why, read=subjects_of(cases))
    last = cases[-1] if cases and more else None
    return {
        "as_of": at.isoformat(),
        "items": [case_to_json(c) for c in cases],
        "next_cursor": None
        if last is None
        else encode_cursor([last.opened_at.isoformat(), last.case]),
    }


@router.get(
    "/objections/{case}",
    name="objection_case",
    summary="One objection case: its steps (reasons, anchoring) and the loans it touches",
)
def objection_case(
    case: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    at = _at(context, as_of)
    with context.session_factory() as session:
        hit = case_impact(session, case, as_of=at)
        steps = case_steps(session, hit.case)
    read = [(n.subject, case) for n in hit.graph.nodes.values()]
    log_read(context, caller, what="objection", purpose=why, read=read)
    return {**case_impact_to_json(hit), "steps": [step_to_json(s) for s in steps]}


@router.get(
    "/objections/{case}/bundle",
    name="objection_bundle",
    summary="The case file as one evidence bundle (verify it offline with credit-ledger-verify)",
)
def objection_bundle(
    case: str,
    context: Context,
    caller: Caller,
    request: Request,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    at = _at(context, as_of)
    with context.session_factory() as session:
        found = find_case(session, case, as_of=at)
        steps = case_steps(session, found)
    waiting = [s.record_id for s in steps if s.anchor is None or s.anchor.committed_at is None]
    if waiting:
        # before opening a connection to the network: the answer is known already
        raise EvidenceError(f"record {waiting[0]!r} of case {case!r} is not anchored yet")
    read = [(found.subject, s.record_id) for s in steps]
    log_read(context, caller, what="objection_bundle", purpose=why, read=read)
    with open_blocks(request, context) as reader:
        return build_case_bundle(context.session_factory, case, as_of=at, block_source=reader)


@router.get(
    "/reports/objections",
    name="objection_report",
    summary="Objections report: counts and one line per case with its records' anchoring",
)
def objection_report_route(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    subject: str | None = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    at = _at(context, as_of)
    with context.session_factory() as session:
        report = objection_report(session, as_of=at, subject=subject)
    read = subjects_of([c for c, _ in report.lines])
    log_read(context, caller, what="objection_report", purpose=why, read=read)
    return report_to_json(report)
