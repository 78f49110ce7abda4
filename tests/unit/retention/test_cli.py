"""`ledgerctl retention run`: the dry run's JSON and table, the refusal without --dry-run,
a bad date, and the access-log entry per record listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.cli.retention import DEFAULT_PURPOSE
from ledger_service.context import LedgerContext
from tests.db.factories import SUBJECT
from tests.db.fixtures import IndexDatabase

pytestmark = pytest.mark.usefixtures("negatives")


class Run(Protocol):
    def __call__(self, *args: str) -> Result: ...


@pytest.fixture
def run(index_db: IndexDatabase, tmp_path: Path) -> Run:
    def invoke(*args: str) -> Result:
        base = ["--state-dir", str(tmp_path), "--db", index_db.url, "--accessor", "dpo:li"]
        return CliRunner().invoke(app, ["retention", "run", *args, *base])

    return invoke


def test_dry_run_as_json(run: Run) -> None:
    result = run("--dry-run", "--as-of", "2025-03-01", "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["as_of"] == "2025-03-01"
    assert answer["dry_run"] is True
    assert [(e["record_id"], e["rule"], e["expires_on"]) for e in answer["expired"]] == [
        ("od1", "loan_overdue", "2024-09-16"),
        ("j1", "judicial_record", "2025-03-01"),
    ]
    assert (answer["kept"], answer["not_ended"]) == (2, 2)


def test_dry_run_as_a_table(run: Run) -> None:
    result = run("--dry-run", "--as-of", "2024-09-16")
    assert result.exit_code == 0, result.output
    assert "od1" in result.output
    assert "loan_overdue" in result.output
    assert "1 would expire" in result.output
    assert "nothing was changed" in result.output


def test_without_dry_run_it_refuses(run: Run) -> None:
    result = run("--as-of", "2025-03-01")
    assert result.exit_code == 2
    assert "not built yet" in result.output
    assert "--dry-run" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "2025-02-30"), "is not a calendar date"),
        (("--format", "xml"), "--format must be one of"),
    ],
)
def test_bad_options_are_named(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("--dry-run", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_each_listed_record_is_logged_with_the_purpose(run: Run, ledger: LedgerContext) -> None:
    assert run("--dry-run", "--as-of", "2025-03-01").exit_code == 0
    entries = ledger.access_log.entries(subject=SUBJECT, limit=10)
    assert {(e.record_id, e.query, e.purpose, e.accessor) for e in entries} == {
        ("od1", "retention", DEFAULT_PURPOSE, "dpo:li"),
        ("j1", "retention", DEFAULT_PURPOSE, "dpo:li"),
    }
