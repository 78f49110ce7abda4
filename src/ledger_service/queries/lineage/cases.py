"""Objection cases as lineage nodes see them (docs/lineage.md "Objections"): whether a record
is disputed as of T, and the mark of its latest case.

A record is **disputed as of T** iff an objection against it was recorded by T and is not
resolved by T: an ``objection`` record's case is resolved by its one resolution step
(``records.case_id`` / ``case_step``, migration 0009); an old-style objection (a record of
another kind with ``disputes``) has no case and flags its target for good.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session, aliased

from ledger_service.index import models as m
from ledger_service.index.bulk import chunks
from ledger_service.queries.lineage.model import CaseMark, Node

__all__ = [
    "OPENED",
    "case_marks",
    "disputed_clause",
    "record_dispute",
    "resolved_clause",
    "with_case_marks",
]

OPENED = "opened"


def resolved_clause(opening: Any, as_of: Any | None) -> ColumnElement[bool]:
    """SQL: the case opened by ``opening`` (a records alias) has a resolution recorded by
    ``as_of`` (a bound parameter or value; None: ever)."""
    resolution = aliased(m.Record)
    conditions = [resolution.case_id == opening.record_id, resolution.case_step != OPENED]
    if as_of is not None:
        conditions.append(resolution.recorded_at <= as_of)
    return exists().where(*conditions)


def disputed_clause(record: Any, as_of: Any | None) -> ColumnElement[bool]:
    """SQL: ``record`` (a records alias or the model) is disputed as of ``as_of``."""
    objection = aliased(m.Record)
    conditions = [objection.disputes == record.record_id, ~resolved_clause(objection, as_of)]
    if as_of is not None:
        conditions.append(objection.recorded_at <= as_of)
    return exists().where(*conditions)


def case_marks(
    session: Session, record_ids: Iterable[str], as_of: datetime | None
) -> dict[str, CaseMark]:
    """record id -> the mark of its latest objection case opened by ``as_of``."""
    opening, resolution = aliased(m.Record), aliased(m.Record)
    on = [resolution.case_id == opening.record_id, resolution.case_step != OPENED]
    if as_of is not None:
        on.append(resolution.recorded_at <= as_of)
    query = (
        select(
            opening.disputes,
            opening.record_id,
            opening.recorded_at,
            opening.case_deadline,
            resolution.record_id.label("resolution"),
            resolution.case_step.label("resolution_step"),
            resolution.recorded_at.label("resolved_at"),
        )
        .outerjoin(resolution, and_(*on))
        .where(opening.case_step == OPENED)
        .order_by(opening.recorded_at, opening.record_id)
    )
    if as_of is not None:
        query = query.where(opening.recorded_at <= as_of)
    marks: dict[str, CaseMark] = {}
    for chunk in chunks(sorted(set(record_ids))):
        for row in session.execute(query.where(opening.disputes.in_(chunk))):
            marks[row.disputes] = CaseMark(  # the latest case ends up last
                case=row.record_id,
                status=row.resolution_step or "open",
                opened_at=row.recorded_at,
                deadline=row.case_deadline,
                resolution=row.resolution,
                resolved_at=row.resolved_at,
            )
    return marks


def with_case_marks(session: Session, nodes: Iterable[Node], as_of: datetime | None) -> list[Node]:
    """``nodes`` with their case marks filled in (same order)."""
    listed = list(nodes)
    marks = case_marks(session, (n.record_id for n in listed), as_of)
    return [
        dataclasses.replace(n, objection=marks[n.record_id]) if n.record_id in marks else n
        for n in listed
    ]


def record_dispute(
    session: Session, record_id: str, as_of: datetime | None = None
) -> tuple[bool, CaseMark | None]:
    """One record's dispute status as of ``as_of`` (None: now) and its latest case mark."""
    query = select(disputed_clause(m.Record, as_of)).where(m.Record.record_id == record_id)
    disputed = bool(session.execute(query).scalar())
    return disputed, case_marks(session, [record_id], as_of).get(record_id)
