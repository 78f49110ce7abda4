"""Loans: a loan's financing events, its decision time, and its lineage (docs/lineage.md).

A loan is the set of ``financing_event`` records sharing ``payload.loan_id``, read from the
index's ``records.loan_id`` column (indexed with ``recorded_at``). Its decision is its latest
``approval`` or ``rejection`` event; the decision time is when the index recorded that event.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ledger_service.errors import ValidationError
from ledger_service.index import models as m
from ledger_service.queries.lineage.model import (
    DEFAULT_DEPTH,
    DEFAULT_NODE_LIMIT,
    LineageGraph,
    LineageQueryError,
    Loan,
)
from ledger_service.queries.lineage.walk import (
    as_of_param,
    downstream,
    query_params,
    upstream,
)

__all__ = [
    "DECISION",
    "DECISION_EVENTS",
    "AsOf",
    "Start",
    "find_loan",
    "lineage_of",
    "loan_lineage",
    "parse_as_of",
    "resolve",
]

#: Financing events that decide a loan.
DECISION_EVENTS = ("approval", "rejection")
#: ``as_of`` value meaning "the loan's decision time".
DECISION: Literal["decision"] = "decision"
AsOf = datetime | Literal["decision"] | None
#: What a ``LOAN_OR_RECORD`` argument names.
Start = tuple[Literal["record", "loan"], str]


def parse_as_of(text: str | None, *, field: str = "as_of", decision: bool = True) -> AsOf:
    """An as-of argument as given by a caller (CLI option, query parameter): None (now), an
    ISO 8601 time with a zone, or — where ``decision`` allows it — ``"decision"``.

    Raises:
        ValidationError: naming ``field``: not a time, or a time without a zone.
    """
    if text is None:
        return None
    if text == DECISION and decision:
        return DECISION
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        what = "an ISO 8601 time" + (" or 'decision'" if decision else "")
        raise ValidationError(None, field, f"{text!r} is not {what}") from None
    if value.tzinfo is None:
        raise ValidationError(None, field, f"{text!r} has no time zone (add Z or +08:00)")
    return value.astimezone(UTC)


def find_loan(session: Session, loan_id: str, *, as_of: datetime | None = None) -> Loan:
    """The loan's events recorded by ``as_of`` (None: now) and its decision by then.

    Raises :class:`LineageQueryError` when no event of that loan was recorded by then."""
    return _loan_of(loan_id, _events(session, loan_id, as_of), as_of)


@functools.cache
def _events_query(with_as_of: bool) -> Any:
    """A loan's events in recording order (index ``(loan_id, recorded_at)``); built once."""
    query = (
        select(m.Record.record_id, m.Record.loan_event, m.Record.recorded_at)
        .where(m.Record.loan_id == bindparam("loan_id"))
        .order_by(m.Record.recorded_at, m.Record.record_id)
    )
    if with_as_of:
        query = query.where(m.Record.recorded_at <= as_of_param())
    return query


def _events(session: Session, loan_id: str, as_of: datetime | None) -> list[Any]:
    params = query_params(as_of, loan_id=loan_id)
    return list(session.execute(_events_query(as_of is not None), params))


def _loan_of(loan_id: str, rows: list[Any], as_of: datetime | None) -> Loan:
    if not rows:
        when = "" if as_of is None else f" by {as_of.isoformat()}"
        raise LineageQueryError(None, "loan_id", f"no financing event of loan {loan_id!r}{when}")
    decision = decided_at = None
    for row in rows:
        if row.loan_event in DECISION_EVENTS:
            decision, decided_at = row.record_id, row.recorded_at
    return Loan(
        loan_id=loan_id,
        events=tuple(row.record_id for row in rows),
        decision=decision,
        decided_at=decided_at,
    )


def loan_lineage(
    session: Session,
    loan_id: str,
    *,
    depth: int = DEFAULT_DEPTH,
    as_of: AsOf = None,
    limit: int = DEFAULT_NODE_LIMIT,
) -> LineageGraph:
    """Upstream lineage of all the loan's events, as of a time, now, or ``"decision"``: the
    loan's decision time (an error naming the loan if it has no decision event)."""
    if as_of == DECISION:
        # one read of the loan's events: the decision time, then the events known by then
        rows = _events(session, loan_id, None)
        decided = _loan_of(loan_id, rows, None)
        if decided.decided_at is None:
            raise LineageQueryError(
                None, "as_of", f"loan {loan_id!r} has no approval or rejection event yet"
            )
        when: datetime | None = decided.decided_at
        loan = _loan_of(loan_id, [r for r in rows if r.recorded_at <= decided.decided_at], when)
    else:
        when = as_of if isinstance(as_of, datetime) else None
        loan = find_loan(session, loan_id, as_of=when)
    graph = upstream(session, list(loan.events), depth=depth, as_of=when, limit=limit)
    graph.loan = loan
    return graph


def resolve(session: Session, name: str) -> Start:
    """What ``name`` refers to: ``record:ID`` / ``loan:ID`` explicitly, otherwise a record
    if one has that id, else a loan if one has that id. Ambiguous or unknown names are an
    error that says how to disambiguate."""
    for prefix in ("record", "loan"):
        if name.startswith(f"{prefix}:"):
            return prefix, name[len(prefix) + 1 :]
    is_record = session.get(m.Record, name) is not None
    is_loan = (
        session.execute(select(m.Record.record_id).where(m.Record.loan_id == name).limit(1)).first()
        is not None
    )
    if is_record and is_loan:
        raise LineageQueryError(
            name,
            "name",
            f"{name!r} is both a record id and a loan id: write record:{name} or loan:{name}",
        )
    if is_record:
        return "record", name
    if is_loan:
        return "loan", name
    raise LineageQueryError(
        name, "name", f"{name!r} is neither a record id nor a loan id in the index"
    )


def lineage_of(
    session: Session,
    names: Sequence[str],
    *,
    down: bool = False,
    depth: int = DEFAULT_DEPTH,
    as_of: AsOf = None,
    limit: int = DEFAULT_NODE_LIMIT,
) -> LineageGraph:
    """The lineage of what ``names`` name (:func:`resolve`): one loan — all its events, as of
    a time, now or its ``"decision"`` — or records, upstream or (``down``) downstream. What
    the CLI, the API and lineage bundles all start from.

    Raises:
        LineageQueryError: no names, an unknown or ambiguous name, a loan with other names,
            a loan downstream, ``"decision"`` without a loan, a depth or limit out of range.
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
                f"loan {loans[0]!r} must be the only name: give one loan, or record ids only",
            )
        if down:
            raise LineageQueryError(
                loans[0], "down", "downstream walks start from records, not a loan"
            )
        return loan_lineage(session, loans[0], depth=depth, as_of=as_of, limit=limit)
    if as_of == DECISION:
        raise LineageQueryError(None, "as_of", "'decision' is a loan's decision time: give a loan")
    walk = downstream if down else upstream
    when = as_of if isinstance(as_of, datetime) else None
    return walk(session, [ident for _, ident in starts], depth=depth, as_of=when, limit=limit)
