"""`ledgerctl lineage / impact / timeline / disputed / superseded / anchor` on a small index
(SQLite and PostgreSQL): what each prints, the errors it names, and the access log entry
every answer leaves with its declared purpose."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.context import LedgerContext
from tests.db.factories import SUBJECT
from tests.db.fixtures import IndexDatabase

PURPOSE = "loan audit 2026-Q4 ref 17"


class Run(Protocol):
    def __call__(self, *args: str, purpose: bool = True) -> Result: ...


@pytest.fixture
def run(index_db: IndexDatabase, tmp_path: Path, loans: dict[str, datetime]) -> Run:
    def invoke(*args: str, purpose: bool = True) -> Result:
        base = ["--state-dir", str(tmp_path), "--db", index_db.url, "--accessor", "regulator:wu"]
        extra = ["--purpose", PURPOSE] if purpose else []
        return CliRunner().invoke(app, [*args, *base, *extra])

    return invoke


def test_loan_lineage_as_of_decision_as_json(run: Run) -> None:
    result = run("lineage", "L1", "--as-of", "decision", "--format", "json")
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    assert graph["loan"]["decision"] == "approve1"
    assert {n["record_id"] for n in graph["nodes"]} == {"apply1", "approve1", "score1", "tax", "si"}
    assert all(not n["disputed"] and n["superseded_by"] is None for n in graph["nodes"])


def test_loan_lineage_table_marks_the_decision_and_the_changes(run: Run) -> None:
    result = run("lineage", "L1")
    assert result.exit_code == 0, result.output
    assert "approve1 ◆" in result.output
    assert "decided by approve1" in result.output
    assert "superseded by tax2" in result.output
    assert "1 disputed, 1 superseded" in result.output


def test_diff_since_the_decision(run: Run, loans: dict[str, datetime]) -> None:
    result = run("lineage", "loan:L1", "--as-of", "decision", "--diff", "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["since"] == loans["decision"].isoformat()
    assert {(c["record_id"], c["change"], c["by"]) for c in answer["changes"]} == {
        ("disburse1", "added", None),
        ("tax", "superseded", "tax2"),
        ("si", "disputed", "objection"),
    }
    table = run("lineage", "L1", "--as-of", "decision", "--diff")
    assert table.exit_code == 0, table.output
    assert "changes since" in table.output
    assert "3 change(s)" in table.output
    assert "tax2" in table.output


def test_impact_names_the_loans_that_relied_on_disputed_data(run: Run) -> None:
    result = run("impact", "si", "--format", "json")
    assert result.exit_code == 0, result.output
    hit = json.loads(result.output)
    assert {loan["loan_id"]: loan["decided_before_change"] for loan in hit["loans"]} == {
        "L1": True,
        "L2": False,
        "L3": None,
    }
    table = run("impact", "si")
    assert table.exit_code == 0, table.output
    assert "loans that relied on si" in table.output
    assert "3 loan(s) relied on it" in table.output


def test_timeline_listings_and_anchor(run: Run) -> None:
    timeline = run("timeline", SUBJECT, "--kind", "financing_event", "--format", "json")
    assert timeline.exit_code == 0, timeline.output
    assert [n["record_id"] for n in json.loads(timeline.output)][:2] == ["apply1", "approve1"]
    disputed = run("disputed", "--format", "json")
    assert [n["record_id"] for n in json.loads(disputed.output)] == ["si"]
    superseded = run("superseded")
    assert superseded.exit_code == 0, superseded.output
    assert "superseded by tax2" in superseded.output
    anchor = run("anchor", "tax")
    assert anchor.exit_code == 0, anchor.output
    assert "not anchored yet" in anchor.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lineage", "score1", "--as-of", "decision"), "a loan's decision time"),
        (("lineage", "L3", "--as-of", "decision"), "loan 'L3' has no approval or rejection"),
        (("lineage", "L1", "--diff"), "--diff compares --as-of with now"),
        (("lineage", "L1", "--down"), "downstream walks start from records"),
        (("lineage", "L1", "score1"), "must be the only name"),
        (("lineage", "nothing"), "neither a record id nor a loan id"),
        (("lineage", "L1", "--as-of", "2025-06-01"), "has no time zone"),
        (("lineage", "L1", "--format", "yaml"), "--format must be one of"),
        (("impact", "si", "--depth", "99"), "depth"),
    ],
)
def test_bad_requests_exit_2_naming_the_problem(
    run: Run, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_every_answer_is_logged_with_its_purpose_and_a_purpose_is_required(
    run: Run,
    ledger: LedgerContext,
) -> None:
    no_purpose = run("lineage", "L1", purpose=False)
    assert no_purpose.exit_code == 2
    assert "--purpose" in no_purpose.output
    assert ledger.access_log.entries() == []
    assert run("lineage", "L1").exit_code == 0
    assert run("impact", "si").exit_code == 0
    entries = ledger.access_log.entries()
    assert {(e.accessor, e.query, e.subject, e.purpose) for e in entries} == {
        ("regulator:wu", "lineage", SUBJECT, PURPOSE),
        ("regulator:wu", "impact", SUBJECT, PURPOSE),
    }
    blank = run("lineage", "L1", "--purpose", " ", purpose=False)
    assert blank.exit_code == 2
    assert "purpose" in blank.output


def test_access_report_shows_who_read_an_enterprise_and_why(
    run: Run, index_db: IndexDatabase, tmp_path: Path
) -> None:
    assert run("lineage", "L1").exit_code == 0
    base = ["--state-dir", str(tmp_path), "--db", index_db.url]
    report = CliRunner().invoke(app, ["access-report", SUBJECT, *base, "--format", "json"])
    assert report.exit_code == 0, report.output
    entries = json.loads(report.output)
    assert entries[0]["accessor"] == "regulator:wu"
    assert entries[0]["purpose"] == PURPOSE
    assert entries[0]["query"] == "lineage"
    table = CliRunner().invoke(app, ["access-report", SUBJECT, *base])
    assert "who read" in table.output
