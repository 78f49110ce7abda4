"""The lineage graph model — what every output renders (table, JSON, PROV-JSON, pictures,
lineage bundles, the API) — and its JSON form (docs/lineage.md "JSON").

Nodes are records with their status and anchoring facts *as of* the time asked about; edges
are ``derived_from`` (child → parent), ``supersedes`` (correction → corrected) and
``disputes`` (objection → disputed), all declared in the records' signed content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from credit_ledger_verify.records import ErasurePayload, parse_record

from ledger_service.errors import ValidationError
from ledger_service.queries.records import AnchorInfo

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_NODE_LIMIT",
    "MAX_DEPTH",
    "CaseMark",
    "Direction",
    "Edge",
    "EdgeKind",
    "LineageGraph",
    "LineageQueryError",
    "Loan",
    "Node",
    "NodeErasure",
    "RepairMark",
    "case_mark_to_json",
    "erased_label",
    "graph_to_json",
    "loan_to_json",
    "node_erasure",
    "node_to_json",
]

#: Edges a walk follows unless told otherwise.
DEFAULT_DEPTH = 6
#: Deepest walk accepted (the graph is a DAG, but every walk is bounded anyway).
MAX_DEPTH = 50
#: Most nodes one answer holds; a walk that reaches more says ``truncated``.
DEFAULT_NODE_LIMIT = 10_000

Direction = Literal["up", "down"]


class LineageQueryError(ValidationError):
    """A lineage query's inputs are not acceptable (unknown start record, depth out of range)."""

    code: ClassVar[str] = "lineage_query_invalid"

    def __str__(self) -> str:
        return f"lineage query: {self.field}: {self.message}"


class EdgeKind(StrEnum):
    DERIVED_FROM = "derived_from"  # child -> parent (the child lists it in `parents`)
    SUPERSEDES = "supersedes"  # correction -> corrected record
    DISPUTES = "disputes"  # objection -> disputed record


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind


@dataclass(frozen=True, slots=True)
class RepairMark:
    """The credit-repair case that concerns a record, as of the time asked about
    (``queries.repairs.repair_marks``; shown to auditors, docs/regulation.md)."""

    case: str
    status: str
    #: when the approval was recorded; ``None`` while the case is open or if rejected
    approved_at: datetime | None
    score_change: str | None


@dataclass(frozen=True, slots=True)
class CaseMark:
    """The latest objection case on a record, as of the time asked about."""

    #: the case's opening record
    case: str
    #: ``open``, or the resolution: ``corrected`` / ``upheld`` / ``rejected``
    status: str
    opened_at: datetime
    #: the last day (China time) of the answer period
    deadline: date
    #: the resolution record and when it was recorded (None while open)
    resolution: str | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class NodeErasure:
    """Why a node's content is gone, from its erasure record (docs/regulation.md)."""

    #: ``expiry`` (shown as "expired") or ``request`` (shown as "erased")
    basis: str
    rule: str
    #: when the content was deleted (the erasure record's ``occurred_at``)
    on: datetime
    erasure_record: str


def node_erasure(content: bytes | None) -> NodeErasure | None:
    """The erasure facts of an erasure record's stored content (``None``: no such record,
    e.g. content deleted without one — which reconcile reports)."""
    if content is None:
        return None
    record = parse_record(bytes(content))
    payload = record.payload
    if not isinstance(payload, ErasurePayload):
        return None
    return NodeErasure(payload.basis.value, payload.rule, record.occurred_at, record.record_id)


def erased_label(erased: bool, erasure: NodeErasure | None) -> str | None:
    """How every output marks an erased node: ``expired (RULE, DATE)`` after the retention
    run, ``erased (RULE, DATE)`` on request, plain ``erased`` without an erasure record."""
    if not erased:
        return None
    if erasure is None:
        return "erased"
    word = "expired" if erasure.basis == "expiry" else "erased"
    return f"{word} ({erasure.rule}, {erasure.on.date().isoformat()})"


@dataclass(frozen=True, slots=True)
class Node:
    record_id: str
    kind: str
    subject: str
    occurred_at: datetime
    recorded_at: datetime
    source: str
    actor: str
    #: smallest number of edges from a start record (0 for the start records)
    depth: int
    #: the correction of this record, if recorded by the time asked about
    superseded_by: str | None
    #: an objection against this record was recorded by the time asked about
    disputed: bool
    erased: bool
    #: a financing event's loan id and event type (None for other kinds)
    loan_id: str | None
    loan_event: str | None
    #: where the record sits on chain, if its batch was committed by the time asked about
    anchor: AnchorInfo | None
    #: the anchoring transaction's timestamp in its block (the batch value's ``ts``), from
    #: the chain mirror — known once ``ledgerctl index reconcile`` has read that block
    block_time: datetime | None = None
    #: the repair case concerning this record (set by the auditors' view,
    #: ``queries.visibility``; ``None`` otherwise)
    repair: RepairMark | None = None
    #: the latest objection case on the record (``objection`` kind), open or resolved by
    #: the time asked about; ``disputed`` is true exactly while one is open (or for an
    #: old-style objection, a record of another kind with ``disputes``, which never closes)
    objection: CaseMark | None = None
    #: set when the content was erased by a workflow (expiry or request)
    erasure: NodeErasure | None = None

    @property
    def erased_label(self) -> str | None:
        return erased_label(self.erased, self.erasure)


@dataclass(frozen=True, slots=True)
class Loan:
    """A loan: its financing events (recorded by the time asked about) and its decision."""

    loan_id: str
    #: the loan's financing events, in the order the index recorded them
    events: tuple[str, ...]
    #: the latest approval or rejection event recorded by then, if any
    decision: str | None
    #: when the index recorded that decision (``recorded_at``): the loan's decision time
    decided_at: datetime | None


@dataclass
class LineageGraph:
    roots: tuple[str, ...]
    direction: Direction
    depth: int
    as_of: datetime | None
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    #: the walk stopped at the node limit; nodes beyond it are missing
    truncated: bool = False
    #: set when the walk started from a loan (its events are the roots)
    loan: Loan | None = None


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def node_to_json(node: Node) -> dict[str, Any]:
    anchor = node.anchor
    return {
        "record_id": node.record_id,
        "kind": node.kind,
        "subject": node.subject,
        "occurred_at": _time(node.occurred_at),
        "recorded_at": _time(node.recorded_at),
        "source": node.source,
        "actor": node.actor,
        "depth": node.depth,
        "superseded_by": node.superseded_by,
        "disputed": node.disputed,
        "objection": case_mark_to_json(node.objection),
        "erased": node.erased,
        "erasure": None
        if node.erasure is None
        else {
            "basis": node.erasure.basis,
            "rule": node.erasure.rule,
            "on": node.erasure.on.isoformat(),
            "erasure_record": node.erasure.erasure_record,
        },
        "loan_id": node.loan_id,
        "loan_event": node.loan_event,
        "anchor": None
        if anchor is None
        else {
            "batch_id": anchor.batch_id,
            "leaf_index": anchor.leaf_index,
            "tx_id": anchor.tx_id,
            "block_number": anchor.block_number,
            "committed_at": _time(anchor.committed_at),
            "block_time": _time(node.block_time),
        },
        "repair": None if node.repair is None else repair_to_json(node.repair),
    }


def repair_to_json(mark: RepairMark) -> dict[str, Any]:
    return {
        "case": mark.case,
        "status": mark.status,
        "approved_at": _time(mark.approved_at),
        "score_change": mark.score_change,
    }


def case_mark_to_json(mark: CaseMark | None) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {
        "case": mark.case,
        "status": mark.status,
        "opened_at": _time(mark.opened_at),
        "deadline": mark.deadline.isoformat(),
        "resolution": mark.resolution,
        "resolved_at": _time(mark.resolved_at),
    }


def loan_to_json(loan: Loan) -> dict[str, Any]:
    return {
        "loan_id": loan.loan_id,
        "events": list(loan.events),
        "decision": loan.decision,
        "decided_at": _time(loan.decided_at),
    }


def graph_to_json(graph: LineageGraph) -> dict[str, Any]:
    """The graph as plain JSON values: what the CLI prints and the API will serve."""
    return {
        "roots": list(graph.roots),
        "direction": graph.direction,
        "depth": graph.depth,
        "as_of": _time(graph.as_of),
        "truncated": graph.truncated,
        "loan": None if graph.loan is None else loan_to_json(graph.loan),
        "nodes": [node_to_json(n) for n in graph.nodes.values()],
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind.value} for e in graph.edges],
    }
