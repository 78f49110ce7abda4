"""Listings of flagged records: the disputed and the superseded ones, as of a time, for one
subject or all — with their anchoring facts, like every lineage node."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger_service.index import models as m
from ledger_service.queries.lineage.cases import resolved_clause, with_case_marks
from ledger_service.queries.lineage.model import DEFAULT_NODE_LIMIT, LineageQueryError, Node
from ledger_service.queries.lineage.walk import (
    after_position,
    node_of_row,
    node_query,
    query_params,
)

__all__ = ["Flag", "flagged"]

Flag = Literal["disputed", "superseded"]


def flagged(
    session: Session,
    flag: Flag,
    *,
    subject: str | None = None,
    as_of: datetime | None = None,
    limit: int = DEFAULT_NODE_LIMIT,
    after: tuple[datetime, str] | None = None,
) -> list[Node]:
    """Records disputed (an objection recorded by ``as_of`` and not resolved by then) or
    superseded (a correction recorded by then), oldest first by ``occurred_at``; at most
    ``limit``, after the ``(occurred_at, record_id)`` position ``after``."""
    if flag not in ("disputed", "superseded"):
        raise LineageQueryError(None, "flag", f"must be 'disputed' or 'superseded', got {flag!r}")
    if limit < 1:
        raise LineageQueryError(None, "limit", f"must be at least 1, got {limit}")
    marker = aliased(m.Record)
    # driven from the correcting/objecting records: both columns are indexed
    target = marker.supersedes if flag == "superseded" else marker.disputes
    flagged_ids = select(target).where(target.is_not(None))
    if as_of is not None:
        flagged_ids = flagged_ids.where(marker.recorded_at <= as_of)
    if flag == "disputed":  # only while its case is open (cases.py)
        flagged_ids = flagged_ids.where(~resolved_clause(marker, as_of))
    query = node_query(as_of is not None).where(m.Record.record_id.in_(flagged_ids))
    if subject is not None:
        query = query.where(m.Record.subject == subject)
    if as_of is not None:
        query = query.where(m.Record.recorded_at <= as_of)
    query = after_position(query, after)
    query = query.order_by(m.Record.occurred_at, m.Record.record_id).limit(limit)
    rows = session.execute(query, query_params(as_of))
    return with_case_marks(session, (node_of_row(row, 0, as_of) for row in rows), as_of)
