"""Evidence for access-log entries: each entry is anchored on the channel like a record, and
its bundle (``credit-ledger-access/1``) verifies offline with ``credit-ledger-verify``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from ledger_service.api.deps import Caller, Context
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.routes.evidence import open_blocks
from ledger_service.errors import UnknownAccessEntry
from ledger_service.evidence import EvidenceError

router = APIRouter(prefix="/v1/access-log", tags=["access log"], responses=PROBLEM_RESPONSES)

#: Largest entry id the path accepts (the column is a 64-bit integer).
_MAX_ENTRY_ID = 2**63 - 1


@router.get(
    "/{entry_id}/evidence",
    name="access_entry_evidence",
    summary="An access-log entry's evidence bundle (auditors; verify it offline)",
    description="The entry's committed content, salt, Merkle proof and anchoring block "
    "(format credit-ledger-access/1, docs/evidence-format.md §7). Like the access-log "
    "listing, it needs no purpose and is not itself logged. 409 until the entry's batch is "
    "committed.",
)
def access_entry_evidence(
    entry_id: Annotated[int, Path(ge=1, le=_MAX_ENTRY_ID, examples=[42])],
    context: Context,
    caller: Caller,
    request: Request,
) -> dict[str, Any]:
    entry = context.access_log.get(entry_id)
    if entry is None:
        raise UnknownAccessEntry(entry_id)
    if entry.anchored_in is None:
        # before opening a connection to the network: the answer is known already
        raise EvidenceError(
            f"access-log entry {entry_id} is not anchored yet (waiting for a batch)"
        )
    with open_blocks(request, context) as reader:
        return context.build_access_bundle([entry_id], block_reader=reader)
