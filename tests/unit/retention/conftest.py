"""A small index of negative records with known expiry dates, written through the real
intake on SQLite and PostgreSQL, with a clock the test sets (``recorded_at``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory
from tests.db.fixtures import IndexDatabase


def on(day: date) -> datetime:
    """04:00 UTC on ``day``: noon of the same day in China."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = on(date(2019, 1, 1))

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(index_db: IndexDatabase, clock: Clock) -> LedgerContext:
    """Overrides tests/unit/conftest.py's: the clock is set by the story."""
    return LedgerContext(
        index_db.context.config, engine=index_db.engine, migrate=False, clock=clock
    )


@pytest.fixture
def session(ledger: LedgerContext) -> Iterator[Session]:
    with ledger.session_factory() as s:
        yield s


@pytest.fixture
def negatives(service: LedgerService, platform: RecordFactory, clock: Clock) -> None:
    """Loan L1 overdue (2019-06-01) and repaid (2019-09-15): expires 2024-09-16. Loan L2
    overdue, never repaid. Judicial j1 on a leap day (2020-02-29): expires 2025-03-01.
    Judicial j2 (2020-04-01) corrected by j3 (2021-04-01): both expire 2026-04-02. Loan L3
    in default (2019-06-01), settled 2020-01-02 but the settlement only recorded on
    2026-01-01: expires 2025-01-03, known from 2026-01-01. A tax update (not negative)."""
    fe, du = platform.financing_event, platform.data_update

    def at(day: date, *records: object) -> None:
        clock.now = on(day)
        service.append(list(records))  # type: ignore[arg-type]

    at(
        date(2019, 1, 1),
        fe("disburse1", event="disbursement", loan_id="L1", occurred_at=on(date(2019, 1, 1))),
        du("tax1", occurred_at=on(date(2010, 1, 1))),
    )
    at(
        date(2019, 6, 1),
        fe("od1", event="overdue", loan_id="L1", occurred_at=on(date(2019, 6, 1))),
        fe("od2", event="overdue", loan_id="L2", occurred_at=on(date(2019, 6, 1))),
        fe("df3", event="default", loan_id="L3", occurred_at=on(date(2019, 6, 1))),
    )
    at(
        date(2019, 9, 15),
        fe("repay1", event="repayment", loan_id="L1", occurred_at=on(date(2019, 9, 15))),
    )
    at(date(2020, 3, 1), du("j1", dataset="judicial", occurred_at=on(date(2020, 2, 29))))
    at(date(2020, 4, 2), du("j2", dataset="judicial", occurred_at=on(date(2020, 4, 1))))
    at(
        date(2021, 4, 2),
        du("j3", dataset="judicial", supersedes="j2", occurred_at=on(date(2021, 4, 1))),
    )
    at(
        date(2026, 1, 1),
        fe("settle3", event="settlement", loan_id="L3", occurred_at=on(date(2020, 1, 2))),
    )
