"""Objection cases with a clock the test moves, on SQLite and PostgreSQL: the 20-day answer
period (answered on day 19 vs overdue on day 21), and corrected / upheld / rejected with the
disputed flag in every read path (lineage JSON, listing, diff, record status) until the
resolution is recorded and gone after it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from ledger_service.queries.lineage import (
    AsOf,
    ChangeKind,
    LineageGraph,
    flagged,
    graph_to_json,
    lineage_since,
    upstream,
)
from ledger_service.queries.lineage.cases import record_dispute
from ledger_service.queries.objections import (
    UnknownObjectionCase,
    case_impact,
    case_steps,
    find_case,
    list_cases,
    objection_report,
)
from tests.db.factories import SUBJECT, RecordFactory
from tests.db.fixtures import IndexDatabase
from tests.unit.queries.lineage.conftest import T0, Clock

T = TypeVar("T")


def read(ledger: LedgerContext, query: Callable[[Session], T]) -> T:
    """Each read in a fresh session (a snapshot of the index as it is now)."""
    with ledger.session_factory() as session:
        return query(session)


def day(clock: Clock, n: int) -> datetime:
    """Move the clock to day ``n`` after T0 (T0 is 2025-06-01 17:00 in China)."""
    clock.now = T0 + timedelta(days=n)
    return clock.now


@pytest.fixture
def base(service: LedgerService, platform: RecordFactory, clock: Clock) -> None:
    """tax, si -> score1 -> loan L1 approved on day 0, before any objection."""
    day(clock, 0)
    service.append([platform.data_update("tax"), platform.data_update("si")])
    service.append([platform.score_change("score1", parents=["tax", "si"])])
    fe = platform.financing_event
    service.append([fe("approve1", parents=["score1"], event="approval", loan_id="L1")])


def test_answered_on_day_19_in_time_and_open_on_day_21_overdue(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    clock: Clock,
    base: None,
) -> None:
    opened = day(clock, 0) + timedelta(minutes=5)
    clock.now = opened
    service.append([platform.objection("o-si", disputes="si")])
    service.append([platform.objection("o-tax", disputes="tax")])
    case = read(ledger, lambda s: find_case(s, "o-si", as_of=opened))
    assert case.deadline == date(2025, 6, 21)  # recorded 2025-06-01 (China); 20 days
    assert case.status == "open"

    answered = day(clock, 19)
    service.append([platform.objection("o-si-up", step="upheld", case="o-si", reason="checked")])
    on_19 = read(ledger, lambda s: {c.case: c for c in list_cases(s, as_of=answered)})
    assert on_19["o-si"].status == "resolved"
    assert on_19["o-si"].answered_in_time is True
    assert on_19["o-tax"].status == "open"

    # the deadline day itself (day 20) is still in time; day 21 is past it
    on_20 = day(clock, 20)
    assert read(ledger, lambda s: list_cases(s, as_of=on_20, status="overdue")) == []
    on_21 = day(clock, 21)
    overdue = read(ledger, lambda s: list_cases(s, as_of=on_21, status="overdue"))
    assert [c.case for c in overdue] == ["o-tax"]
    assert overdue[0].overdue
    assert [c.case for c in read(ledger, lambda s: list_cases(s, as_of=on_21, status="open"))] == [
        "o-tax"
    ]
    # as of day 19 the same case was not overdue: the answer depends on T, not on today
    assert read(ledger, lambda s: list_cases(s, as_of=answered, status="overdue")) == []

    service.append(
        [platform.objection("o-tax-rej", step="rejected", case="o-tax", reason="figures match")]
    )
    late = read(ledger, lambda s: find_case(s, "o-tax", as_of=on_21))
    assert late.answered_in_time is False
    report = read(ledger, lambda s: objection_report(s, as_of=on_21))
    assert report.counts == {
        "opened": 2,
        "open": 0,
        "overdue": 0,
        "resolved": 2,
        "corrected": 0,
        "upheld": 1,
        "rejected": 1,
        "answered_in_time": 1,
        "answered_late": 1,
    }
    # each line lists its records; the reasons come from the signed content
    lines = {case.case: steps for case, steps in report.lines}
    assert [(s.role, s.record_id) for s in lines["o-tax"]] == [
        ("disputed", "tax"),
        ("opened", "o-tax"),
        ("rejected", "o-tax-rej"),
    ]
    assert lines["o-tax"][2].reason == "figures match"
    # a case that was not opened by T is unknown as of T
    with pytest.raises(UnknownObjectionCase, match="o-tax"):
        read(ledger, lambda s: find_case(s, "o-tax", as_of=T0 - timedelta(days=1)))


@pytest.mark.parametrize("step", ["corrected", "upheld", "rejected"])
def test_disputed_in_every_read_until_the_resolution(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    clock: Clock,
    base: None,
    step: str,
) -> None:
    before = day(clock, 1)
    opened = day(clock, 2)
    service.append([platform.objection("o1", disputes="si")])
    if step == "corrected":
        day(clock, 5)
        service.append([platform.data_update("si2", supersedes="si")])
    during = day(clock, 6)
    resolved = day(clock, 7)
    correction = "si2" if step == "corrected" else None
    service.append(
        [platform.objection("r1", step=step, case="o1", correction=correction, reason="done")]
    )
    after = day(clock, 8)

    def node(at: datetime | None) -> dict[str, object]:
        graph = read(ledger, lambda s: upstream(s, ["score1"], as_of=at))
        nodes: list[dict[str, object]] = graph_to_json(graph)["nodes"]
        (si,) = [n for n in nodes if n["record_id"] == "si"]
        return si

    def listed(at: datetime | None) -> list[str]:
        return [n.record_id for n in read(ledger, lambda s: flagged(s, "disputed", as_of=at))]

    def status(at: datetime | None) -> bool:
        return read(ledger, lambda s: record_dispute(s, "si", at))[0]

    # before the objection: nothing
    assert node(before)["disputed"] is False
    assert node(before)["objection"] is None
    assert listed(before) == []
    assert status(before) is False
    # while the case is open: every read says disputed, and the node says which case
    assert node(during)["disputed"] is True
    assert node(during)["objection"] == {
        "case": "o1",
        "status": "open",
        "opened_at": opened.isoformat(),
        "deadline": "2025-06-23",
        "resolution": None,
        "resolved_at": None,
    }
    assert listed(during) == ["si"]
    assert status(during) is True
    # after the resolution (and now): not disputed, annotated with the outcome
    for at in (after, None):
        assert node(at)["disputed"] is False
        mark = node(at)["objection"]
        assert isinstance(mark, dict)
        assert (mark["status"], mark["resolution"]) == (step, "r1")
        assert mark["resolved_at"] == resolved.isoformat()
        assert listed(at) == []
        assert status(at) is False

    # the diff: disputed since before the objection is gone again (no change) ...
    def walk(session: Session) -> Callable[[AsOf], LineageGraph]:
        return lambda at: upstream(session, ["score1"], as_of=at if at != "decision" else None)

    since_before = read(ledger, lambda s: lineage_since(s, before, walk(s)))
    assert ChangeKind.DISPUTED not in {c.kind for c in since_before.changes}
    # ... and since a time the case was open, the resolution is a dated change
    since_during = read(ledger, lambda s: lineage_since(s, during, walk(s)))
    resolved_changes = [c for c in since_during.changes if c.kind is ChangeKind.DISPUTE_RESOLVED]
    assert [(c.record_id, c.by, c.at) for c in resolved_changes] == [("si", "r1", resolved)]

    # the case file: every step, in order
    case = read(ledger, lambda s: find_case(s, "o1", as_of=after))
    roles = [(x.role, x.record_id) for x in read(ledger, lambda s: case_steps(s, case))]
    expected = [("disputed", "si"), ("opened", "o1")]
    if step == "corrected":
        expected.append(("correction", "si2"))
    assert roles == [*expected, (step, "r1")]


def test_a_new_case_after_a_resolution_disputes_again(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    clock: Clock,
    base: None,
) -> None:
    day(clock, 1)
    service.append([platform.objection("o1", disputes="si")])
    service.append([platform.objection("r1", step="rejected", case="o1")])
    between = day(clock, 2)
    day(clock, 3)
    service.append([platform.objection("o2", disputes="si")])
    assert read(ledger, lambda s: record_dispute(s, "si", between))[0] is False
    disputed, mark = read(ledger, lambda s: record_dispute(s, "si"))
    assert disputed is True
    assert mark is not None
    assert (mark.case, mark.status) == ("o2", "open")


def test_old_style_objection_still_flags_for_good(
    ledger: LedgerContext, service: LedgerService, platform: RecordFactory, base: None
) -> None:
    service.append([platform.data_update("objection", disputes="si")])
    disputed, mark = read(ledger, lambda s: record_dispute(s, "si"))
    assert disputed is True
    assert mark is None  # no case: nothing can resolve it


def test_impact_says_whether_each_loan_was_decided_before_the_objection(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    clock: Clock,
    base: None,
) -> None:
    opened = day(clock, 3)
    service.append([platform.objection("o1", disputes="si")])
    day(clock, 4)
    fe = platform.financing_event
    service.append([fe("approve2", parents=["score1"], event="approval", loan_id="L2")])
    service.append([fe("apply3", parents=["score1"], event="application", loan_id="L3")])
    hit = read(ledger, lambda s: case_impact(s, "o1", as_of=day(clock, 5)))
    assert hit.scores == ["score1"]
    assert {(x.loan_id, x.decided_before_objection) for x in hit.loans} == {
        ("L1", True),
        ("L2", False),
        ("L3", None),
    }
    assert hit.case.opened_at == opened
    # as of a time before L2 was decided it is not in the answer
    early = read(ledger, lambda s: case_impact(s, "o1", as_of=opened))
    assert [x.loan_id for x in early.loans] == ["L1"]


# --- ledgerctl objections ---------------------------------------------------------------


def test_ledgerctl_objections_list_show_report_and_the_access_log(
    ledger: LedgerContext,
    index_db: IndexDatabase,
    tmp_path: Path,
    service: LedgerService,
    platform: RecordFactory,
    clock: Clock,
    base: None,
) -> None:
    clock.now = day(clock, 0) + timedelta(minutes=1)  # after L1's approval
    service.append([platform.objection("o-si", disputes="si")])
    service.append([platform.objection("o-tax", disputes="tax")])
    day(clock, 19)
    service.append([platform.objection("r-si", step="upheld", case="o-si", reason="checked")])
    on_21 = day(clock, 21).isoformat()
    purpose = "Art. 25 supervision 2025-06"

    def run(*args: str) -> Result:
        base_args = ["--state-dir", str(tmp_path), "--db", index_db.url]
        who = ["--accessor", "regulator:wu", "--purpose", purpose]
        return CliRunner().invoke(app, ["objections", *args, *base_args, *who])

    listed = run("list", "--status", "overdue", "--as-of", on_21, "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [c["case"] for c in json.loads(listed.stdout)["cases"]] == ["o-tax"]

    shown = run("show", "o-si", "--as-of", on_21, "--format", "json")
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.stdout)
    assert answer["case"]["status"] == "resolved"
    assert answer["case"]["answered_in_time"] is True
    assert [s["role"] for s in answer["steps"]] == ["disputed", "opened", "upheld"]
    assert [(x["loan_id"], x["decided_before_objection"]) for x in answer["loans"]] == [
        ("L1", True)
    ]

    report = run("report", "--as-of", on_21)
    assert report.exit_code == 0, report.output
    assert "overdue 1" in report.stdout
    assert "upheld" in report.stdout

    unknown = run("show", "nope", "--as-of", on_21)
    assert unknown.exit_code == 2
    assert "no objection case 'nope'" in unknown.output
    bad = run("list", "--status", "late")
    assert bad.exit_code == 2
    assert "--status must be one of" in bad.output

    queries = {(e.query, e.subject, e.purpose) for e in ledger.access_log.entries()}
    assert ("objections", SUBJECT, purpose) in queries
    assert ("objection", SUBJECT, purpose) in queries
    assert ("objection_report", SUBJECT, purpose) in queries
