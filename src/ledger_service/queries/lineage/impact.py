"""Downstream impact of a record: every score and loan that relied on it, and for a record
that has been corrected or disputed, whether each loan was decided before or after that
(docs/lineage.md "Impact") — "which loans used data that is now disputed"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.index import models as m
from ledger_service.index.bulk import select_in
from ledger_service.queries.lineage.diff import Change, ChangeKind, change_to_json
from ledger_service.queries.lineage.loans import DECISION_EVENTS
from ledger_service.queries.lineage.model import DEFAULT_NODE_LIMIT, LineageGraph, graph_to_json
from ledger_service.queries.lineage.walk import downstream

__all__ = ["DEFAULT_IMPACT_DEPTH", "Impact", "LoanImpact", "impact", "impact_to_json"]

#: Data update → score → loan event → later loan events: four edges reach every decision.
DEFAULT_IMPACT_DEPTH = 4


@dataclass(frozen=True, slots=True)
class LoanImpact:
    loan_id: str
    #: the loan's events that relied on the record (directly or transitively)
    events: tuple[str, ...]
    #: the loan's latest approval/rejection recorded by the time asked about
    decision: str | None
    decided_at: datetime | None
    #: True: decided before the record's first correction/objection (so it relied on data
    #: that has since changed); False: decided after; None: undecided or the record unchanged
    decided_before_change: bool | None


@dataclass
class Impact:
    record_id: str
    graph: LineageGraph
    #: the record's corrections and objections recorded by the time asked about, by time
    changes: list[Change]
    #: score_change records that relied on it
    scores: list[str]
    loans: list[LoanImpact]


def impact(
    session: Session,
    record_id: str,
    *,
    depth: int = DEFAULT_IMPACT_DEPTH,
    as_of: datetime | None = None,
    limit: int = DEFAULT_NODE_LIMIT,
) -> Impact:
    """What relied on ``record_id`` to ``depth`` edges, as of ``as_of`` (None: now)."""
    graph = downstream(session, [record_id], depth=depth, as_of=as_of, limit=limit)
    changes = _changes_of(session, record_id, as_of)
    first_change = changes[0].at if changes else None
    scores = [n.record_id for n in graph.nodes.values() if n.kind == "score_change"]
    events: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.loan_id is not None and node.record_id != record_id:
            events.setdefault(node.loan_id, []).append(node.record_id)
    decisions = _decisions(session, list(events), as_of)
    loans = []
    for loan_id in sorted(events):
        decision, decided_at = decisions.get(loan_id, (None, None))
        before = None
        if decided_at is not None and first_change is not None:
            before = decided_at < first_change
        loans.append(LoanImpact(loan_id, tuple(events[loan_id]), decision, decided_at, before))
    return Impact(record_id, graph, changes, scores, loans)


def _changes_of(session: Session, record_id: str, as_of: datetime | None) -> list[Change]:
    query = select(
        m.Record.record_id, m.Record.recorded_at, m.Record.supersedes, m.Record.disputes
    ).where((m.Record.supersedes == record_id) | (m.Record.disputes == record_id))
    if as_of is not None:
        query = query.where(m.Record.recorded_at <= as_of)
    out = [
        Change(
            record_id,
            ChangeKind.SUPERSEDED if row.supersedes == record_id else ChangeKind.DISPUTED,
            by=row.record_id,
            at=row.recorded_at,
        )
        for row in session.execute(query)
    ]
    out.sort(key=lambda c: (c.at or datetime.min, c.by or ""))
    return out


def _decisions(
    session: Session, loan_ids: list[str], as_of: datetime | None
) -> dict[str, tuple[str, datetime]]:
    """loan id -> its latest decision event recorded by ``as_of`` and when."""
    query = (
        select(m.Record.loan_id, m.Record.record_id, m.Record.recorded_at)
        .where(m.Record.loan_event.in_(DECISION_EVENTS))
        .order_by(m.Record.recorded_at, m.Record.record_id)
    )
    if as_of is not None:
        query = query.where(m.Record.recorded_at <= as_of)
    out: dict[str, tuple[str, datetime]] = {}
    for row in select_in(session, query, m.Record.loan_id, loan_ids):
        out[row.loan_id] = (row.record_id, row.recorded_at)  # the latest ends up last
    return out


def impact_to_json(hit: Impact) -> dict[str, Any]:
    return {
        "record_id": hit.record_id,
        "changes": [change_to_json(c) for c in hit.changes],
        "scores": hit.scores,
        "loans": [
            {
                "loan_id": loan.loan_id,
                "events": list(loan.events),
                "decision": loan.decision,
                "decided_at": None if loan.decided_at is None else loan.decided_at.isoformat(),
                "decided_before_change": loan.decided_before_change,
            }
            for loan in hit.loans
        ],
        "graph": graph_to_json(hit.graph),
    }
