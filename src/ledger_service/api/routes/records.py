"""Append records (writers, as their bound actors), read a record and where it is anchored."""

from __future__ import annotations

import json
from typing import Any, Literal

from credit_ledger_verify.records import Record, parse_record
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response

from ledger_service.api.auth import Principal, Role
from ledger_service.api.body import json_body_openapi, parse_json_body
from ledger_service.api.deps import Caller, Context, log_read, require_actor, view_of
from ledger_service.api.metrics import ApiMetrics
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.context import LedgerContext
from ledger_service.errors import SignatureError, UnknownRecord, ValidationError
from ledger_service.intake.checks import DEFAULT_MAX_RECORDS
from ledger_service.queries.lineage import case_mark_to_json
from ledger_service.queries.lineage.cases import record_dispute
from ledger_service.queries.records import AnchorInfo, StoredRecord

router = APIRouter(prefix="/v1", tags=["records"], responses=PROBLEM_RESPONSES)


class AppendRequest(BaseModel):
    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=DEFAULT_MAX_RECORDS,
        description="Signed records (docs/schemas/record.schema.json), parents before "
        "children. All are accepted or none is.",
    )


#: Request bodies the routes here read themselves: the app puts their schemas into the
#: OpenAPI components (``json_body_openapi`` refers to them there).
BODY_MODELS: tuple[type[BaseModel], ...] = (AppendRequest,)


class AppendResultModel(BaseModel):
    record_id: str
    commitment: str = Field(description="SHA-256(salt ‖ canonical bytes), hex")
    status: Literal["created", "existing"]


class AppendResponse(BaseModel):
    results: list[AppendResultModel]


class AnchorModel(BaseModel):
    batch_id: str
    leaf_index: int
    state: str
    tx_id: str | None
    block_number: int | None
    committed_at: str | None


class RecordModel(BaseModel):
    record_id: str
    kind: str
    subject: str
    occurred_at: str
    recorded_at: str
    source: str
    actor: str
    parents: list[str]
    supersedes: str | None
    disputes: str | None
    superseded_by: str | None
    disputed_by: str | None
    disputed: bool = Field(
        description="An objection against the record is open now (an old-style objection, a "
        "record of another kind with `disputes`, never closes)."
    )
    objection: dict[str, Any] | None = Field(
        description="The latest objection case on the record: case, status (open or its "
        "resolution), opened_at, deadline, resolution, resolved_at."
    )
    commitment: str
    erased: bool
    anchor: AnchorModel | None
    content: dict[str, Any] | None = Field(
        description="The signed record; only for auditors and the writer that wrote it, "
        "and null once erased."
    )


@router.post(
    "/records",
    name="append_records",
    summary="Append records (idempotent: a record id is its idempotency key)",
    response_model=AppendResponse,
    # the body is read as bytes and parsed once by the route (below); documented all the same
    openapi_extra=json_body_openapi(AppendRequest),
)
async def append_records(request: Request, context: Context, caller: Caller) -> Response:
    body = await request.body()
    content_type = request.headers.get("content-type")
    settings = request.app.state.settings
    metrics = request.app.state.metrics
    # parsing, validation, intake and encoding in one worker thread (the event loop stays free)
    return await run_in_threadpool(
        _append, body, content_type, settings.max_body_bytes, context, caller, metrics
    )


def _append(
    body: bytes,
    content_type: str | None,
    max_body_bytes: int,
    context: LedgerContext,
    caller: Principal,
    metrics: ApiMetrics,
) -> Response:
    """The records validated once (``parse_record``; intake takes the parsed records as they
    are), appended, and the answer encoded once: an already-encoded response skips FastAPI's
    response-model validation, which would only re-check what is built here."""
    append_request = parse_json_body(body, content_type, AppendRequest, max_bytes=max_body_bytes)
    parsed: list[Record] = []
    for index, data in enumerate(append_request.records):
        try:
            record = parse_record(data)
        except ValidationError as exc:
            exc.record_index = index
            raise
        require_actor(caller, record.actor, record.record_id)
        parsed.append(record)
    try:
        results = context.intake.append(parsed)
    except ValidationError as exc:
        exc.record_index = _position(parsed, exc.record_id)
        raise
    except SignatureError as exc:
        # not a ValidationError in the tree, but bad input all the same (422, problems.py):
        # name the record's position as for any other refused record
        vars(exc)["record_index"] = _position(parsed, exc.record_id)
        raise
    metrics.appended.inc(sum(r.status == "created" for r in results))
    answer = {
        "results": [
            {"record_id": r.record_id, "commitment": r.commitment, "status": r.status}
            for r in results
        ]
    }
    content = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, media_type="application/json")


def _position(parsed: list[Record], record_id: str | None) -> int | None:
    return next((i for i, r in enumerate(parsed) if r.record_id == record_id), None)


def _stored(context: Any, record_id: str) -> StoredRecord:
    stored: StoredRecord | None = context.records.get_record(record_id)
    if stored is None:
        raise UnknownRecord(record_id)
    return stored


def _anchor(anchor: AnchorInfo | None) -> dict[str, Any] | None:
    if anchor is None:
        return None
    return {
        "batch_id": anchor.batch_id,
        "leaf_index": anchor.leaf_index,
        "state": anchor.batch_state,
        "tx_id": anchor.tx_id,
        "block_number": anchor.block_number,
        "committed_at": None if anchor.committed_at is None else anchor.committed_at.isoformat(),
    }


def _sees_content(caller: Principal, stored: StoredRecord) -> bool:
    return caller.role is Role.AUDITOR or (
        caller.role is Role.WRITER and stored.actor in caller.actors
    )


@router.get(
    "/records/{record_id}",
    name="get_record",
    summary="A record's envelope, status and anchoring (content for auditors and its writer)",
    response_model=RecordModel,
)
def get_record(
    record_id: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
) -> Any:
    why = declared_purpose(purpose, purpose_detail)
    stored = _stored(context, record_id)
    if caller.role is Role.WRITER:
        require_actor(caller, stored.actor, record_id)
    with context.session_factory() as session:
        view_of(caller).require_visible(session, [record_id])
    log_read(context, caller, what="record", purpose=why, read=[(stored.subject, record_id)])
    with context.session_factory() as session:
        disputed, mark = record_dispute(session, record_id)
    content = None
    if stored.content is not None and _sees_content(caller, stored):
        content = json.loads(stored.content)
    return {
        "record_id": stored.record_id,
        "kind": stored.kind,
        "subject": stored.subject,
        "occurred_at": stored.occurred_at.isoformat(),
        "recorded_at": stored.recorded_at.isoformat(),
        "source": stored.source,
        "actor": stored.actor,
        "parents": list(stored.parents),
        "supersedes": stored.supersedes,
        "disputes": stored.disputes,
        "superseded_by": stored.superseded_by,
        "disputed_by": stored.disputed_by,
        "disputed": disputed,
        "objection": case_mark_to_json(mark),
        "commitment": stored.commitment.hex(),
        "erased": stored.erased,
        "anchor": _anchor(stored.anchor),
        "content": content,
    }


@router.get(
    "/records/{record_id}/anchor",
    name="get_anchor",
    summary="Where a record is anchored: batch, leaf, transaction, block (null until batched)",
    response_model=AnchorModel | None,
)
def get_anchor(record_id: str, context: Context, caller: Caller) -> Any:
    stored = _stored(context, record_id)
    if caller.role is Role.WRITER:
        require_actor(caller, stored.actor, record_id)
    with context.session_factory() as session:
        view_of(caller).require_visible(session, [record_id])
    # no enterprise data in the answer (ids and chain positions only): no purpose needed
    return _anchor(stored.anchor)
