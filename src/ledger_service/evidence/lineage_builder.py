"""Building lineage bundles (``credit-ledger-lineage/1``, docs/evidence-format.md "Lineage
bundles") from the lineage query library's graph.

One walk: the graph comes from :mod:`ledger_service.queries.lineage` (``upstream`` of records
or ``loan_lineage`` of a loan, to a depth, as of a time or the loan's decision); every node's
evidence is built by :func:`~ledger_service.evidence.builder.build_bundle` (a node whose
content was erased is carried as its commitment only), and the graph's roots, depth, as-of,
loan and edges become the ``lineage`` section. The section is the index's claim; the
verifier holds every edge against the signed content of the record that declares it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from credit_ledger_verify.evidence.model import LINEAGE_BUNDLE_FORMAT, EvidenceError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.evidence.builder import build_bundle
from ledger_service.fabric.blocks import BlockReader
from ledger_service.queries.lineage import (
    DECISION,
    DEFAULT_DEPTH,
    AsOf,
    LineageGraph,
    LineageQueryError,
    loan_lineage,
    resolve,
    upstream,
)

__all__ = ["build_lineage_bundle", "lineage_graph", "lineage_section"]


def lineage_graph(
    session: Session, names: Sequence[str], *, depth: int = DEFAULT_DEPTH, as_of: AsOf = None
) -> LineageGraph:
    """The upstream lineage a bundle carries: of one loan (``loan:ID`` or a loan id), or of
    one or more records (``record:ID`` or record ids), to ``depth``, as of ``as_of``
    (``"decision"``: the loan's decision time).

    Raises:
        LineageQueryError: no names, an unknown or ambiguous name, a loan mixed with other
            names, ``as_of="decision"`` without a loan, a depth out of range.
    """
    if not names:
        raise LineageQueryError(None, "names", "name a loan or at least one record")
    starts = [resolve(session, name) for name in names]
    loans = [ident for what, ident in starts if what == "loan"]
    if loans:
        if len(starts) > 1:
            raise LineageQueryError(
                loans[0],
                "names",
                f"loan {loans[0]!r} must be the only name: a lineage bundle starts from one "
                "loan (all its events) or from records",
            )
        return loan_lineage(session, loans[0], depth=depth, as_of=as_of)
    if as_of == DECISION:
        raise LineageQueryError(
            None, "as_of", "'decision' is a loan's decision time: name a loan, not records"
        )
    when = as_of if isinstance(as_of, dt.datetime) else None
    return upstream(session, [ident for _, ident in starts], depth=depth, as_of=when)


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
