"""The dry-run expiry report: which negative records would expire on a date, under which
rule, when their conduct ended and when they expire — read from the index, nothing changed.

The rules are :mod:`ledger_service.regulation.rules`; this module gathers each candidate's
facts in three statements (built once): the candidates (overdue and default financing events
by their ``loan_event`` column; data updates, whose data set is read from their content),
the repayments and settlements of the candidates' loans, and the corrections of superseded
candidates. "The index as of DATE" is everything recorded by the end of that day in China
time; shredded records are already erased and are not candidates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from ledger_service.index import models as m
from ledger_service.regulation.rules import (
    CHINA_TIME,
    Assessment,
    LoanEvent,
    RecordFacts,
    assess,
    dataset_of,
)

__all__ = ["ExpiryReport", "assess_record", "expiry_report", "report_to_json", "until_end_of"]

#: Financing events that are negative information, and the events that can end them.
NEGATIVE_LOAN_EVENTS = ("overdue", "default")
CLOSING_LOAN_EVENTS = ("repayment", "settlement")
#: Bound on a correction chain followed from one record (intake forbids forks, not length).
MAX_CORRECTIONS = 50


@dataclass(frozen=True)
class ExpiryReport:
    """Negative records as of a date: those expired (to be deleted by a real run) and how
    many are still kept, split by whether their conduct has ended."""

    as_of: date
    expired: list[Assessment]
    kept: int
    not_ended: int


def until_end_of(day: date) -> datetime:
    """The first instant after ``day`` in China time: the index "as of ``day``" is what was
    recorded before it."""
    return datetime.combine(day + timedelta(days=1), time(0), CHINA_TIME)


def _cutoff() -> Any:
    """The ``:cutoff`` parameter, bound like the ``recorded_at`` column it is compared with."""
    return bindparam("cutoff", type_=m.Record.__table__.c.recorded_at.type)


def _columns() -> tuple[Any, ...]:
    r = m.Record
    return (
        r.record_id,
        r.kind,
        r.subject,
        r.occurred_at,
        r.loan_id,
        r.loan_event,
        r.superseded_by,
        r.content,
    )


@functools.cache
def _candidates_query() -> Any:
    r = m.Record
    return (
        select(*_columns())
        .where(r.recorded_at < _cutoff(), r.erased_at.is_(None))
        .where(
            or_(
                r.kind == "data_update",
                (r.kind == "financing_event") & r.loan_event.in_(NEGATIVE_LOAN_EVENTS),
            )
        )
        .order_by(r.occurred_at, r.record_id)
    )


@functools.cache
def _closing_events_query() -> Any:
    r = m.Record
    return select(r.record_id, r.loan_id, r.loan_event, r.occurred_at).where(
        r.loan_id.in_(bindparam("loan_ids", expanding=True)),
        r.loan_event.in_(CLOSING_LOAN_EVENTS),
        r.recorded_at < _cutoff(),
    )


@functools.cache
def _records_query() -> Any:
    r = m.Record
    return select(*_columns()).where(
        r.record_id.in_(bindparam("record_ids", expanding=True)),
        r.recorded_at < _cutoff(),
    )


def _dataset(row: Any) -> str | None:
    return dataset_of(row.kind, None if row.content is None else bytes(row.content))


def _facts(row: Any, loan_events: dict[str, tuple[LoanEvent, ...]]) -> RecordFacts:
    return RecordFacts(
        record_id=row.record_id,
        kind=row.kind,
        subject=row.subject,
        occurred_at=row.occurred_at,
        loan_id=row.loan_id,
        loan_event=row.loan_event,
        dataset=_dataset(row),
        loan_events=loan_events.get(row.loan_id, ()) if row.loan_id else (),
    )


def _loan_events(
    session: Session, loan_ids: set[str], cutoff: datetime
) -> dict[str, tuple[LoanEvent, ...]]:
    events: dict[str, list[LoanEvent]] = {}
    if loan_ids:
        params = {"loan_ids": sorted(loan_ids), "cutoff": cutoff}
        for row in session.execute(_closing_events_query(), params):
            events.setdefault(row.loan_id, []).append(
                LoanEvent(row.record_id, row.loan_event, row.occurred_at)
            )
    return {loan: tuple(found) for loan, found in events.items()}


def _corrections(session: Session, rows: Iterable[Any], cutoff: datetime) -> dict[str, Any]:
    """Every correction (recorded by ``cutoff``) reachable from ``rows`` by ``superseded_by``,
    by record id, one statement per step along the chains."""
    found: dict[str, Any] = {}
    wanted = {row.superseded_by for row in rows if row.superseded_by}
    for _ in range(MAX_CORRECTIONS):
        if not wanted:
            break
        params = {"record_ids": sorted(wanted), "cutoff": cutoff}
        step = list(session.execute(_records_query(), params))
        found.update((row.record_id, row) for row in step)
        wanted = {row.superseded_by for row in step if row.superseded_by} - found.keys()
    return found


def _assessments(
    session: Session, rows: list[Any], cutoff: datetime, as_of: date
) -> list[Assessment]:
    """The standing on ``as_of`` of each negative record among ``rows`` (others dropped)."""
    corrections = _corrections(session, rows, cutoff)
    loan_ids = {r.loan_id for r in [*rows, *corrections.values()] if r.loan_id}
    loan_events = _loan_events(session, loan_ids, cutoff)

    def facts_of(row: Any, depth: int = 0) -> RecordFacts:
        facts = _facts(row, loan_events)
        newer = corrections.get(row.superseded_by) if row.superseded_by else None
        if newer is None or depth >= MAX_CORRECTIONS:
            return facts
        return replace(facts, correction=facts_of(newer, depth + 1))

    found = (assess(facts_of(row), as_of) for row in rows)
    return [a for a in found if a is not None]


def expiry_report(session: Session, as_of: date) -> ExpiryReport:
    """The negative records as the index stood at the end of ``as_of`` (China time) and
    which of them have expired by that day. Reads only."""
    cutoff = until_end_of(as_of)
    rows = list(session.execute(_candidates_query(), {"cutoff": cutoff}))
    expired: list[Assessment] = []
    kept = not_ended = 0
    for result in _assessments(session, rows, cutoff, as_of):
        if result.expired:
            expired.append(result)
        elif result.conduct_ended is None:
            not_ended += 1
        else:
            kept += 1
    expired.sort(key=lambda a: (a.expires or as_of, a.record_id))
    return ExpiryReport(as_of=as_of, expired=expired, kept=kept, not_ended=not_ended)


def assess_record(session: Session, record_id: str, as_of: date) -> Assessment | None:
    """One record's standing under the Art. 16 rules on ``as_of`` (the index as of the end
    of that day); ``None`` when it is not negative information (or unknown by then, or its
    content is erased)."""
    cutoff = until_end_of(as_of)
    params = {"record_ids": [record_id], "cutoff": cutoff}
    rows = [row for row in session.execute(_records_query(), params) if row.content is not None]
    found = _assessments(session, rows, cutoff, as_of)
    return found[0] if found else None


def report_to_json(report: ExpiryReport) -> dict[str, Any]:
    """``{as_of, dry_run, expired: [{record_id, subject, rule, conduct_ended, expires_on}],
    kept, not_ended}``; dates as ISO 8601 calendar dates."""
    return {
        "as_of": report.as_of.isoformat(),
        "dry_run": True,
        "expired": [
            {
                "record_id": a.record_id,
                "subject": a.subject,
                "rule": a.rule.value,
                "conduct_ended": None if a.conduct_ended is None else a.conduct_ended.isoformat(),
                "expires_on": None if a.expires is None else a.expires.isoformat(),
            }
            for a in report.expired
        ],
        "kept": report.kept,
        "not_ended": report.not_ended,
    }
