"""What changed in a lineage between a time T and now (docs/lineage.md "The diff").

:func:`changes_between` compares two graphs of the same start (one as of T, one now) and is
pure; :func:`lineage_since` runs both walks and dates each change from the index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.index import models as m
from ledger_service.index.bulk import select_in
from ledger_service.queries.lineage.loans import AsOf
from ledger_service.queries.lineage.model import LineageGraph, LineageQueryError, graph_to_json

__all__ = [
    "Change",
    "ChangeKind",
    "LineageDiff",
    "change_to_json",
    "changes_between",
    "diff_to_json",
    "lineage_since",
]


class ChangeKind(StrEnum):
    ADDED = "added"  # recorded after T and reachable now
    SUPERSEDED = "superseded"  # its correction was recorded after T
    DISPUTED = "disputed"  # an objection was recorded after T
    DISPUTE_RESOLVED = "dispute_resolved"  # disputed at T, its case resolved after T
    ERASED = "erased"  # its content was shredded after T
    ANCHORED = "anchored"  # its batch was committed after T


@dataclass(frozen=True, slots=True)
class Change:
    record_id: str
    kind: ChangeKind
    #: the correction, objection or resolution that made the change (superseded / disputed /
    #: dispute resolved)
    by: str | None = None
    #: when the index learned it; None until :func:`lineage_since` dates it
    at: datetime | None = None


@dataclass
class LineageDiff:
    then: LineageGraph
    now: LineageGraph
    changes: list[Change]


def changes_between(then: LineageGraph, now: LineageGraph) -> list[Change]:
    """Every change of the nodes reachable ``now`` relative to ``then``, in node order.

    A node can show several changes (superseded and disputed since T, say). Nodes are never
    removed from a lineage — records are not deleted — so there is no "removed"."""
    if then.roots != now.roots and then.loan is None:
        raise LineageQueryError(None, "roots", "the two graphs do not start from the same records")
    out: list[Change] = []
    for rid, node in now.nodes.items():
        before = then.nodes.get(rid)
        if before is None:
            out.append(Change(rid, ChangeKind.ADDED))
            continue
        if before.superseded_by is None and node.superseded_by is not None:
            out.append(Change(rid, ChangeKind.SUPERSEDED, by=node.superseded_by))
        if not before.disputed and node.disputed:
            out.append(Change(rid, ChangeKind.DISPUTED))
        if before.disputed and not node.disputed:
            mark = node.objection
            by = None if mark is None else mark.resolution
            at = None if mark is None else mark.resolved_at
            out.append(Change(rid, ChangeKind.DISPUTE_RESOLVED, by=by, at=at))
        if not before.erased and node.erased:
            out.append(Change(rid, ChangeKind.ERASED))
        if before.anchor is None and node.anchor is not None:
            out.append(Change(rid, ChangeKind.ANCHORED))
    return out


def lineage_since(
    session: Session, as_of: AsOf, walk: Callable[[AsOf], LineageGraph]
) -> LineageDiff:
    """The lineage as of ``as_of`` (a time, or ``"decision"`` where ``walk`` starts from a
    loan) and now — ``walk(as_of)``, ``walk(None)`` — and what changed between, each change
    dated: when the node, correction, objection or resolution was recorded, the content
    erased, or the batch committed."""
    then = walk(as_of)
    since = then.as_of
    if since is None:
        raise LineageQueryError(None, "as_of", "a diff compares a time with now: give a time")
    now = walk(None)
    changes = _dated(session, changes_between(then, now), now, since)
    return LineageDiff(then=then, now=now, changes=changes)


def _dated(
    session: Session, changes: list[Change], now: LineageGraph, as_of: datetime
) -> list[Change]:
    by_kind: dict[ChangeKind, list[str]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change.record_id)
    recorded = _column(
        session,
        m.Record.recorded_at,
        [c.by for c in changes if c.by is not None and c.kind is ChangeKind.SUPERSEDED],
    )
    erased = _column(session, m.Record.erased_at, by_kind.get(ChangeKind.ERASED, []))
    objections = _first_objections(session, by_kind.get(ChangeKind.DISPUTED, []), as_of)
    out: list[Change] = []
    for change in changes:
        node = now.nodes[change.record_id]
        match change.kind:
            case ChangeKind.ADDED:
                out.append(Change(change.record_id, change.kind, at=node.recorded_at))
            case ChangeKind.SUPERSEDED:
                at = recorded.get(change.by) if change.by else None
                out.append(Change(change.record_id, change.kind, by=change.by, at=at))
            case ChangeKind.DISPUTED:
                by, at = objections.get(change.record_id, (None, None))
                out.append(Change(change.record_id, change.kind, by=by, at=at))
            case ChangeKind.DISPUTE_RESOLVED:
                out.append(change)  # dated by the case mark
            case ChangeKind.ERASED:
                out.append(Change(change.record_id, change.kind, at=erased.get(change.record_id)))
            case ChangeKind.ANCHORED:
                anchor = node.anchor
                at = anchor.committed_at if anchor is not None else None
                out.append(Change(change.record_id, change.kind, at=at))
    return out


def _column(session: Session, column: Any, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    query = select(m.Record.record_id, column.label("value"))
    return {row.record_id: row.value for row in select_in(session, query, m.Record.record_id, ids)}


def _first_objections(
    session: Session, ids: list[str], as_of: datetime
) -> dict[str, tuple[str, datetime]]:
    """disputed record -> (its first objection recorded after ``as_of``, when)."""
    if not ids:
        return {}
    query = (
        select(m.Record.disputes, m.Record.record_id, m.Record.recorded_at)
        .where(m.Record.recorded_at > as_of)
        .order_by(m.Record.recorded_at.desc(), m.Record.record_id.desc())
    )
    out: dict[str, tuple[str, datetime]] = {}
    for row in select_in(session, query, m.Record.disputes, ids):
        out[row.disputes] = (row.record_id, row.recorded_at)  # the earliest ends up last
    return out


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "record_id": change.record_id,
        "change": change.kind.value,
        "by": change.by,
        "at": None if change.at is None else change.at.isoformat(),
    }


def diff_to_json(diff: LineageDiff) -> dict[str, Any]:
    """The lineage now, the time compared against, and what changed since (docs/lineage.md)."""
    return {
        "since": None if diff.then.as_of is None else diff.then.as_of.isoformat(),
        "now": graph_to_json(diff.now),
        "changes": [change_to_json(c) for c in diff.changes],
    }
