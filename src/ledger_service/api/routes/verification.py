"""Verify one record's evidence in the service (the web view's "verify this node"): the
bundle an auditor would download, checked by the same offline verifier
(``credit_ledger_verify``) against the network's trust roots, step by step."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ledger_service.api.deps import Caller, Context, log_read
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.api.routes.evidence import FabricUnavailable, open_blocks
from ledger_service.context import LedgerContext
from ledger_service.errors import UnknownRecord
from ledger_service.evidence import EvidenceError, TrustStore, Verifier
from ledger_service.retention.service_key import erasure_signers

router = APIRouter(prefix="/v1", tags=["evidence"], responses=PROBLEM_RESPONSES)


def _verifier(request: Request, context: LedgerContext) -> Verifier:
    """One verifier per app (it caches blocks), on the trust roots of the service's network."""
    verifier: Verifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None:
        try:
            trust = TrustStore.from_topology(context.topology)
        except FileNotFoundError as exc:
            raise FabricUnavailable(f"no Fabric network is configured: {exc}") from exc
        # the service's own key signs its erasure records: an erased record verifies as
        # "erased" against it (docs/evidence-format.md §8)
        trust.erasure_signers = erasure_signers(context.config.state_dir)
        verifier = request.app.state.verifier = Verifier(trust)
    return verifier


@router.get(
    "/records/{record_id}/verification",
    name="verify_record",
    summary="Verify a record's evidence in the service, step by step (auditors)",
    description="Builds the record's evidence bundle from the index and the channel's blocks "
    "and verifies it with the offline verifier: `ok`, `message` (the first failed step, "
    "named) and every step's status. A record whose index row was changed fails at step 1.",
)
def verify_record(
    record_id: str,
    context: Context,
    caller: Caller,
    request: Request,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    stored = context.records.get_records([record_id]).get(record_id)
    if stored is None:
        raise UnknownRecord(record_id)
    if stored.anchor is None or stored.anchor.committed_at is None:
        raise EvidenceError(f"record {record_id!r} is not anchored yet (waiting for a batch)")
    log_read(context, caller, what="verify", purpose=why, read=[(stored.subject, record_id)])
    with open_blocks(request, context) as reader:
        bundle = context.build_bundle([record_id], block_reader=reader)
    result = _verifier(request, context).verify(bundle)
    if result.error is not None or not result.records:
        return {"record_id": record_id, "ok": False, "message": result.error, "steps": []}
    outcome: dict[str, Any] = result.records[0].as_dict()
    return outcome
