"""Erasure on request (admins; PIPL Art. 47, refused with the duties that keep the record)
and the retention reports: runs and erasures (auditors, admins). docs/regulation.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ledger_service.api.deps import Caller, Context, log_read
from ledger_service.api.params import LimitQuery
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.retention.listings import (
    erasure_to_json,
    erasures,
    retention_runs,
    run_to_json,
)

router = APIRouter(prefix="/v1", tags=["retention"], responses=PROBLEM_RESPONSES)

RecordIdPath = Annotated[str, Path(min_length=1, max_length=128)]


class ErasureRequest(BaseModel):
    reason: str = Field(
        min_length=1, max_length=256, description="Why the subject asked; goes into the record."
    )


@router.post(
    "/records/{record_id}/erasure",
    name="erase_record",
    status_code=201,
    summary="Erase a record on the subject's request (PIPL Art. 47), with an erasure record",
    description="Deletes the record's content and salt and writes an `erasure` record "
    "(signed by the service, anchored like any record) in one transaction. Refused with "
    "409 `erasure_refused`, listing each retention duty that keeps the record (`duties`), "
    "while one holds; 410 when it is already erased. docs/regulation.md.",
)
def erase_record(
    record_id: RecordIdPath, body: ErasureRequest, context: Context, caller: Caller
) -> dict[str, Any]:
    done = context.erasures.erase_on_request(record_id, body.reason)
    stored = context.records.get_record(record_id)
    log_read(
        context,
        caller,
        what="erasure",
        purpose="erasure on request (PIPL Art. 47)",
        read=[(None if stored is None else stored.subject, record_id)],
    )
    return {
        "record_id": done.record_id,
        "erased": True,
        "basis": done.basis.value,
        "rule": done.rule,
        "erasure_record": done.erasure_record_id,
        "commitment": done.commitment,
    }


@router.get(
    "/reports/retention-runs",
    name="retention_runs",
    summary="The retention runs, newest first, with their counts",
)
def list_retention_runs(
    context: Context, caller: Caller, limit: LimitQuery = 100
) -> dict[str, Any]:
    with context.session_factory() as session:
        return {"items": [run_to_json(r) for r in retention_runs(session, limit)]}


@router.get(
    "/reports/erasures",
    name="erasures",
    summary="Every erasure: record, basis and rule, date, the erasure record's anchoring",
)
def list_erasures(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    subject: str | None = None,
    limit: LimitQuery = 100,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    with context.session_factory() as session:
        lines = erasures(session, subject=subject, limit=limit)
    log_read(
        context,
        caller,
        what="erasures",
        purpose=why,
        read=[(e.subject, e.record_id) for e in lines],
    )
    return {"items": [erasure_to_json(e) for e in lines]}
