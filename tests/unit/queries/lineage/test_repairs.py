"""Credit-repair cases: intake refusals, the case queries as of a time, and who sees a
repaired negative record (banks: nobody; auditors: with its repair) in every read path —
through the real intake on SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from credit_ledger_verify.records import Record
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.errors import DanglingParent, UnknownRecord, ValidationError
from ledger_service.index.models import AccessLogEntry
from ledger_service.intake import LedgerService
from ledger_service.intake.repairs import RepairCaseError
from ledger_service.queries.lineage import (
    downstream,
    flagged,
    graph_to_json,
    timeline,
    upstream,
)
from ledger_service.queries.repairs import (
    UnknownRepairCase,
    case_to_json,
    repair_case,
    repair_cases,
    repair_marks,
    repair_report,
)
from ledger_service.queries.visibility import Audience, RepairView
from tests.db.factories import RecordFactory, table_counts, uscc
from tests.db.fixtures import IndexDatabase
from tests.unit.queries.lineage.conftest import Clock

BANK = RepairView(Audience.BANK)
FULL = RepairView(Audience.FULL)


@pytest.fixture
def cases(service: LedgerService, platform: RecordFactory, clock: Clock) -> dict[str, datetime]:
    """Hour 1: a court record (negative: judicial), tax data, an overdue loan event (negative),
    score1 on court + tax, an objection to the court record. Hour 2: repair case "cr" on the
    court record submitted, case "cr2" on the overdue submitted. Hour 3: cr verified, cr2
    rejected. Hour 4: score2 re-scores on the verified repair. Hour 5: cr approved naming
    score2."""
    times = {"data": clock.at(1)}
    service.append(
        [
            platform.data_update("court", dataset="judicial"),
            platform.data_update("tax"),
            platform.financing_event("overdue", event="overdue", loan_id="loan-9"),
            platform.score_change("score1", parents=["court", "tax"]),
            platform.data_update("objection", disputes="court"),
        ]
    )
    times["submitted"] = clock.at(2)
    service.append(
        [
            platform.credit_repair("cr", parents=["court"], action="fulfilled_judgment"),
            platform.credit_repair("cr2", parents=["overdue"], action="credit_commitment"),
        ]
    )
    times["verified"] = clock.at(3)
    service.append(
        [
            platform.credit_repair(
                "cr-v", status="verified", supersedes="cr", action="fulfilled_judgment"
            ),
            platform.credit_repair(
                "cr2-x", status="rejected", supersedes="cr2", action="credit_commitment"
            ),
        ]
    )
    times["rescored"] = clock.at(4)
    service.append([platform.score_change("score2", parents=["cr-v", "tax"], score_after="745")])
    times["approved"] = clock.at(5)
    service.append(
        [
            platform.credit_repair(
                "cr-a",
                status="approved",
                supersedes="cr-v",
                action="fulfilled_judgment",
                affected=[],
                resulting_score_change="score2",
            )
        ]
    )
    return times


# --------------------------------------------------------------------------- queries


def test_cases_by_outcome_as_of_a_time(session: Session, cases: dict[str, datetime]) -> None:
    assert [c.case_id for c in repair_cases(session, status="approved")] == ["cr"]
    assert [c.case_id for c in repair_cases(session, status="rejected")] == ["cr2"]
    assert [c.case_id for c in repair_cases(session, status="verified")] == []
    before = cases["rescored"]
    assert [c.case_id for c in repair_cases(session, status="verified", as_of=before)] == ["cr"]
    assert repair_cases(session, status="approved", as_of=before) == []
    assert repair_cases(session, as_of=cases["data"]) == []
    report = repair_report(session, as_of=cases["verified"])
    assert report.counts == {"submitted": 0, "verified": 1, "approved": 0, "rejected": 1}
    with pytest.raises(ValidationError, match="must be one of"):
        repair_cases(session, status="done")


def test_one_case_with_its_steps_and_score_change(
    session: Session, cases: dict[str, datetime]
) -> None:
    case = repair_case(session, "cr")
    assert [(s.record_id, s.status) for s in case.steps] == [
        ("cr", "submitted"),
        ("cr-v", "verified"),
        ("cr-a", "approved"),
    ]
    assert case.affected == ("court",)
    assert case.score_change == "score2"
    assert case.approved_at == cases["approved"]
    assert case.action == "fulfilled_judgment"
    data = case_to_json(case)
    assert data["status"] == "approved"
    assert data["anchored"] is False  # no worker ran: nothing is in a block yet
    then = repair_case(session, "cr", as_of=cases["verified"])
    assert then.status == "verified"
    assert then.score_change is None
    assert then.approved_at is None
    with pytest.raises(UnknownRepairCase):
        repair_case(session, "cr", as_of=cases["data"])
    with pytest.raises(UnknownRepairCase):
        repair_case(session, "court")


def test_is_record_repaired_as_of(session: Session, cases: dict[str, datetime]) -> None:
    marks = repair_marks(session, ["court", "overdue", "tax"])
    assert set(marks) == {"court", "overdue"}
    assert (marks["court"].status, marks["court"].score_change) == ("approved", "score2")
    assert marks["overdue"].status == "rejected"
    assert marks["overdue"].approved_at is None
    assert repair_marks(session, ["court"], cases["rescored"])["court"].status == "verified"
    assert BANK.hidden(session, ["court", "overdue", "tax"]) == {"court"}
    assert BANK.hidden(session, ["court"], cases["rescored"]) == set()
    assert FULL.hidden(session, ["court"]) == set()


# --------------------------------------------------------------------------- who sees what


def test_bank_lineage_omits_the_repaired_record_and_its_edges(
    session: Session, cases: dict[str, datetime]
) -> None:
    graph = upstream(session, ["score1"])
    assert "court" in graph.nodes
    bank = BANK.graph(session, graph)
    assert "court" not in bank.nodes
    assert set(bank.nodes) == {"score1", "tax"}
    assert all("court" not in (e.source, e.target) for e in bank.edges)
    assert "court" not in str(graph_to_json(bank))
    # before the approval the bank still saw it
    then = BANK.graph(session, upstream(session, ["score1"], as_of=cases["rescored"]))
    assert "court" in then.nodes
    # a lineage that starts at the repaired record is not there for the bank
    with pytest.raises(UnknownRecord):
        BANK.graph(session, downstream(session, ["court"]))


def test_auditor_sees_the_repaired_record_with_its_repair(
    session: Session, cases: dict[str, datetime]
) -> None:
    audited = FULL.graph(session, upstream(session, ["score1"]))
    court = graph_to_json(audited)["nodes"]
    repair = next(n for n in court if n["record_id"] == "court")["repair"]
    assert repair == {
        "case": "cr",
        "status": "approved",
        "approved_at": cases["approved"].isoformat(),
        "score_change": "score2",
    }
    assert next(n for n in court if n["record_id"] == "tax")["repair"] is None
    assert len(audited.edges) == len(upstream(session, ["score1"]).edges)


def test_bank_timeline_and_listings_omit_it(session: Session, cases: dict[str, datetime]) -> None:
    subject = uscc(1)
    assert "court" in {n.record_id for n in timeline(session, subject)}
    shown = {n.record_id for n in BANK.nodes(session, timeline(session, subject), None)}
    assert "court" not in shown
    assert {"tax", "overdue", "score1"} <= shown
    disputed = flagged(session, "disputed")
    assert [n.record_id for n in disputed] == ["court"]
    assert BANK.nodes(session, disputed, None) == []
    assert [n.repair is not None for n in FULL.nodes(session, disputed, None)] == [True]


def test_rejected_repair_hides_nothing(session: Session, cases: dict[str, datetime]) -> None:
    graph = BANK.graph(session, timeline_graph := upstream(session, ["overdue"]))
    assert set(graph.nodes) == set(timeline_graph.nodes) == {"overdue"}
    BANK.require_visible(session, ["overdue", "tax"])
    with pytest.raises(UnknownRecord, match="court"):
        BANK.require_visible(session, ["tax", "court"])


# --------------------------------------------------------------------------- intake


def _refused(
    service: LedgerService,
    session_factory: sessionmaker[Session],
    records: list[Record],
    error: type[Exception],
    field: str,
    match: str,
) -> None:
    before = table_counts(session_factory)
    with pytest.raises(error, match=match) as caught:
        service.append(records)
    assert table_counts(session_factory) == before, "a refused request writes nothing"
    assert isinstance(caught.value, ValidationError)
    assert caught.value.field == field


def test_intake_refuses_what_does_not_fit_a_case(
    service: LedgerService,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
    cases: dict[str, datetime],
) -> None:
    f = platform
    # a submission on a record no retention rule makes negative (tax data), naming the rules
    _refused(
        service,
        session_factory,
        [f.credit_repair("bad-1", parents=["tax"])],
        RepairCaseError,
        "payload.affected_records[0]",
        "not negative information under any retention rule "
        r"\(loan_overdue, loan_default, judicial_record\)",
    )
    # ... with nothing affected
    _refused(
        service,
        session_factory,
        [f.credit_repair("bad-2", affected=[])],
        RepairCaseError,
        "payload.affected_records",
        "must name the negative records",
    )
    # ... on another enterprise's negative record
    service.append([f.data_update("court-b", dataset="judicial", subject=uscc(2))])
    _refused(
        service,
        session_factory,
        [f.credit_repair("bad-3", affected=["court-b"])],
        RepairCaseError,
        "payload.affected_records[0]",
        "not the repair's subject",
    )
    _refused(
        service,
        session_factory,
        [f.credit_repair("bad-4", affected=["ghost"])],
        DanglingParent,
        "payload.affected_records[0]",
        "unknown record",
    )
    # a bad transition: submitted straight to approved
    service.append([f.data_update("court-2", dataset="judicial")])
    service.append([f.credit_repair("c3", parents=["court-2"], action="fulfilled_judgment")])
    _refused(
        service,
        session_factory,
        [f.credit_repair("c3-a", status="approved", supersedes="c3", action="fulfilled_judgment")],
        ValidationError,
        "payload.status",
        "submitted repair can only become rejected or verified",
    )
    # a step that changes the action, or the affected records
    _refused(
        service,
        session_factory,
        [f.credit_repair("c3-v", status="verified", supersedes="c3", action="training")],
        RepairCaseError,
        "payload.action",
        "cannot change it to training",
    )
    _refused(
        service,
        session_factory,
        [
            f.credit_repair(
                "c3-v",
                status="verified",
                supersedes="c3",
                affected=["overdue"],
                action="fulfilled_judgment",
            )
        ],
        RepairCaseError,
        "payload.affected_records",
        "must be empty or the submission's",
    )
    # a second successor of one step
    _refused(
        service,
        session_factory,
        [f.credit_repair("cr-v2", status="verified", supersedes="cr", action="fulfilled_judgment")],
        ValidationError,
        "supersedes",
        "already superseded",
    )
    # an approval naming a score change that did not use the case, or that is no score change
    service.append(
        [f.credit_repair("c3-v", status="verified", supersedes="c3", action="fulfilled_judgment")]
    )
    for named, match in (
        ("score1", "does not list a step of this repair case"),
        ("tax", "must be a score_change"),
        ("ghost", "unknown record"),
    ):
        _refused(
            service,
            session_factory,
            [
                f.credit_repair(
                    "c3-a",
                    status="approved",
                    supersedes="c3-v",
                    affected=[],
                    action="fulfilled_judgment",
                    resulting_score_change=named,
                )
            ],
            RepairCaseError if named != "ghost" else DanglingParent,
            "payload.resulting_score_change",
            match,
        )
    # and the same approval with a score change that used the case is accepted
    service.append(
        [
            f.score_change("score3", parents=["c3-v"]),
            f.credit_repair(
                "c3-a",
                status="approved",
                supersedes="c3-v",
                affected=[],
                action="fulfilled_judgment",
                resulting_score_change="score3",
            ),
        ]
    )


def test_a_whole_case_in_one_request(
    service: LedgerService, platform: RecordFactory, session: Session
) -> None:
    f = platform
    service.append(
        [
            f.financing_event("default", event="default", loan_id="loan-3"),
            f.credit_repair("d", parents=["default"], action="credit_commitment"),
            f.credit_repair("d-v", status="verified", supersedes="d", action="credit_commitment"),
            f.score_change("s", parents=["d-v"]),
            f.credit_repair(
                "d-a",
                status="approved",
                supersedes="d-v",
                action="credit_commitment",
                affected=["default"],
                resulting_score_change="s",
            ),
        ]
    )
    case = repair_case(session, "d")
    assert (case.status, case.affected, case.score_change) == ("approved", ("default",), "s")
    assert BANK.hidden(session, ["default"]) == {"default"}


# --------------------------------------------------------------------------- CLI


def _ledgerctl(index_db: IndexDatabase, tmp_path: Path, *args: str) -> Result:
    base = ["--state-dir", str(tmp_path), "--db", index_db.url, "--accessor", "regulator:wu"]
    return CliRunner().invoke(app, [*args, *base, "--purpose", "repair audit ref 9"])


def test_cli_list_show_and_report(
    index_db: IndexDatabase, tmp_path: Path, session: Session, cases: dict[str, datetime]
) -> None:
    listed = _ledgerctl(
        index_db, tmp_path, "repairs", "list", "--status", "approved", "--format", "json"
    )
    assert listed.exit_code == 0, listed.output
    assert [c["case"] for c in json.loads(listed.output)] == ["cr"]
    then = _ledgerctl(
        index_db,
        tmp_path,
        "repairs",
        "list",
        "--as-of",
        cases["rescored"].isoformat(),
        "--format",
        "json",
    )
    assert {c["case"]: c["status"] for c in json.loads(then.output)} == {
        "cr": "verified",
        "cr2": "rejected",
    }
    shown = _ledgerctl(index_db, tmp_path, "repairs", "show", "cr")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["score_change"] == "score2"
    table = _ledgerctl(index_db, tmp_path, "repairs", "report")
    assert table.exit_code == 0, table.output
    assert "approved cr-a @ pending" in table.output
    assert "submitted: 0, verified: 0, approved: 1, rejected: 1" in table.output
    report = _ledgerctl(index_db, tmp_path, "repairs", "report", "--format", "json")
    assert json.loads(report.output)["counts"]["approved"] == 1
    missing = _ledgerctl(index_db, tmp_path, "repairs", "show", "court")
    assert missing.exit_code == 2
    assert "repair case" in missing.output
    bad = _ledgerctl(index_db, tmp_path, "repairs", "list", "--status", "done")
    assert bad.exit_code == 2
    logged = session.execute(
        select(AccessLogEntry.query, AccessLogEntry.record_id, AccessLogEntry.purpose)
    ).all()
    assert ("repair", "cr", "repair audit ref 9") in logged
    assert {q for q, _, _ in logged} == {"repairs", "repair", "repairs_report"}


def test_cli_lineage_and_timeline_show_the_repair(
    index_db: IndexDatabase, tmp_path: Path, cases: dict[str, datetime]
) -> None:
    graph = _ledgerctl(index_db, tmp_path, "lineage", "score1", "--format", "json")
    assert graph.exit_code == 0, graph.output
    nodes = {n["record_id"]: n["repair"] for n in json.loads(graph.output)["nodes"]}
    assert nodes["court"]["case"] == "cr"
    assert nodes["tax"] is None
    items = _ledgerctl(index_db, tmp_path, "timeline", uscc(1), "--format", "json")
    assert items.exit_code == 0, items.output
    shown = {n["record_id"]: n["repair"] for n in json.loads(items.output)}
    assert shown["overdue"]["status"] == "rejected"
