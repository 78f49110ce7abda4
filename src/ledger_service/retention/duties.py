"""Retention duties that stand in the way of erasure on request (PIPL Art. 47 para. 1
item 1 ends with "or a law or administrative regulation requires otherwise"; Art. 47 para. 2:
where the retention period a law sets has not expired, the data is not deleted).

One table (:data:`DUTIES`), each duty with a stable name (the API's problem detail and the
CLI's refusal name it) and its reason; :func:`duties_holding` answers which hold for a record
on a day, from the index alone. docs/regulation.md "Erasure on request" is this table in
prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger_service.index import models as m
from ledger_service.queries.lineage.cases import resolved_clause
from ledger_service.queries.lineage.impact import DEFAULT_IMPACT_DEPTH
from ledger_service.queries.lineage.walk import downstream
from ledger_service.regulation.rules import expiry_after, local_date
from ledger_service.retention.report import assess_record, until_end_of

__all__ = ["DUTIES", "Duty", "DutyName", "HeldDuty", "duties_holding", "loan_kept_until"]


class DutyName(StrEnum):
    NEGATIVE_INFORMATION = "negative_information_retention"
    LOAN_RECORD = "loan_record_keeping"
    LOAN_DECISION_BASIS = "loan_decision_basis"
    OPEN_OBJECTION = "open_objection"


@dataclass(frozen=True)
class Duty:
    name: DutyName
    law: str
    reason: str


#: The duties, in the order they are checked.
DUTIES: tuple[Duty, ...] = (
    Duty(
        DutyName.NEGATIVE_INFORMATION,
        "征信业管理条例 Art. 16",
        "negative information is kept for 5 years after the conduct ended and then deleted "
        "by the retention run; it is not deleted earlier on request",
    ),
    Duty(
        DutyName.LOAN_RECORD,
        "反洗钱法 (record keeping: 5 years after the business relationship ends)",
        "a loan's own financing events are kept until 5 years after the loan is settled",
    ),
    Duty(
        DutyName.LOAN_DECISION_BASIS,
        "反洗钱法 record keeping; 商业银行法 (credit decisions must be reviewable)",
        "a record a loan's events relied on (directly or through scores) is kept as long as "
        "that loan's records are: until 5 years after the loan is settled",
    ),
    Duty(
        DutyName.OPEN_OBJECTION,
        "征信业管理条例 Art. 25",
        "a disputed record is the subject of an objection that must be checked and "
        "answered; it is kept while the objection stands",
    ),
)
_BY_NAME = {duty.name: duty for duty in DUTIES}


@dataclass(frozen=True)
class HeldDuty:
    """A duty that holds for a record, and what makes it hold (the record's facts)."""

    duty: Duty
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {
            "duty": self.duty.name.value,
            "law": self.duty.law,
            "reason": self.duty.reason,
            "detail": self.detail,
        }


def loan_kept_until(session: Session, loan_id: str, today: date) -> date | None:
    """The first day a loan's records are no longer kept: 5 years (counted as in
    :mod:`.rules`) after its first settlement recorded by ``today``; ``None``: not settled."""
    r = m.Record
    settled = session.scalar(
        select(r.occurred_at)
        .where(
            r.loan_id == loan_id,
            r.loan_event == "settlement",
            r.recorded_at < until_end_of(today),
        )
        .order_by(r.occurred_at)
        .limit(1)
    )
    return None if settled is None else expiry_after(local_date(settled))


def _loan_duty(
    session: Session, loan_id: str, today: date, duty: DutyName, why: str
) -> HeldDuty | None:
    until = loan_kept_until(session, loan_id, today)
    if until is not None and until <= today:
        return None
    when = "the loan is not settled" if until is None else f"kept until {until.isoformat()}"
    return HeldDuty(_BY_NAME[duty], f"{why} loan {loan_id!r}: {when}")


def duties_holding(session: Session, row: m.Record, today: date) -> list[HeldDuty]:
    """Every duty that keeps ``row`` on ``today`` (China time); empty: erasable."""
    held: list[HeldDuty] = []
    standing = assess_record(session, row.record_id, today)
    if standing is not None and not standing.expired:
        when = (
            "its conduct has not ended"
            if standing.expires is None
            else f"it expires on {standing.expires.isoformat()}"
        )
        held.append(
            HeldDuty(
                _BY_NAME[DutyName.NEGATIVE_INFORMATION],
                f"negative information under rule {standing.rule.value}; {when}",
            )
        )
    if row.loan_id is not None:
        found = _loan_duty(session, row.loan_id, today, DutyName.LOAN_RECORD, "an event of")
        if found is not None:
            held.append(found)
    graph = downstream(session, [row.record_id], depth=DEFAULT_IMPACT_DEPTH)
    loans = sorted(
        {
            node.loan_id
            for node in graph.nodes.values()
            if node.loan_id is not None and node.record_id != row.record_id
        }
        - {row.loan_id}
    )
    for loan_id in loans:
        found = _loan_duty(
            session, loan_id, today, DutyName.LOAN_DECISION_BASIS, "relied on by the events of"
        )
        if found is not None:
            held.append(found)
            break  # one loan is enough to refuse; the detail names it
    # disputed now: an objection case still open (a resolved case no longer holds the record;
    # an old-style objection, a record of another kind with ``disputes``, never closes)
    objection = aliased(m.Record)
    open_by = session.scalar(
        select(objection.record_id)
        .where(
            objection.disputes == row.record_id,
            ~resolved_clause(objection, None),
        )
        .order_by(objection.recorded_at)
        .limit(1)
    )
    if open_by is not None:
        held.append(HeldDuty(_BY_NAME[DutyName.OPEN_OBJECTION], f"disputed by {open_by!r}"))
    return held
