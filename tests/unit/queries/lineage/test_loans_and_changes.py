"""Loans (events, decision time, lineage as of the decision), the diff between T and now,
downstream impact and the flagged-record listings, on hand-built stories with known answers,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.index.models import Batch, Record
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.queries.lineage import (
    DECISION,
    Change,
    ChangeKind,
    LineageQueryError,
    changes_between,
    find_loan,
    flagged,
    impact,
    lineage_since,
    loan_lineage,
    resolve,
    upstream,
)
from tests.db.factories import RecordFactory
from tests.unit.queries.lineage.conftest import Clock
from tests.unit.queries.test_records import anchor


def test_intake_fills_the_loan_columns_of_financing_events_only(
    session: Session, loans: dict[str, datetime]
) -> None:
    approve = session.get(Record, "approve1")
    assert approve is not None
    assert (approve.loan_id, approve.loan_event) == ("L1", "approval")
    score = session.get(Record, "score1")
    assert score is not None
    assert (score.loan_id, score.loan_event) == (None, None)


def test_a_loan_is_its_events_and_its_latest_decision(
    session: Session, loans: dict[str, datetime]
) -> None:
    loan = find_loan(session, "L1")
    assert loan.events == ("apply1", "approve1", "disburse1")
    assert (loan.decision, loan.decided_at) == ("approve1", loans["decision"])
    assert find_loan(session, "L2").decision == "reject2"
    undecided = find_loan(session, "L3")
    assert (undecided.decision, undecided.decided_at) == (None, None)
    # before the approval was recorded, the loan was an application only
    early = find_loan(session, "L1", as_of=loans["decision"] - timedelta(microseconds=1))
    assert (early.events, early.decision) == (("apply1",), None)


def test_find_loan_refuses_unknown_loans_and_times_before_the_loan(
    session: Session, loans: dict[str, datetime]
) -> None:
    with pytest.raises(LineageQueryError, match="no financing event of loan 'L9'"):
        find_loan(session, "L9")
    with pytest.raises(LineageQueryError, match="no financing event of loan 'L2' by"):
        find_loan(session, "L2", as_of=loans["decision"])


def test_loan_lineage_as_of_decision_is_what_the_bank_relied_on(
    session: Session, loans: dict[str, datetime]
) -> None:
    then = loan_lineage(session, "L1", as_of=DECISION)
    assert then.as_of == loans["decision"]
    assert then.loan is not None
    assert then.loan.decision == "approve1"
    assert set(then.nodes) == {"apply1", "approve1", "score1", "tax", "si"}
    assert then.nodes["tax"].superseded_by is None
    assert not then.nodes["si"].disputed
    now = loan_lineage(session, "L1")
    assert set(now.nodes) == {"apply1", "approve1", "disburse1", "score1", "tax", "si"}
    assert now.nodes["tax"].superseded_by == "tax2"
    assert now.nodes["si"].disputed
    assert now.roots == ("apply1", "approve1", "disburse1")


def test_decision_time_of_an_undecided_loan_is_an_error_naming_it(
    session: Session, loans: dict[str, datetime]
) -> None:
    with pytest.raises(LineageQueryError, match="loan 'L3' has no approval or rejection"):
        loan_lineage(session, "L3", as_of=DECISION)


def test_resolve_tells_records_from_loans(
    service: LedgerService, platform: RecordFactory, session: Session, loans: dict[str, datetime]
) -> None:
    service.append([platform.data_update("L3")])  # a record id equal to a loan id
    assert resolve(session, "score1") == ("record", "score1")
    assert resolve(session, "L1") == ("loan", "L1")
    assert resolve(session, "loan:L2") == ("loan", "L2")
    assert resolve(session, "record:score1") == ("record", "score1")
    with pytest.raises(LineageQueryError, match="write record:L3 or loan:L3"):
        resolve(session, "L3")
    with pytest.raises(LineageQueryError, match="neither a record id nor a loan id"):
        resolve(session, "nothing")


def test_diff_since_the_decision_dates_every_change(
    ledger: LedgerContext, session: Session, loans: dict[str, datetime]
) -> None:
    anchor(ledger.session_factory, "b-late", ["tax"])
    committed = loans["rejected"]
    with write_session(ledger.session_factory) as s:
        s.execute(update(Batch).where(Batch.batch_id == "b-late").values(committed_at=committed))
    diff = lineage_since(
        session, loans["decision"], lambda when: loan_lineage(session, "L1", as_of=when)
    )
    assert set(diff.changes) == {
        Change("disburse1", ChangeKind.ADDED, at=loans["disbursed"]),
        Change("tax", ChangeKind.SUPERSEDED, by="tax2", at=loans["changed"]),
        Change("si", ChangeKind.DISPUTED, by="objection", at=loans["changed"]),
        Change("tax", ChangeKind.ANCHORED, at=committed),
    }
    # nothing changed between the decision and itself
    same = loan_lineage(session, "L1", as_of=loans["decision"])
    assert changes_between(same, same) == []


def test_diff_shows_an_erasure(
    service: LedgerService, session: Session, loans: dict[str, datetime], clock: Clock
) -> None:
    erased_at = clock.at(7)
    service.erase_record_content("si")
    then = upstream(session, ["score1"], as_of=loans["decision"])
    diff = lineage_since(
        session, loans["decision"], lambda when: upstream(session, ["score1"], as_of=when)
    )
    assert Change("si", ChangeKind.ERASED, at=erased_at) in diff.changes
    assert not then.nodes["si"].erased


def test_impact_of_disputed_data_names_the_loans_decided_before_and_after(
    session: Session, loans: dict[str, datetime]
) -> None:
    hit = impact(session, "si")
    assert set(hit.scores) == {"score1", "score2"}
    assert [c.kind for c in hit.changes] == [ChangeKind.DISPUTED]
    by_loan = {loan.loan_id: loan for loan in hit.loans}
    assert set(by_loan) == {"L1", "L2", "L3"}
    assert by_loan["L1"].decided_before_change is True  # relied on si before the objection
    assert by_loan["L2"].decided_before_change is False  # decided knowing of the objection
    assert by_loan["L3"].decided_before_change is None  # not decided
    assert set(by_loan["L1"].events) == {"apply1", "approve1", "disburse1"}


def test_impact_as_of_the_decision_knows_no_change_and_no_later_loan(
    session: Session, loans: dict[str, datetime]
) -> None:
    hit = impact(session, "si", as_of=loans["decision"])
    assert hit.changes == []
    assert [loan.loan_id for loan in hit.loans] == ["L1"]
    assert hit.loans[0].decided_before_change is None
    assert set(hit.loans[0].events) == {"apply1", "approve1"}


def test_impact_depth_bounds_the_walk(session: Session, loans: dict[str, datetime]) -> None:
    assert {loan.loan_id for loan in impact(session, "tax", depth=2).loans} == {"L1"}
    assert impact(session, "tax", depth=1).loans == []


def test_flagged_lists_disputed_and_superseded_as_of_a_time(
    session: Session, loans: dict[str, datetime]
) -> None:
    assert [n.record_id for n in flagged(session, "disputed")] == ["si"]
    assert [n.record_id for n in flagged(session, "superseded")] == ["tax"]
    assert flagged(session, "superseded")[0].superseded_by == "tax2"
    assert flagged(session, "disputed", as_of=loans["decision"]) == []
    assert flagged(session, "disputed", subject="91110000MA0000999X") == []
    with pytest.raises(LineageQueryError, match="'disputed' or 'superseded'"):
        flagged(session, "erased")  # type: ignore[arg-type]
