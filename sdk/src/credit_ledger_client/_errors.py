"""Errors the API answers, as exceptions: one per problem type family or important code.

The service answers every error as an RFC 9457 problem (``application/problem+json``) with
a stable ``code`` from its error tree; :func:`error_from_response` turns that into the class
below whose ``code`` matches, else the class of its HTTP status family. Every class derives
from :class:`credit_ledger_verify.LedgerError` (the project's one root), so ``except
LedgerError`` catches the verifier's and the client's errors alike. Each class's own
``code`` is the service's code it stands for; the code the service actually sent (which
may be more specific, e.g. ``dangling_reference`` under :class:`InvalidInput`) is
``problem_code``. ``sdk/tests/test_errors.py`` checks that every class is drawn here::

    LedgerError                      [verify] ledger_error
    └── LedgerApiError(status, problem_code, detail, ...)  api_error  any other answer
        ├── Unauthenticated                   unauthenticated      401
        ├── Forbidden                         forbidden            403
        ├── NotFound                          not_found            404 (unknown record, route)
        ├── Conflict                          conflict             409
        │   ├── IdempotencyConflict           idempotency_conflict 409 id reused, other content
        │   └── EvidenceUnavailable           evidence_unavailable 409 not anchored yet
        ├── Gone                              record_erased        410
        ├── RequestTooLarge                   request_too_large    413
        ├── InvalidInput                      invalid_input        422 (record_index, field)
        ├── RateLimited(retry_after)          rate_limited         429
        ├── ServerError                       server_error         5xx
        │   └── Unavailable                   unavailable          503 index / Fabric down
        └── TransportFailed                   transport_failed     no answer (retries spent)
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
from credit_ledger_verify.errors import LedgerError

__all__ = [
    "Conflict",
    "EvidenceUnavailable",
    "Forbidden",
    "Gone",
    "IdempotencyConflict",
    "InvalidInput",
    "LedgerApiError",
    "NotFound",
    "RateLimited",
    "RequestTooLarge",
    "ServerError",
    "TransportFailed",
    "Unauthenticated",
    "Unavailable",
    "error_from_response",
]


class LedgerApiError(LedgerError):
    """An error answer of the API (or no answer at all, for :class:`TransportFailed`).

    ``status`` is the HTTP status (0 when nothing was answered); ``problem_code`` the
    service's stable code; ``record_id``, ``field`` and ``record_index`` (position in the
    records given to ``append``, across chunks) where the service named them;
    ``request_id`` the ``X-Request-Id`` to quote to the operator.
    """

    code: ClassVar[str] = "api_error"

    def __init__(
        self,
        detail: str,
        *,
        status: int = 0,
        problem_code: str | None = None,
        problem_type: str | None = None,
        record_id: str | None = None,
        field: str | None = None,
        record_index: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.record_id = record_id
        self.field = field
        self.status = status
        self.problem_code = problem_code or self.code
        self.problem_type = problem_type
        self.record_index = record_index
        self.request_id = request_id

    def __str__(self) -> str:
        where = [f"HTTP {self.status}"] if self.status else []
        where.append(self.problem_code)
        if self.record_index is not None:
            where.append(f"record #{self.record_index}")
        if self.record_id is not None:
            where.append(f"record {self.record_id!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{self.detail} ({', '.join(where)})"


class Unauthenticated(LedgerApiError):
    """No API key, or an unknown, expired or revoked one."""

    code: ClassVar[str] = "unauthenticated"


class Forbidden(LedgerApiError):
    """The key's role (or its bound actors) may not do this."""

    code: ClassVar[str] = "forbidden"


class NotFound(LedgerApiError):
    """An unknown record (``problem_code`` ``unknown_record``) or route."""

    code: ClassVar[str] = "not_found"


class Conflict(LedgerApiError):
    """The request conflicts with what the ledger holds."""

    code: ClassVar[str] = "conflict"


class IdempotencyConflict(Conflict):
    """A record id already holds other content (ids are idempotency keys); nothing written."""

    code: ClassVar[str] = "idempotency_conflict"


class EvidenceUnavailable(Conflict):
    """Evidence was asked for a record that is not anchored yet: ask again later."""

    code: ClassVar[str] = "evidence_unavailable"


class Gone(LedgerApiError):
    """The record's content was erased."""

    code: ClassVar[str] = "record_erased"


class RequestTooLarge(LedgerApiError):
    """The request body or the number of records is over the service's limit."""

    code: ClassVar[str] = "request_too_large"


class InvalidInput(LedgerApiError):
    """Bad input, naming the record (its position and id) and field; nothing was written."""

    code: ClassVar[str] = "invalid_input"


class RateLimited(LedgerApiError):
    """Over the key's rate limit; ``retry_after`` seconds is what the service asked for."""

    code: ClassVar[str] = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class ServerError(LedgerApiError):
    """A 5xx answer: the service failed (retried before it is raised)."""

    code: ClassVar[str] = "server_error"


class Unavailable(ServerError):
    """503: the index or the Fabric network is unavailable to the service."""

    code: ClassVar[str] = "unavailable"


class TransportFailed(LedgerApiError):
    """No answer: connection refused or reset, or a timeout, on every attempt."""

    code: ClassVar[str] = "transport_failed"


_BY_CODE: dict[str, type[LedgerApiError]] = {
    "unauthenticated": Unauthenticated,
    "forbidden": Forbidden,
    "idempotency_conflict": IdempotencyConflict,
    "evidence_unavailable": EvidenceUnavailable,
    "record_erased": Gone,
    "request_too_large": RequestTooLarge,
    "rate_limited": RateLimited,
}
_BY_STATUS: dict[int, type[LedgerApiError]] = {
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: RequestTooLarge,
    422: InvalidInput,
    429: RateLimited,
    503: Unavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form the service sends), else None."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _problem_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def error_from_response(response: httpx.Response, *, index_offset: int = 0) -> LedgerApiError:
    """The exception for an error answer. ``index_offset`` is added to the problem's
    ``record_index`` (the position within one chunk) to name the position in the caller's
    whole list."""
    body = _problem_body(response)
    code = _str_or_none(body.get("code"))
    status = response.status_code
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else LedgerApiError
    index = _int_or_none(body.get("record_index"))
    detail = _str_or_none(body.get("detail")) or response.reason_phrase or f"HTTP {status}"
    kwargs: dict[str, Any] = {
        "status": status,
        "problem_code": code,
        "problem_type": _str_or_none(body.get("type")),
        "record_id": _str_or_none(body.get("record_id")),
        "field": _str_or_none(body.get("field")),
        "record_index": None if index is None else index + index_offset,
        "request_id": response.headers.get("x-request-id"),
    }
    if cls is RateLimited:
        kwargs["retry_after"] = retry_after_seconds(response)
    return cls(detail, **kwargs)
