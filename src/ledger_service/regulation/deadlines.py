"""The answer period of an objection (征信业管理条例 Art. 25: checked and answered within 20
days) — pure date arithmetic, no database, no clock (docs/regulation.md "Objections").

Days are calendar days in China Standard Time, as for retention (``regulation.rules``): the day
the objection was recorded is not counted, so an objection recorded on 1 March with a 20-day
period must be answered by the end of 21 March (its deadline) and is overdue from 22 March.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ledger_service.regulation.rules import local_date

__all__ = ["DEFAULT_OBJECTION_DAYS", "answer_deadline", "is_overdue", "parse_objection_days"]

#: Art. 25's period; ``LEDGER_OBJECTION_DAYS`` overrides it (``ServiceConfig.objection_days``).
DEFAULT_OBJECTION_DAYS = 20


def answer_deadline(recorded_at: datetime, days: int) -> date:
    """The last day (China time) on which an objection recorded at ``recorded_at`` is answered
    in time."""
    if days < 1:
        raise ValueError(f"the answer period must be at least 1 day, got {days}")
    return local_date(recorded_at) + timedelta(days=days)


def is_overdue(deadline: date, as_of: datetime) -> bool:
    """An open case is overdue once its deadline day has passed in China time."""
    return local_date(as_of) > deadline


def parse_objection_days(text: str | None) -> int:
    """``LEDGER_OBJECTION_DAYS`` as a whole number of days (default 20); a clear error
    naming the variable otherwise."""
    if text is None or not text.strip():
        return DEFAULT_OBJECTION_DAYS
    try:
        days = int(text.strip())
    except ValueError:
        raise ValueError(
            f"LEDGER_OBJECTION_DAYS must be a whole number of days, got {text!r}"
        ) from None
    if not 1 <= days <= 366:
        raise ValueError(f"LEDGER_OBJECTION_DAYS must be 1..366 days, got {days}")
    return days
