"""RFC 9457 problem details: every error the API returns, in one place.

``type`` is ``urn:credit-ledger:problem:<code>`` with the stable ``code`` of the error tree
(ledger_service.errors); ``record_id``, ``field`` and ``record_index`` are extension members
where they apply. A 5xx is only ever a real outage (the index or the network unreachable) or
a bug, and never carries a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from ledger_service.errors import LedgerError, ValidationError

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "STATUS_BY_CODE",
    "Problem",
    "install_problem_handlers",
    "problem",
    "type_uri",
]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ledger_service.api")

#: HTTP status of each error code; any other ValidationError is 422, any other error 500.
STATUS_BY_CODE: dict[str, int] = {
    "unauthenticated": 401,
    "forbidden": 403,
    # a record whose signature does not verify is bad input, not an outage (and a client
    # must not retry it as a 5xx)
    "bad_signature": 422,
    "unknown_record": 404,
    "unknown_repair_case": 404,
    "unknown_access_entry": 404,
    "checkpoint_not_found": 404,
    "unknown_objection_case": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "idempotency_conflict": 409,
    "evidence_unavailable": 409,
    "record_erased": 410,
    # a retention duty keeps the record: the request conflicts with the record's state
    "erasure_refused": 409,
    "request_too_large": 413,
    "rate_limited": 429,
    "graphviz_missing": 503,
    "fabric_unavailable": 503,
    "checkpoint_chain": 503,
    "index_unavailable": 503,
}
_TITLES = {
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request too large",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem detail, with the error tree's code and where it applies."""

    type: str = Field(examples=["urn:credit-ledger:problem:invalid_input"])
    title: str
    status: int
    detail: str
    code: str = Field(description="The stable error code (ledger_service.errors)")
    record_id: str | None = None
    field: str | None = Field(None, description="Dotted path of the offending field")
    record_index: int | None = Field(None, description="Position of the record in the request")
    duties: list[dict[str, str]] | None = Field(
        None,
        description="erasure_refused: each retention duty that keeps the record "
        "(duty, law, reason, detail)",
    )


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


#: Documented on every route (the app may answer any of them).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response("No valid API key"),
    403: _problem_response("The key's role may not do this"),
    404: _problem_response("Unknown record or route"),
    409: _problem_response("Conflict: a record id reused for other content; not anchored yet"),
    413: _problem_response("Request too large"),
    422: _problem_response("Invalid input, naming the field (and the record's index)"),
    429: _problem_response("Over the key's rate limit; see Retry-After"),
    503: _problem_response("The index or the Fabric network is unavailable"),
}


def type_uri(code: str) -> str:
    return f"urn:credit-ledger:problem:{code}"


def problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": type_uri(code),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(error: LedgerError) -> int:
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    if isinstance(error, ValidationError):
        return 422
    return 500


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, exc: LedgerError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.code)
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationError):
            extra = {
                "record_id": exc.record_id,
                "field": exc.field,
                "record_index": getattr(exc, "record_index", None),
            }
        else:
            extra = {
                "record_id": getattr(exc, "record_id", None),
                "record_index": getattr(exc, "record_index", None),
            }
            if exc.code == "bad_signature":
                extra["field"] = "signature"
        # errors that say more than a sentence add members (e.g. the duties that refuse an
        # erasure, each with its name and reason)
        members = getattr(exc, "problem_members", None)
        if callable(members):
            extra.update(members())
        headers = getattr(exc, "headers", None)
        return problem(status, exc.code, str(exc), headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        return problem(422, "invalid_input", f"{where}: {message}", field=where or None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(OperationalError)
    async def index_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("%s %s: index unavailable", request.method, request.url.path)
        return problem(503, "index_unavailable", "the index database is unavailable")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s: unexpected error", request.method, request.url.path)
        return problem(500, "internal_error", "unexpected error; the service log has details")
