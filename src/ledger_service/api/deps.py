"""Request dependencies: the composition root, the authenticated caller, role checks by
route name (one table, :data:`PERMISSIONS`, that docs/api.md and the role-matrix test read),
and the access log of every read of enterprise data."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger_service.api.auth import ApiKeys, PermissionDenied, Principal, Role
from ledger_service.api.logs import current_request_id
from ledger_service.context import LedgerContext
from ledger_service.queries.visibility import Audience, RepairView

__all__ = ["AUDIENCES", "PERMISSIONS", "Caller", "Context", "allowed", "log_read", "view_of"]

log = logging.getLogger("ledger_service.api")

W, V, A, ADM, WIT = Role.WRITER, Role.VERIFIER, Role.AUDITOR, Role.ADMIN, Role.WITNESS

#: route name -> roles that may call it. A route without an entry is refused to everyone.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "append_records": frozenset({W}),
    "get_record": frozenset({W, V, A}),
    "get_anchor": frozenset({W, V, A}),
    "evidence_bundle": frozenset({W, V, A}),
    "lineage_bundle": frozenset({A}),
    "lineage": frozenset({A}),
    "lineage_diff": frozenset({A}),
    "impact": frozenset({A}),
    "timeline": frozenset({A}),
    "flagged_records": frozenset({A}),
    "access_log": frozenset({A}),
    # objection cases name enterprises and their disputes: supervisors only; a bank sees a
    # record's dispute status where it reads the record (get_record)
    "objections": frozenset({A}),
    "objection_case": frozenset({A}),
    "objection_bundle": frozenset({A}),
    "objection_report": frozenset({A}),
    "access_entry_evidence": frozenset({A}),
    "verify_record": frozenset({A}),
    "list_repairs": frozenset({A}),
    "get_repair": frozenset({A}),
    "repairs_report": frozenset({A}),
    "create_api_key": frozenset({ADM}),
    "list_api_keys": frozenset({ADM}),
    "revoke_api_key": frozenset({ADM}),
    "register_writer_key": frozenset({ADM}),
    "revoke_writer_key": frozenset({ADM}),
    "whoami": frozenset({W, V, A, ADM, WIT}),
    # checkpoints name no enterprise: every role reads them, no purpose, no access log
    "latest_checkpoint": frozenset({W, V, A, ADM, WIT}),
    "get_checkpoint": frozenset({W, V, A, ADM, WIT}),
    "checkpoint_proof": frozenset({W, V, A, ADM, WIT}),
    "submit_cosignature": frozenset({WIT}),
    "erase_record": frozenset({ADM}),
    "retention_runs": frozenset({A, ADM}),
    "erasures": frozenset({A, ADM}),
}

#: role -> what it is shown of repaired negative records (queries.visibility): a bank
#: (verifier) does not see them; auditors see them with their repair; a writer sees the
#: records it wrote, as written.
AUDIENCES: dict[Role, Audience] = {
    W: Audience.FULL,
    V: Audience.BANK,
    A: Audience.FULL,
    ADM: Audience.FULL,
}

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer clk_…`")


def _context(request: Request) -> LedgerContext:
    context: LedgerContext = request.app.state.context
    return context


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    keys: ApiKeys = request.app.state.api_keys
    principal = keys.authenticate(credentials.credentials if credentials else None)
    request.state.principal = principal
    name = request.scope["route"].name
    if principal.role not in PERMISSIONS.get(name, frozenset()):
        _log_refusal(request, principal, name)
        raise PermissionDenied(f"a {principal.role.value} key may not call {name}")
    request.app.state.limiter.check(principal.key_id)
    return principal


def _log_refusal(request: Request, caller: Principal, name: str) -> None:
    """A refused attempt is an access-log entry too (anchored like every entry): who tried
    what, on which enterprise or record, claiming which purpose."""
    params = request.path_params
    subject = params.get("subject")
    record = params.get("record_id") or params.get("name")
    claimed = (request.query_params.get("purpose") or "none declared")[:200]
    context: LedgerContext = request.app.state.context
    log_read(
        context,
        caller,
        what=f"refused:{name}"[:64],
        purpose=f"refused ({claimed})",
        read=[(subject, record)],
    )
    log.warning(
        "refused", extra={"fields": {"route": name, "key_id": caller.key_id, "role": caller.role}}
    )


Context = Annotated[LedgerContext, Depends(_context)]
Caller = Annotated[Principal, Depends(_principal)]


def view_of(caller: Principal) -> RepairView:
    """What the caller's role is shown of repaired records: every read route passes its
    answer through this view."""
    return RepairView(AUDIENCES[caller.role])


def allowed(name: str) -> frozenset[Role]:
    return PERMISSIONS.get(name, frozenset())


def log_read(
    context: LedgerContext,
    caller: Principal,
    *,
    what: str,
    purpose: str,
    read: Iterable[tuple[str | None, str | None]],
) -> None:
    """One access-log entry per (subject, record) the answer holds; raises before the answer
    is returned if the log cannot be written (no answer without its entry)."""
    context.access_log.log_answer(
        accessor=caller.accessor,
        query=what,
        purpose=purpose,
        read=read,
        request_id=current_request_id.get(),
    )


def require_actor(caller: Principal, actor: str, record_id: str | None = None) -> None:
    """A writer key acts only for its bound actors."""
    if caller.role is Role.WRITER and actor not in caller.actors:
        raise PermissionDenied(
            f"writer key {caller.key_id} may not act for {actor!r}"
            + (f" (record {record_id!r})" if record_id else "")
        )
