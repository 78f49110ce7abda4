"""Credit-repair cases (信用修复) and the repairs report — auditors only, each read with its
purpose logged (docs/regulation.md "Credit repair")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ledger_service.api.deps import Caller, Context, log_read
from ledger_service.api.params import AsOfQuery, as_of_time
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.queries.repairs import (
    RepairCase,
    case_to_json,
    repair_case,
    repair_cases,
    repair_report,
    report_to_json,
)

router = APIRouter(prefix="/v1", tags=["repairs"], responses=PROBLEM_RESPONSES)

Outcome = Literal["submitted", "verified", "approved", "rejected"]


def _read(cases: list[RepairCase]) -> list[tuple[str | None, str | None]]:
    return [(c.subject, c.case_id) for c in cases]


@router.get(
    "/repairs",
    name="list_repairs",
    summary="Credit-repair cases as of a time, optionally by outcome or enterprise",
)
def list_repairs(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    status: Annotated[Outcome | None, Query(description="Only cases with this outcome.")] = None,
    subject: str | None = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of)
    with context.session_factory() as session:
        cases = repair_cases(session, status=status, as_of=when, subject=subject)
    log_read(context, caller, what="repairs", purpose=why, read=_read(cases))
    return {
        "as_of": None if when is None else when.isoformat(),
        "items": [case_to_json(c) for c in cases],
    }


@router.get(
    "/repairs/{case_id}",
    name="get_repair",
    summary="One credit-repair case: steps with their anchoring, affected records, score change",
)
def get_repair(
    case_id: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of)
    with context.session_factory() as session:
        case = repair_case(session, case_id, as_of=when)
    log_read(context, caller, what="repair", purpose=why, read=_read([case]))
    return case_to_json(case)


@router.get(
    "/reports/repairs",
    name="repairs_report",
    summary="Repairs by outcome as of a time, each case a line backed by its anchored records",
)
def repairs_report_route(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of)
    with context.session_factory() as session:
        report = repair_report(session, as_of=when)
    log_read(context, caller, what="repairs_report", purpose=why, read=_read(report.cases))
    return report_to_json(report)
