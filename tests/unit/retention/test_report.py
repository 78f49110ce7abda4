"""The dry-run expiry report on SQLite and PostgreSQL: what expires on which day, as the
index stood then, and that nothing is changed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.index import models as m
from ledger_service.retention.report import expiry_report, report_to_json
from tests.db.factories import table_counts

pytestmark = pytest.mark.usefixtures("negatives")


def expired(session: Session, day: date) -> dict[str, tuple[str, str | None, str | None]]:
    report = report_to_json(expiry_report(session, day))
    return {
        e["record_id"]: (e["rule"], e["conduct_ended"], e["expires_on"]) for e in report["expired"]
    }


def test_an_overdue_repaid_expires_five_years_after_the_repayment_and_not_a_day_before(
    session: Session,
) -> None:
    assert expired(session, date(2024, 9, 15)) == {}
    assert expired(session, date(2024, 9, 16)) == {
        "od1": ("loan_overdue", "2019-09-15", "2024-09-16")
    }


def test_a_leap_day_judicial_record_expires_on_1_march(session: Session) -> None:
    assert "j1" not in expired(session, date(2025, 2, 28))
    assert expired(session, date(2025, 3, 1))["j1"] == (
        "judicial_record",
        "2020-02-29",
        "2025-03-01",
    )


def test_counts_of_the_records_still_kept(session: Session) -> None:
    report = expiry_report(session, date(2025, 3, 1))
    assert {a.record_id for a in report.expired} == {"od1", "j1"}
    assert report.kept == 2  # j2 and j3: ended 2021-04-01
    assert report.not_ended == 2  # od2 never repaid; df3's settlement not recorded yet


def test_a_corrected_record_expires_with_its_correction(session: Session) -> None:
    # as of 2021: j3 not recorded yet; od1, j1 and j2 have ended, none is 5 years old
    early = expiry_report(session, date(2021, 1, 1))
    assert (early.expired, early.kept) == ([], 3)
    # j2's own date (2020-04-01) would expire it on 2025-04-02; its correction's does not
    assert "j2" not in expired(session, date(2025, 4, 2))
    assert "j2" not in expired(session, date(2026, 4, 1))
    late = expired(session, date(2026, 4, 2))
    assert late["j2"] == late["j3"] == ("judicial_record", "2021-04-01", "2026-04-02")


def test_a_settlement_counts_only_once_the_index_has_it(session: Session) -> None:
    assert "df3" not in expired(session, date(2025, 12, 31))
    assert expired(session, date(2026, 1, 1))["df3"] == (
        "loan_default",
        "2020-01-02",
        "2025-01-03",
    )
    everything = expiry_report(session, date(2026, 4, 2))
    assert {a.record_id for a in everything.expired} == {"od1", "j1", "j2", "j3", "df3"}
    assert everything.not_ended == 1


def stored_contents(session: Session) -> dict[str, bytes | None]:
    rows = session.execute(select(m.Record.record_id, m.Record.content, m.Record.erased_at))
    return {row.record_id: row.content for row in rows if row.erased_at is None}


def test_the_dry_run_changes_nothing(session: Session, ledger: LedgerContext) -> None:
    before = table_counts(ledger.session_factory)
    contents = stored_contents(session)
    expiry_report(session, date(2030, 1, 1))
    session.expire_all()
    assert table_counts(ledger.session_factory) == before
    assert stored_contents(session) == contents
