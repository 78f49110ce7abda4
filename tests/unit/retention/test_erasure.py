"""Erasure with an anchored erasure record, on SQLite and PostgreSQL, clock-controlled: the
retention run at 5 years to the day (and nothing the day before), one transaction per
erasure (crash: neither; rerun: nothing twice; every other row byte-identical), erasure on
request refused under each retention duty, and the service key."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
from credit_ledger_verify.records import ErasurePayload, parse_record
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.errors import RecordErased, UnknownRecord, ValidationError
from ledger_service.index import models as m
from ledger_service.index.retention_models import RetentionRun
from ledger_service.intake import LedgerService
from ledger_service.retention.duties import DutyName
from ledger_service.retention.erasure import ErasureRefused, erasure_record_id
from ledger_service.retention.listings import erasures, retention_runs
from ledger_service.retention.run import run_retention
from ledger_service.retention.service_key import (
    SERVICE_ACTOR,
    ServiceKeyError,
    load_or_create_service_key,
    service_key_path,
)
from tests.db.factories import RecordFactory
from tests.unit.retention.conftest import Clock, on

pytestmark = pytest.mark.usefixtures("negatives")


def snapshot(ledger: LedgerContext) -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Every row of every index table, by primary key, as plain values."""
    found: dict[str, dict[Any, tuple[Any, ...]]] = {}
    with ledger.session_factory() as session:
        for table in m.Base.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            rows = session.execute(select(table)).mappings()
            found[table.name] = {
                tuple(row[k] for k in keys): tuple(
                    bytes(v) if isinstance(v, memoryview) else v for v in row.values()
                )
                for row in rows
            }
    return found


def run(ledger: LedgerContext, clock: Clock, day: date) -> Any:
    clock.now = on(day)
    return run_retention(ledger.session_factory, ledger.erasures, day, started_by="test")


def row_of(session: Session, record_id: str) -> m.Record:
    row = session.get(m.Record, record_id)
    assert row is not None
    return row


def test_nothing_is_erased_the_day_before_expiry(ledger: LedgerContext, clock: Clock) -> None:
    before = snapshot(ledger)
    result = run(ledger, clock, date(2024, 9, 15))
    assert result.erased == []
    after = snapshot(ledger)
    # only the run's own row is new
    assert {k: v for k, v in after.items() if k != "retention_runs"} == {
        k: v for k, v in before.items() if k != "retention_runs"
    }
    assert len(after["retention_runs"]) == len(before["retention_runs"]) + 1


def test_expiry_at_five_years_to_the_day(ledger: LedgerContext, clock: Clock) -> None:
    before = snapshot(ledger)
    result = run(ledger, clock, date(2024, 9, 16))
    assert [(d.record_id, d.rule) for d in result.erased] == [("od1", "loan_overdue")]
    erasure_id = erasure_record_id("od1")
    with ledger.session_factory() as session:
        od1 = row_of(session, "od1")
        assert (od1.content, od1.salt, od1.content_sha256) == (None, None, None)
        assert od1.erased_by == erasure_id
        assert od1.erased_at == on(date(2024, 9, 16))
        assert bytes(od1.commitment) == before["records"][("od1",)][9]
        erasure = row_of(session, erasure_id)
        assert erasure.actor == SERVICE_ACTOR
        assert erasure.subject == od1.subject
        record = parse_record(erasure.content or b"")
        payload = record.payload
        assert isinstance(payload, ErasurePayload)
        assert (payload.erased_record, payload.basis.value, payload.rule) == (
            "od1",
            "expiry",
            "loan_overdue",
        )
        assert (payload.conduct_ended, payload.expired_on) == (
            date(2019, 9, 15),
            date(2024, 9, 16),
        )
        # it goes to the chain like any record: pending in the anchoring outbox
        outbox = session.scalars(
            select(m.OutboxEntry.state).where(m.OutboxEntry.record_id == erasure_id)
        ).one()
        assert outbox == m.OutboxState.PENDING.value
        (stored_run,) = retention_runs(session)
        assert (stored_run.as_of, stored_run.expired, stored_run.erased) == (
            date(2024, 9, 16),
            1,
            1,
        )
        assert stored_run.finished_at is not None
    after = snapshot(ledger)
    # nothing else touched: every other record row, edge, outbox row byte-identical
    changed = {
        (table, key)
        for table, rows in before.items()
        for key, values in rows.items()
        if after[table].get(key) != values
    }
    assert changed == {("records", ("od1",))}
    added = {
        (table, key) for table, rows in after.items() for key in rows if key not in before[table]
    }
    assert {t for t, _ in added} == {"records", "anchoring_outbox", "retention_runs", "writer_keys"}
    assert ("records", (erasure_id,)) in added


def test_a_rerun_erases_nothing_twice(ledger: LedgerContext, clock: Clock) -> None:
    run(ledger, clock, date(2025, 3, 1))
    before = snapshot(ledger)
    again = run(ledger, clock, date(2025, 3, 1))
    assert again.erased == []
    assert again.already_erased == []
    after = snapshot(ledger)
    assert {k: v for k, v in after.items() if k != "retention_runs"} == {
        k: v for k, v in before.items() if k != "retention_runs"
    }
    with ledger.session_factory() as session:
        lines = erasures(session)
    assert sorted(line.record_id for line in lines) == ["j1", "od1"]
    assert {line.rule for line in lines} == {"loan_overdue", "judicial_record"}


def test_a_crash_inside_the_transaction_leaves_neither(
    ledger: LedgerContext, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ledger_service.intake.service as service_module

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    before = snapshot(ledger)
    ledger.erasures._signing_key()  # the key registration is its own, earlier transaction
    before = snapshot(ledger)
    monkeypatch.setattr(service_module, "_shred", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run(ledger, clock, date(2024, 9, 16))
    after = snapshot(ledger)
    assert {k: v for k, v in after.items() if k != "retention_runs"} == {
        k: v for k, v in before.items() if k != "retention_runs"
    }
    monkeypatch.undo()
    result = run(ledger, clock, date(2024, 9, 16))
    assert [d.record_id for d in result.erased] == ["od1"]


def test_a_run_for_a_future_day_is_refused(ledger: LedgerContext, clock: Clock) -> None:
    clock.now = on(date(2024, 9, 15))
    with pytest.raises(ValidationError, match="after today"):
        run_retention(ledger.session_factory, ledger.erasures, date(2024, 9, 16), started_by="t")
    with ledger.session_factory() as session:
        assert session.scalars(select(RetentionRun)).all() == []


@pytest.fixture
def decision(service: LedgerService, platform: RecordFactory, clock: Clock) -> None:
    """tax2 → score s1 → approval of loan L9 (not settled); tax3 relied on by nothing;
    tax4 disputed by an objection."""
    clock.now = on(date(2026, 2, 1))
    service.append(
        [
            platform.data_update("tax2"),
            platform.score_change("s1", parents=["tax2"]),
            platform.financing_event("ap9", event="approval", loan_id="L9", parents=["s1"]),
            platform.data_update("tax3"),
            platform.data_update("tax4"),
            platform.credit_repair("obj4", disputes="tax4"),
        ]
    )


@pytest.mark.usefixtures("decision")
@pytest.mark.parametrize(
    ("record_id", "duties", "detail"),
    [
        (
            "od2",
            [DutyName.NEGATIVE_INFORMATION, DutyName.LOAN_RECORD],
            "conduct has not ended",
        ),
        ("j3", [DutyName.NEGATIVE_INFORMATION], "expires on 2026-04-02"),
        ("disburse1", [DutyName.LOAN_RECORD], "'L1': the loan is not settled"),
        ("tax2", [DutyName.LOAN_DECISION_BASIS], "'L9': the loan is not settled"),
        ("s1", [DutyName.LOAN_DECISION_BASIS], "'L9'"),
        ("tax4", [DutyName.OPEN_OBJECTION], "'obj4'"),
    ],
)
def test_erasure_on_request_is_refused_under_a_duty(
    ledger: LedgerContext, clock: Clock, record_id: str, duties: list[DutyName], detail: str
) -> None:
    clock.now = on(date(2026, 3, 1))
    before = snapshot(ledger)
    with pytest.raises(ErasureRefused) as refused:
        ledger.erasures.erase_on_request(record_id, "the subject asked (ticket 7)")
    assert [h.duty.name for h in refused.value.held] == duties
    assert detail in str(refused.value)
    assert refused.value.code == "erasure_refused"
    after = snapshot(ledger)
    assert {k: v for k, v in after.items() if k != "writer_keys"} == {
        k: v for k, v in before.items() if k != "writer_keys"
    }


def test_an_objection_case_holds_the_record_only_while_open(
    ledger: LedgerContext, service: LedgerService, platform: RecordFactory, clock: Clock
) -> None:
    clock.now = on(date(2026, 2, 1))
    service.append(
        [
            platform.data_update("tax5"),
            platform.objection("case5", disputes="tax5"),
        ]
    )
    clock.now = on(date(2026, 2, 5))
    with pytest.raises(ErasureRefused) as refused:
        ledger.erasures.erase_on_request("tax5", "the subject asked (ticket 8)")
    assert [h.duty.name for h in refused.value.held] == [DutyName.OPEN_OBJECTION]
    assert "'case5'" in str(refused.value)
    service.append([platform.objection("answer5", step="upheld", case="case5")])
    clock.now = on(date(2026, 2, 6))
    ledger.erasures.erase_on_request("tax5", "the subject asked (ticket 8)")
    with ledger.session_factory() as session:
        row = session.get(m.Record, "tax5")
        assert row is not None
        assert row.content is None
        assert row.erased_by is not None


@pytest.mark.usefixtures("decision")
def test_settled_loans_keep_their_records_five_years(
    ledger: LedgerContext, service: LedgerService, platform: RecordFactory, clock: Clock
) -> None:
    clock.now = on(date(2026, 2, 2))
    service.append(
        [
            platform.financing_event(
                "st9", event="settlement", loan_id="L9", occurred_at=on(date(2026, 2, 2))
            )
        ]
    )
    clock.now = on(date(2031, 2, 2))
    with pytest.raises(ErasureRefused, match="kept until 2031-02-03"):
        ledger.erasures.erase_on_request("tax2", "asked")
    clock.now = on(date(2031, 2, 3))
    done = ledger.erasures.erase_on_request("tax2", "asked")
    assert done.erasure_record_id == erasure_record_id("tax2")


@pytest.mark.usefixtures("decision")
def test_erasure_on_request_writes_the_record_and_shreds(
    ledger: LedgerContext, clock: Clock
) -> None:
    clock.now = on(date(2026, 3, 1))
    before = snapshot(ledger)
    done = ledger.erasures.erase_on_request("tax3", "the enterprise asked (ticket 7)")
    assert (done.basis.value, done.rule) == ("request", "pipl_art47")
    with ledger.session_factory() as session:
        tax3 = row_of(session, "tax3")
        assert tax3.content is None
        assert tax3.erased_by == done.erasure_record_id
        (line,) = [e for e in erasures(session) if e.record_id == "tax3"]
    assert (line.basis, line.reason) == ("request", "the enterprise asked (ticket 7)")
    after = snapshot(ledger)
    changed = {
        (table, key)
        for table, rows in before.items()
        for key, values in rows.items()
        if after[table].get(key) != values
    }
    assert changed == {("records", ("tax3",))}
    with pytest.raises(RecordErased):
        ledger.erasures.erase_on_request("tax3", "again")
    with pytest.raises(UnknownRecord):
        ledger.erasures.erase_on_request("nope", "asked")


@pytest.mark.usefixtures("decision")
def test_a_request_needs_a_reason(ledger: LedgerContext, clock: Clock) -> None:
    clock.now = on(date(2026, 3, 1))
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as bad:
        ledger.erasures.erase_on_request("tax3", "")
    assert bad.value.field == "reason"
    after = snapshot(ledger)
    assert after["records"] == before["records"]


def test_an_erasure_record_cannot_be_erased(ledger: LedgerContext, clock: Clock) -> None:
    run(ledger, clock, date(2024, 9, 16))
    clock.now = on(date(2026, 3, 1))
    with pytest.raises(ValidationError, match="never erased itself"):
        ledger.erasures.erase_on_request(erasure_record_id("od1"), "asked")


def test_nobody_else_can_append_an_erasure_record(
    ledger: LedgerContext, service: LedgerService, platform: RecordFactory, clock: Clock
) -> None:
    from credit_ledger_verify.records import ErasureRecord

    forged = platform.sign(
        ErasureRecord.model_validate(
            {
                "record_id": "forged",
                "subject": row_subject(ledger, "od2"),
                "occurred_at": on(date(2026, 1, 1)),
                "source": "x",
                "actor": platform.actor,
                "payload": {
                    "erased_record": "od2",
                    "basis": "request",
                    "rule": "pipl_art47",
                    "reason": "forged",
                },
            }
        )
    )
    with pytest.raises(ValidationError, match="only by the service"):
        service.append([forged])
    # and through the erasure path, a platform's key is a writer key but not the subject's
    # record: the target is still shredded only with a valid signature
    assert row_is_intact(ledger, "od2")


def row_subject(ledger: LedgerContext, record_id: str) -> str:
    with ledger.session_factory() as session:
        return row_of(session, record_id).subject


def row_is_intact(ledger: LedgerContext, record_id: str) -> bool:
    with ledger.session_factory() as session:
        return row_of(session, record_id).content is not None


def test_the_service_key_is_made_once_and_private(ledger: LedgerContext) -> None:
    state = ledger.config.state_dir
    first = load_or_create_service_key(state)
    path = service_key_path(state)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert bytes(load_or_create_service_key(state)) == bytes(first)
    os.chmod(path, 0o644)
    with pytest.raises(ServiceKeyError, match="must be 0600"):
        load_or_create_service_key(state)
    os.chmod(path, 0o600)
    path.write_text("not base64!\n")
    with pytest.raises(ServiceKeyError, match="malformed") as bad:
        load_or_create_service_key(state)
    assert "not base64" not in str(bad.value)
