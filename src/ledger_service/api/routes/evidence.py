"""Evidence bundles (one or many records; full or redacted) and lineage bundles, built from
the index and the channel's blocks, verifiable offline (docs/evidence-format.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from credit_ledger_verify.records import RecordId
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ledger_service.api.auth import Role
from ledger_service.api.deps import Caller, Context, log_read, require_actor, view_of
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError, UnknownRecord
from ledger_service.evidence import EvidenceError, build_lineage_bundle
from ledger_service.fabric.blocks import BlockReader, GatewayBlockReader
from ledger_service.fabric.checkpoints import AnchoredCheckpoints
from ledger_service.queries.lineage import DEFAULT_DEPTH, MAX_DEPTH, lineage_of

router = APIRouter(prefix="/v1/evidence", tags=["evidence"], responses=PROBLEM_RESPONSES)


class FabricUnavailable(LedgerError):
    """The service cannot reach (or has no) Fabric network to read blocks from (HTTP 503)."""

    code: ClassVar[str] = "fabric_unavailable"


#: Most records one evidence request may name.
MAX_EVIDENCE_RECORDS = 1000


class EvidenceRequest(BaseModel):
    # record ids by their pattern: an id with a NUL reached PostgreSQL (a 500) before
    record_ids: list[RecordId] = Field(min_length=1, max_length=MAX_EVIDENCE_RECORDS)
    redact: bool = Field(False, description="Leave out content and salt (commitments only).")


class LineageBundleRequest(BaseModel):
    start: list[str] = Field(
        min_length=1,
        max_length=100,
        description="A loan id or record ids (loan:ID / record:ID when an id is both).",
    )
    depth: int = Field(DEFAULT_DEPTH, ge=0, le=MAX_DEPTH)
    as_of: datetime | str | None = Field(
        None, description="An ISO 8601 time with zone, or 'decision' for a loan."
    )


class EvidenceForm(StrEnum):
    """Which bundle ``POST /v1/evidence`` builds (docs/evidence-format.md)."""

    #: ``credit-ledger-evidence/3``: each record's batch transaction and its whole block
    BATCH = "batch"
    #: ``credit-ledger-evidence/5``: compact — the record's inclusion in the newest anchored
    #: checkpoint of the global log, and that checkpoint's small block
    CHECKPOINT = "checkpoint"


FormParam = Annotated[
    EvidenceForm,
    Query(
        description="batch: the records' batch transactions and their blocks (format /3); "
        "checkpoint: compact, ~4 KB per record whatever the batch size — inclusion in the "
        "newest checkpoint anchored on the chain (format /5; verify with the log key).",
    ),
]


@contextmanager
def open_checkpoints(request: Request, context: LedgerContext) -> Iterator[AnchoredCheckpoints]:
    """The chain's anchored checkpoints (a test may install ``app.state.checkpoint_chain``)."""
    opener = getattr(request.app.state, "checkpoint_chain", None)
    if opener is not None:
        with opener() as chain:
            yield chain
        return
    try:
        target = context.fabric_target
    except FileNotFoundError as exc:
        raise FabricUnavailable(f"no Fabric network is configured for this service: {exc}") from exc
    with target.gateway() as gateway:
        yield context.anchored_checkpoints(gateway)


@contextmanager
def open_blocks(request: Request, context: LedgerContext) -> Iterator[BlockReader]:
    opener = getattr(request.app.state, "block_reader", None)
    if opener is not None:
        with opener() as reader:
            yield reader
        return
    try:
        target = context.fabric_target
    except FileNotFoundError as exc:
        raise FabricUnavailable(f"no Fabric network is configured for this service: {exc}") from exc
    with target.gateway() as gateway:
        yield GatewayBlockReader(gateway, target.channel)


@router.post(
    "",
    name="evidence_bundle",
    summary="An evidence bundle for the records named (verify it offline)",
    description="A verifier (bank) gets evidence only for the records it names; a writer "
    "only for records of its actors. `form=checkpoint` returns the compact form: a record "
    "not yet covered by an anchored checkpoint is a 409 (ask again after the next one).",
)
def evidence_bundle(
    body: EvidenceRequest,
    context: Context,
    caller: Caller,
    request: Request,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    form: FormParam = EvidenceForm.BATCH,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    ids = list(dict.fromkeys(body.record_ids))
    stored = context.records.get_records(ids)
    for rid in ids:
        if rid not in stored:
            raise UnknownRecord(rid)
    with context.session_factory() as session:
        view_of(caller).require_visible(session, ids)
    for rid in ids:
        if caller.role is Role.WRITER:
            require_actor(caller, stored[rid].actor, rid)
        anchor = stored[rid].anchor
        if anchor is None or anchor.committed_at is None:
            # before opening a connection to the network: the answer is known already
            raise EvidenceError(f"record {rid!r} is not anchored yet (waiting for a batch)")
    # an erased record's bundle carries its erasure record in full: that is read too
    erasures = [
        (stored[rid].subject, erasure)
        for rid in ids
        if (erasure := stored[rid].erased_by) is not None and not body.redact
    ]
    log_read(
        context,
        caller,
        what="evidence",
        purpose=why,
        read=[*((stored[rid].subject, rid) for rid in ids), *erasures],
    )
    if form is EvidenceForm.CHECKPOINT:
        with open_checkpoints(request, context) as chain:
            return context.build_checkpoint_bundle(ids, chain=chain, redact=body.redact)
    with open_blocks(request, context) as reader:
        return context.build_bundle(ids, block_reader=reader, redact=body.redact)


@router.post(
    "/lineage",
    name="lineage_bundle",
    summary="A lineage bundle: every node's evidence and the edges (auditors)",
)
def lineage_bundle(
    body: LineageBundleRequest,
    context: Context,
    caller: Caller,
    request: Request,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    as_of: Any = body.as_of
    with context.session_factory() as session:
        graph = lineage_of(session, body.start, depth=body.depth, as_of=as_of)
        graph = view_of(caller).graph(session, graph)
    # anchored by now (the graph's anchors are as of its time; the bundle proves today's chain)
    stored = context.records.get_records(list(graph.nodes))
    unanchored = [
        rid
        for rid in graph.nodes
        if (anchor := stored[rid].anchor) is None or anchor.committed_at is None
    ]
    if unanchored:
        raise EvidenceError(
            f"record {unanchored[0]!r} of the lineage is not anchored yet "
            f"({len(unanchored)} node(s) waiting for a batch)"
        )
    log_read(
        context,
        caller,
        what="lineage_bundle",
        purpose=why,
        read=[(n.subject, graph.roots[0]) for n in graph.nodes.values()],
    )
    with open_blocks(request, context) as reader:
        return build_lineage_bundle(context.session_factory, graph, block_source=reader)
