"""Building lineage bundles (``credit-ledger-lineage/1``, docs/evidence-format.md "Lineage
bundles") from the lineage query library's graph.

One walk: the graph comes from :mod:`ledger_service.queries.lineage` (``lineage_of``: a loan
or records, to a depth, as of a time or the loan's decision); every node's
evidence is built by :func:`~ledger_service.evidence.builder.build_bundle` (a node whose
content was erased is carried as its commitment only), and the graph's roots, depth, as-of,
loan and edges become the ``lineage`` section. The section is the index's claim; the
verifier holds every edge against the signed content of the record that declares it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_ledger_verify.evidence.model import LINEAGE_BUNDLE_FORMAT, EvidenceError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.evidence.builder import build_bundle
from ledger_service.fabric.blocks import BlockReader
from ledger_service.queries.lineage import LineageGraph

__all__ = ["build_lineage_bundle", "lineage_section"]


def build_lineage_bundle(
    session_factory: sessionmaker[Session],
    graph: LineageGraph,
    *,
    block_source: BlockReader,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A lineage bundle (JSON-ready dict) of ``graph``: every node's evidence, in the walk's
    order, and the ``lineage`` section.

    Raises:
        EvidenceError: a downstream graph (a bundle proves what a record relied on; nothing
            signed names a record's children); a node not anchored yet (see
            :func:`~ledger_service.evidence.builder.build_bundle`).
    """
    if graph.direction != "up":
        raise EvidenceError(
            "a lineage bundle carries upstream lineage: downstream edges are declared by the "
            "children, which the walk's roots cannot vouch for"
        )
    nodes = build_bundle(
        session_factory, list(graph.nodes), block_source=block_source, redact_erased=True, now=now
    )
    return {
        "format": LINEAGE_BUNDLE_FORMAT,
        "created_at": nodes["created_at"],
        "lineage": lineage_section(graph),
        "records": nodes["records"],
        "blocks": nodes["blocks"],
    }


def lineage_section(graph: LineageGraph) -> dict[str, Any]:
    """The graph's claims as the bundle's ``lineage`` section (no nulls: absent = no value)."""
    section: dict[str, Any] = {"roots": list(graph.roots), "depth": graph.depth}
    if graph.as_of is not None:
        section["as_of"] = _rfc3339(graph.as_of)
    loan = graph.loan
    if loan is not None:
        section["loan"] = {"loan_id": loan.loan_id, "events": list(loan.events)}
        if loan.decision is not None and loan.decided_at is not None:
            section["loan"]["decision"] = loan.decision
            section["loan"]["decided_at"] = _rfc3339(loan.decided_at)
    section["truncated"] = graph.truncated
    section["edges"] = [
        {"from": e.source, "to": e.target, "kind": e.kind.value} for e in graph.edges
    ]
    return section


def _rfc3339(when: dt.datetime) -> str:
    # the index keeps UTC; a naive value from SQLite is UTC too
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
