"""Signed checkpoints of the global log with their witnesses' cosignatures, consistency
proofs between them, and the witnesses' cosignature submissions (docs/transparency.md).

Checkpoints name no enterprise and no record, so every role reads them without a purpose
and without an access-log entry; only a ``witness`` key submits cosignatures, and only under
the witness name it was created with (its key's ``name``).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any, Literal

from credit_ledger_verify.tlog import parse_note
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ledger_service.api.deps import Caller, Context
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.context import LedgerContext
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import (
    CheckpointNotFoundError,
    StoredCheckpoint,
    platform_origin,
    prove_consistency,
)
from ledger_service.tlog.witnesses import accept_cosignature, cosigned_note

router = APIRouter(prefix="/v1/checkpoints", tags=["checkpoints"], responses=PROBLEM_RESPONSES)

NOTE_MEDIA = "text/plain; charset=utf-8"
_NOTE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed note (`format=note`, text/plain) or its JSON view",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}
Format = Annotated[
    Literal["note", "json"],
    Query(description="`note`: the signed note as text/plain; `json`: its parts as JSON."),
]
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]


class CosignatureSubmission(BaseModel):
    cosignature: str = Field(
        min_length=1,
        max_length=512,
        description="The witness's signature line over the checkpoint's note "
        "(`— <witness name> <base64(key ID ‖ timestamp ‖ signature)>`, c2sp.org/tlog-cosignature)",
    )


def _origin(context: LedgerContext) -> str:
    try:
        topology = context.topology
    except FileNotFoundError:
        raise CheckpointNotFoundError(
            "no network is configured, so no log and no checkpoint exists"
        ) from None
    return platform_origin(topology.channel, topology.chaincode)


def _answer(stored: StoredCheckpoint, format: str) -> Response | dict[str, Any]:
    if format == "note":
        return Response(stored.note, media_type=NOTE_MEDIA)
    note = parse_note(stored.note)
    return {
        "origin": stored.checkpoint.origin,
        "size": stored.checkpoint.size,
        "root": base64.b64encode(stored.checkpoint.root).decode(),
        "issued_at": stored.issued_at.isoformat(),
        "note": stored.note.decode(),
        "signers": [s.name for s in note.signatures],
    }


@router.get(
    "/latest",
    name="latest_checkpoint",
    summary="The latest signed checkpoint, with the cosignatures collected so far",
    responses=_NOTE_RESPONSE,
    response_model=None,
)
def latest_checkpoint(
    context: Context, caller: Caller, format: Format = "note"
) -> Response | dict[str, Any]:
    with context.session_factory() as session:
        return _answer(cosigned_note(session, _origin(context)), format)


@router.get(
    "/proof",
    name="checkpoint_proof",
    summary="A consistency proof between two checkpoints, as a tlog-witness add-checkpoint body",
    description="`old OLD`, the RFC 6962 consistency proof (one base64 hash per line), a blank "
    "line, then the signed checkpoint of size NEW (what `ledgerctl checkpoint prove` prints). "
    "OLD 0 is the empty tree.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def checkpoint_proof(context: Context, caller: Caller, old: Size, new: Size) -> Response:
    with context.session_factory() as session:
        request = prove_consistency(session, _origin(context), old, new)
    return Response(request.encode(), media_type=NOTE_MEDIA)


@router.get(
    "/{size}",
    name="get_checkpoint",
    summary="The signed checkpoint of one tree size, with its cosignatures",
    responses=_NOTE_RESPONSE,
    response_model=None,
)
def get_checkpoint(
    size: int, context: Context, caller: Caller, format: Format = "note"
) -> Response | dict[str, Any]:
    with context.session_factory() as session:
        return _answer(cosigned_note(session, _origin(context), size), format)


@router.post(
    "/{size}/cosignatures",
    name="submit_cosignature",
    status_code=201,
    summary="A witness submits its cosignature of a checkpoint (witness keys, own name only)",
    description="Checked against the witness's registered key and the stored checkpoint "
    "before it is stored; a malformed line, an unregistered or revoked witness, or a signature "
    "that does not verify is refused (`cosignature_refused`), naming which.",
)
def submit_cosignature(
    size: int, body: CosignatureSubmission, context: Context, caller: Caller
) -> dict[str, Any]:
    origin = _origin(context)
    with write_session(context.session_factory) as session:
        accept_cosignature(
            session, origin, size, body.cosignature, dt.datetime.now(dt.UTC), submitter=caller.name
        )
    with context.session_factory() as session:
        served = cosigned_note(session, origin, size)
    return {"size": size, "witness": caller.name, "note": served.note.decode()}
