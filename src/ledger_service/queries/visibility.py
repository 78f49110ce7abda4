"""Who sees a repaired negative record (信用修复; docs/regulation.md "Credit repair").

Once a repair case concerning a negative record is approved (its approval recorded by the
time asked about), the record is *repaired*: it stops being shown to banks (the API's
verifier role), while auditors (regulators) still see it, marked with its repair. This is
the one place that decides it: every read path passes what it found through a
:class:`RepairView` for the caller's audience (the API maps roles to audiences in one table,
``api.deps.AUDIENCES``).

For a bank, a repaired record is **omitted**, not replaced by a placeholder: its node, every
edge to or from it, and its loan-event entry are left out of a graph, and a direct read or an
evidence request for it answers "not in the index" exactly as for an id that never existed —
a placeholder would still tell the bank that *something* negative was there. Nodes keep the
depth the walk found (a node may sit at depth 2 with its depth-1 parent omitted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from ledger_service.errors import UnknownRecord
from ledger_service.queries.lineage.model import LineageGraph, Loan, Node
from ledger_service.queries.repairs import repair_marks

__all__ = ["Audience", "RepairView"]


class Audience(StrEnum):
    #: every record; those a repair case concerns carry it (``Node.repair``)
    FULL = "full"
    #: repaired negative records are not shown
    BANK = "bank"


@dataclass(frozen=True)
class RepairView:
    audience: Audience

    def hidden(
        self, session: Session, record_ids: Iterable[str], as_of: datetime | None = None
    ) -> set[str]:
        """Which of ``record_ids`` this audience may not see as of ``as_of``."""
        if self.audience is Audience.FULL:
            return set()
        marks = repair_marks(session, record_ids, as_of)
        return {rid for rid, mark in marks.items() if mark.status == "approved"}

    def require_visible(
        self, session: Session, record_ids: Iterable[str], as_of: datetime | None = None
    ) -> None:
        """Raises ``UnknownRecord`` for the first record this audience may not see."""
        ids = list(record_ids)
        hidden = self.hidden(session, ids, as_of)
        for rid in ids:
            if rid in hidden:
                raise UnknownRecord(rid)

    def nodes(self, session: Session, nodes: list[Node], as_of: datetime | None) -> list[Node]:
        """A listing or timeline as this audience sees it."""
        if not nodes:
            return nodes
        marks = repair_marks(session, [n.record_id for n in nodes], as_of)
        if self.audience is Audience.BANK:
            return [
                n
                for n in nodes
                if n.record_id not in marks or marks[n.record_id].status != "approved"
            ]
        return [replace(n, repair=marks.get(n.record_id)) for n in nodes]

    def graph(self, session: Session, graph: LineageGraph) -> LineageGraph:
        """A lineage graph as this audience sees it (a new graph; the input is unchanged).

        Raises:
            UnknownRecord: every start record is hidden from this audience.
        """
        shown = self.nodes(session, list(graph.nodes.values()), graph.as_of)
        kept = {n.record_id: n for n in shown}
        hidden = graph.nodes.keys() - kept.keys()
        roots = tuple(r for r in graph.roots if r not in hidden)
        if not roots:
            raise UnknownRecord(graph.roots[0])
        loan = graph.loan
        if loan is not None:
            loan = Loan(
                loan.loan_id,
                tuple(e for e in loan.events if e not in hidden),
                None if loan.decision in hidden else loan.decision,
                None if loan.decision in hidden else loan.decided_at,
            )
        return LineageGraph(
            roots=roots,
            direction=graph.direction,
            depth=graph.depth,
            as_of=graph.as_of,
            nodes=kept,
            edges=[e for e in graph.edges if e.source not in hidden and e.target not in hidden],
            truncated=graph.truncated,
            loan=loan,
        )
