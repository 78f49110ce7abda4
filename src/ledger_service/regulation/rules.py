"""Which records are negative information and when each one expires (docs/regulation.md).

征信业管理条例 Art. 16: negative information is kept for 5 years from the day the conduct
ended, then deleted. This module is the rule table and pure functions over a record's facts
(no database, no clock): the caller passes everything a rule may look at, including the date
the answer is asked for (``as_of``), so an answer is reproducible.

Dates are calendar dates in China Standard Time (UTC+8, no daylight saving): the regulation's
jurisdiction, and a record that occurred at 2020-03-10T20:00Z happened on 2020-03-11 there.

"5 years from the day the conduct ended" is counted as 民法典 (Civil Code) Art. 201-202 count
periods: the day the conduct ended is not counted; the period's last day is the day with the
same month and day 5 years later, or the last day of that month where there is no such day
(a conduct that ended on 29 February: 28 February). The record is kept through that last day
and expires on the day after it (:func:`expiry_after`; :func:`expires_on` for a record).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

__all__ = [
    "CHINA_TIME",
    "RETENTION_YEARS",
    "RULES",
    "Assessment",
    "LoanEvent",
    "RecordFacts",
    "Rule",
    "RuleName",
    "assess",
    "conduct_end",
    "dataset_of",
    "expires_on",
    "expiry_after",
    "local_date",
    "retention_last_day",
    "rule_for",
]

#: China Standard Time: where the regulation counts days.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
#: Art. 16: negative information is kept this many years after the conduct ended.
RETENTION_YEARS = 5


class RuleName(StrEnum):
    """Stable names of the retention rules (they go into reports and, later, erasure records)."""

    LOAN_OVERDUE = "loan_overdue"
    LOAN_DEFAULT = "loan_default"
    JUDICIAL_RECORD = "judicial_record"


@dataclass(frozen=True)
class LoanEvent:
    """Another financing event of the same loan, as the index has it."""

    record_id: str
    event: str
    occurred_at: datetime


@dataclass(frozen=True)
class RecordFacts:
    """What the rules look at: index columns, the data set of a data update (from its
    content), the other events of a financing event's loan, and the newest correction of a
    superseded record (``None`` when it is not superseded)."""

    record_id: str
    kind: str
    subject: str
    occurred_at: datetime
    loan_id: str | None = None
    loan_event: str | None = None
    dataset: str | None = None
    loan_events: tuple[LoanEvent, ...] = ()
    correction: RecordFacts | None = None


@dataclass(frozen=True)
class Rule:
    """One kind of negative information: what it is, why, and when its conduct ends."""

    name: RuleName
    applies: Callable[[RecordFacts], bool]
    #: the end of the conduct among facts known by ``as_of``; ``None``: not ended by then
    ends: Callable[[RecordFacts, date], date | None]
    reason: str


def local_date(moment: datetime) -> date:
    """The calendar date of an aware time in China Standard Time."""
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no time zone")
    return moment.astimezone(CHINA_TIME).date()


def _ended_by_loan_event(closing: frozenset[str]) -> Callable[[RecordFacts, date], date | None]:
    """The conduct ends on the first later event of the same loan of one of ``closing``
    that occurred by ``as_of``."""

    def ends(facts: RecordFacts, as_of: date) -> date | None:
        started = facts.occurred_at
        endings = [
            e.occurred_at
            for e in facts.loan_events
            if e.event in closing
            and e.record_id != facts.record_id
            and e.occurred_at >= started
            and local_date(e.occurred_at) <= as_of
        ]
        return local_date(min(endings)) if endings else None

    return ends


def _ended_when_it_occurred(facts: RecordFacts, as_of: date) -> date | None:
    ended = local_date(facts.occurred_at)
    return ended if ended <= as_of else None


def _is_loan_event(event: str) -> Callable[[RecordFacts], bool]:
    return lambda f: f.kind == "financing_event" and f.loan_event == event


#: The rule table. A record matches at most one rule; a record no rule matches is not
#: negative information and never expires under Art. 16.
RULES: tuple[Rule, ...] = (
    Rule(
        RuleName.LOAN_OVERDUE,
        _is_loan_event("overdue"),
        _ended_by_loan_event(frozenset({"repayment", "settlement"})),
        "an overdue payment is negative information; it ends when the borrower pays "
        "(the loan's next repayment or its settlement)",
    ),
    Rule(
        RuleName.LOAN_DEFAULT,
        _is_loan_event("default"),
        _ended_by_loan_event(frozenset({"settlement"})),
        "a default is negative information; a repayment after a default is a partial "
        "recovery, so it ends only when the loan is settled",
    ),
    Rule(
        RuleName.JUDICIAL_RECORD,
        lambda f: f.kind == "data_update" and f.dataset == "judicial",
        _ended_when_it_occurred,
        "court data (judgments, enforcement, dishonest-debtor listings) is negative "
        "information about a conduct the court has established; it ended when the record "
        "says it occurred",
    ),
)


def dataset_of(kind: str, content: bytes | None) -> str | None:
    """The data set of a data update, from its stored canonical content (``None`` for other
    kinds, or once the content is shredded): the one fact a rule reads from content."""
    if kind != "data_update" or content is None:
        return None
    return str(json.loads(content)["payload"]["dataset"])


def rule_for(facts: RecordFacts) -> Rule | None:
    """The rule that makes this record negative information, or ``None``."""
    for rule in RULES:
        if rule.applies(facts):
            return rule
    return None


def conduct_end(facts: RecordFacts, as_of: date) -> date | None:
    """The day the conduct ended, as known by ``as_of``; ``None`` when the record is not
    negative information or its conduct has not ended by then.

    A superseded record describes the same conduct as its correction, which is the
    authoritative statement of it: when the correction is negative information too, its
    end counts (it may be later or earlier than the original's)."""
    rule = rule_for(facts)
    if rule is None:
        return None
    correction = facts.correction
    if correction is not None and rule_for(correction) is not None:
        return conduct_end(correction, as_of)
    return rule.ends(facts, as_of)


def retention_last_day(ended: date) -> date:
    """The last day of the 5 years after ``ended`` (Civil Code Art. 201-202): same month and
    day 5 years later; 28 February when the conduct ended on 29 February and that year has
    none."""
    year = ended.year + RETENTION_YEARS
    try:
        return ended.replace(year=year)
    except ValueError:  # 29 February in a common year: the month's last day
        return date(year, 2, 28)


def expiry_after(ended: date) -> date:
    """The first day a record whose conduct ended on ``ended`` is no longer kept."""
    return retention_last_day(ended) + timedelta(days=1)


def expires_on(facts: RecordFacts, as_of: date) -> date | None:
    """The day the record expires, as known by ``as_of``; ``None`` when it is not negative
    information or its conduct has not ended by then."""
    ended = conduct_end(facts, as_of)
    return None if ended is None else expiry_after(ended)


@dataclass(frozen=True)
class Assessment:
    """A negative record's standing on ``as_of``: its rule, the end of its conduct (``None``:
    not ended), when it expires (``None``: not while the conduct goes on) and whether it has."""

    record_id: str
    subject: str
    rule: RuleName
    conduct_ended: date | None
    expires: date | None
    expired: bool


def assess(facts: RecordFacts, as_of: date) -> Assessment | None:
    """The record's standing on ``as_of``; ``None`` when it is not negative information."""
    rule = rule_for(facts)
    if rule is None:
        return None
    ended = conduct_end(facts, as_of)
    expiry = None if ended is None else expiry_after(ended)
    return Assessment(
        record_id=facts.record_id,
        subject=facts.subject,
        rule=rule.name,
        conduct_ended=ended,
        expires=expiry,
        expired=expiry is not None and expiry <= as_of,
    )
