"""The retention rules on hand-built record facts with known answers (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger_service.regulation.rules import (
    LoanEvent,
    RecordFacts,
    RuleName,
    assess,
    conduct_end,
    expires_on,
    expiry_after,
    local_date,
    retention_last_day,
)


def at(day: date, hour: int = 4) -> datetime:
    """A UTC time on ``day`` that is on the same day in China (UTC+8) for hour < 16."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def overdue(ended_by: tuple[LoanEvent, ...] = (), event: str = "overdue") -> RecordFacts:
    return RecordFacts(
        record_id="od",
        kind="financing_event",
        subject="S",
        occurred_at=at(date(2019, 6, 1)),
        loan_id="L",
        loan_event=event,
        loan_events=ended_by,
    )


def judicial(day: date, dataset: str = "judicial") -> RecordFacts:
    return RecordFacts(
        record_id="j", kind="data_update", subject="S", occurred_at=at(day), dataset=dataset
    )


def test_expiry_is_the_day_after_five_years_to_the_day() -> None:
    ended = date(2020, 3, 10)
    assert retention_last_day(ended) == date(2025, 3, 10)
    assert expiry_after(ended) == date(2025, 3, 11)
    assert expires_on(judicial(ended), date(2025, 1, 1)) == date(2025, 3, 11)
    facts = judicial(ended)
    day_before = assess(facts, date(2025, 3, 10))
    on_the_day = assess(facts, date(2025, 3, 11))
    assert day_before is not None
    assert not day_before.expired
    assert on_the_day is not None
    assert on_the_day.expired
    assert on_the_day.rule is RuleName.JUDICIAL_RECORD
    assert on_the_day.conduct_ended == ended
    assert on_the_day.expires == date(2025, 3, 11)


@pytest.mark.parametrize(
    ("ended", "last_day", "expires"),
    [
        # no 29 February five years on: the month's last day is the period's last day
        (date(2020, 2, 29), date(2025, 2, 28), date(2025, 3, 1)),
        # the period's last day is an ordinary 28 February; the next day is a leap day
        (date(2023, 2, 28), date(2028, 2, 28), date(2028, 2, 29)),
        (date(2023, 3, 1), date(2028, 3, 1), date(2028, 3, 2)),
        (date(2019, 12, 31), date(2024, 12, 31), date(2025, 1, 1)),
    ],
)
def test_leap_days(ended: date, last_day: date, expires: date) -> None:
    assert retention_last_day(ended) == last_day
    assert expiry_after(ended) == expires


def test_a_leap_day_record_expires_on_1_march_and_not_on_28_february() -> None:
    facts = judicial(date(2020, 2, 29))
    kept = assess(facts, date(2025, 2, 28))
    gone = assess(facts, date(2025, 3, 1))
    assert kept is not None
    assert not kept.expired
    assert gone is not None
    assert gone.expired


def test_days_are_counted_in_china_time() -> None:
    # 20:00 UTC on 10 March is 04:00 on 11 March in China
    late = datetime(2020, 3, 10, 20, tzinfo=UTC)
    assert local_date(late) == date(2020, 3, 11)
    facts = RecordFacts("j", "data_update", "S", late, dataset="judicial")
    assert conduct_end(facts, date(2030, 1, 1)) == date(2020, 3, 11)
    with pytest.raises(ValueError, match="no time zone"):
        local_date(datetime(2020, 3, 10))


def test_overdue_ended_by_a_repayment_expires_five_years_after_it() -> None:
    repaid = LoanEvent("rp", "repayment", at(date(2019, 9, 15)))
    facts = overdue((LoanEvent("d0", "disbursement", at(date(2019, 1, 1))), repaid))
    assert conduct_end(facts, date(2024, 1, 1)) == date(2019, 9, 15)
    result = assess(facts, date(2024, 9, 16))
    assert result is not None
    assert result.rule is RuleName.LOAN_OVERDUE
    assert result.expires == date(2024, 9, 16)
    assert result.expired


def test_overdue_not_ended_never_expires() -> None:
    # an earlier repayment does not end a later overdue
    earlier = LoanEvent("rp", "repayment", at(date(2019, 5, 1)))
    result = assess(overdue((earlier,)), date(2040, 1, 1))
    assert result is not None
    assert result.conduct_ended is None
    assert result.expires is None
    assert not result.expired


def test_a_repayment_after_as_of_does_not_count_yet() -> None:
    facts = overdue((LoanEvent("rp", "repayment", at(date(2021, 1, 10))),))
    assert conduct_end(facts, date(2021, 1, 9)) is None
    assert conduct_end(facts, date(2021, 1, 10)) == date(2021, 1, 10)


def test_default_ends_at_settlement_not_at_a_repayment() -> None:
    repaid = LoanEvent("rp", "repayment", at(date(2019, 7, 1)))
    settled = LoanEvent("st", "settlement", at(date(2020, 1, 2)))
    assert conduct_end(overdue((repaid,), event="default"), date(2030, 1, 1)) is None
    both = overdue((repaid, settled), event="default")
    assert conduct_end(both, date(2030, 1, 1)) == date(2020, 1, 2)
    result = assess(both, date(2030, 1, 1))
    assert result is not None
    assert result.rule is RuleName.LOAN_DEFAULT


@pytest.mark.parametrize(
    "facts",
    [
        judicial(date(2010, 1, 1), dataset="tax"),
        RecordFacts("s", "score_change", "S", at(date(2010, 1, 1))),
        RecordFacts("r", "financing_event", "S", at(date(2010, 1, 1)), "L", "repayment"),
        RecordFacts("c", "credit_repair", "S", at(date(2010, 1, 1))),
    ],
)
def test_records_that_are_not_negative_information(facts: RecordFacts) -> None:
    assert assess(facts, date(2030, 1, 1)) is None
    assert conduct_end(facts, date(2030, 1, 1)) is None


def test_a_superseded_record_follows_its_correction() -> None:
    correction = judicial(date(2021, 4, 1))
    original = RecordFacts(
        "j0", "data_update", "S", at(date(2020, 4, 1)), dataset="judicial", correction=correction
    )
    assert conduct_end(original, date(2030, 1, 1)) == date(2021, 4, 1)
    # a correction that is not negative information does not move the original's end
    not_negative = RecordFacts(
        "j0",
        "data_update",
        "S",
        at(date(2020, 4, 1)),
        dataset="judicial",
        correction=judicial(date(2021, 4, 1), dataset="other"),
    )
    assert conduct_end(not_negative, date(2030, 1, 1)) == date(2020, 4, 1)


def test_a_judicial_record_dated_after_as_of_has_not_ended() -> None:
    assert conduct_end(judicial(date(2026, 1, 1)), date(2025, 12, 31)) is None
