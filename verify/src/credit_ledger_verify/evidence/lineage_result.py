"""What the verifier found about a lineage bundle's graph, beyond each node's own steps
(docs/evidence-format.md, "Lineage bundles"): per edge, per node, the failed checks (each
naming its check, record and edge) and the informational notes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "EdgeOutcome",
    "EdgeStatus",
    "LineageCheck",
    "LineageNode",
    "LineageNote",
    "LineageOutcome",
    "LineageProblem",
]


class LineageCheck(StrEnum):
    """The lineage checks, each a failure the report names."""

    #: every root is a record of the bundle
    ROOTS = "roots"
    #: every listed edge is declared in the signed content of the record it leads from
    EDGE = "edge"
    #: every parent declared by a node above the depth limit is in the bundle; every signed
    #: reference between two nodes is in the edge list
    COMPLETENESS = "completeness"
    #: every node is reached from the roots through signed parents within the depth
    REACH = "reach"
    #: the loan's events are the roots, and signed financing events of that loan; the
    #: decision is a signed approval or rejection among them
    LOAN = "loan"
    #: the checks stopped on an unexpected error (the verifier fails closed)
    ERROR = "error"


class EdgeStatus(StrEnum):
    BACKED = "backed"
    FAILED = "failed"
    #: the record the edge leads from is erased: no content, nothing to back the edge
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True, slots=True)
class LineageProblem:
    check: LineageCheck
    detail: str
    record_id: str | None = None
    #: ``(from, to, kind)`` when the problem is about one edge
    edge: tuple[str, str, str] | None = None

    @property
    def message(self) -> str:
        return f"lineage ({self.check.value}): {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "record_id": self.record_id,
            "edge": None
            if self.edge is None
            else {"from": self.edge[0], "to": self.edge[1], "kind": self.edge[2]},
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class LineageNote:
    """Informational (not a failure): beyond depth, erased, references outside the lineage."""

    record_id: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class EdgeOutcome:
    source: str
    target: str
    kind: str
    status: EdgeStatus
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "status": self.status.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class LineageNode:
    """One node as the lineage checks see it (its own steps are its :class:`RecordOutcome`)."""

    record_id: str
    #: the record kind from its verified content (``None``: erased or not verified)
    kind: str | None
    #: edges from a root through signed parents (``None``: not reached)
    depth: int | None
    erased: bool
    #: outgoing listed edges: backed / unverifiable / failed
    edges_backed: int = 0
    edges_unverifiable: int = 0
    edges_failed: int = 0
    #: declared parents left out because the node is at the depth limit
    beyond_depth: tuple[str, ...] = ()
    #: declared parents that should be in the bundle and are not
    missing: tuple[str, ...] = ()

    @property
    def edges_total(self) -> int:
        return self.edges_backed + self.edges_unverifiable + self.edges_failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "kind": self.kind,
            "depth": self.depth,
            "erased": self.erased,
            "edges_backed": self.edges_backed,
            "edges_unverifiable": self.edges_unverifiable,
            "edges_failed": self.edges_failed,
            "beyond_depth": list(self.beyond_depth),
            "missing": list(self.missing),
        }


@dataclass(frozen=True, slots=True)
class LineageOutcome:
    roots: tuple[str, ...]
    depth: int
    as_of: str | None
    loan_id: str | None
    decision: str | None
    truncated: bool
    nodes: tuple[LineageNode, ...]
    edges: tuple[EdgeOutcome, ...]
    problems: tuple[LineageProblem, ...]
    notes: tuple[LineageNote, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def node(self, record_id: str) -> LineageNode | None:
        for node in self.nodes:
            if node.record_id == record_id:
                return node
        return None

    def problems_of(self, check: LineageCheck) -> tuple[LineageProblem, ...]:
        return tuple(p for p in self.problems if p.check is check)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "roots": list(self.roots),
            "depth": self.depth,
            "as_of": self.as_of,
            "loan_id": self.loan_id,
            "decision": self.decision,
            "truncated": self.truncated,
            "nodes": [n.as_dict() for n in self.nodes],
            "edges": [e.as_dict() for e in self.edges],
            "problems": [p.as_dict() for p in self.problems],
            "notes": [n.as_dict() for n in self.notes],
        }
