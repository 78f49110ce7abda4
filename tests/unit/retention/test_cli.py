"""`ledgerctl retention run`: the dry run's JSON and table, a real run and the reports
(`retention report`, `erasures list`), `ledgerctl erase`, bad dates, and the access-log
entry per record listed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.cli.retention import DEFAULT_PURPOSE
from ledger_service.context import LedgerContext
from ledger_service.retention.service_key import load_or_create_service_key, verify_key_b64
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


def test_a_run_erases_and_the_reports_list_it(
    run: Run, index_db: IndexDatabase, tmp_path: Path
) -> None:
    result = run("--as-of", "2025-03-01", "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["dry_run"] is False
    assert [(e["record_id"], e["rule"]) for e in answer["erased"]] == [
        ("od1", "loan_overdue"),
        ("j1", "judicial_record"),
    ]
    assert all(e["erasure_record"].startswith("erasure-") for e in answer["erased"])
    again = run("--as-of", "2025-03-01")
    assert again.exit_code == 0, again.output
    assert "erased 0" in again.output
    base = ["--state-dir", str(tmp_path), "--db", index_db.url]
    runs = CliRunner().invoke(app, ["retention", "report", *base, "--format", "json"])
    assert runs.exit_code == 0, runs.output
    assert [(r["expired"], r["erased"]) for r in json.loads(runs.output)] == [(0, 0), (2, 2)]
    listed = CliRunner().invoke(
        app, ["erasures", "list", *base, "--format", "json", "--accessor", "auditor:wang"]
    )
    assert listed.exit_code == 0, listed.output
    lines = json.loads(listed.output)
    assert sorted((e["record_id"], e["basis"]) for e in lines) == [
        ("j1", "expiry"),
        ("od1", "expiry"),
    ]
    assert all(e["anchor"] is None for e in lines)  # no worker ran: not yet in a batch
    table = CliRunner().invoke(app, ["erasures", "list", *base])
    assert table.exit_code == 0, table.output
    assert "loan_overdue" in table.output
    assert "(pending)" in table.output


def test_a_run_for_a_future_day_is_refused(run: Run) -> None:
    result = run("--as-of", "2999-01-01")
    assert result.exit_code == 2
    assert "after today" in result.output


def test_erase_on_request_refused_then_done(index_db: IndexDatabase, tmp_path: Path) -> None:
    base = ["--state-dir", str(tmp_path), "--db", index_db.url, "--accessor", "dpo:li"]
    refused = CliRunner().invoke(app, ["erase", "od2", "--reason", "asked", *base])
    assert refused.exit_code == 3
    assert "negative_information_retention" in refused.output
    done = CliRunner().invoke(
        app, ["erase", "tax1", "--reason", "asked", "--format", "json", *base]
    )
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert (answer["erased"], answer["rule"]) == (True, "pipl_art47")
    unknown = CliRunner().invoke(app, ["erase", "nope", "--reason", "asked", *base])
    assert unknown.exit_code == 2
    assert "nope" in unknown.output


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


def test_the_service_key_is_printed_public_half_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["retention", "service-key", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    key = load_or_create_service_key(tmp_path)
    assert result.output.strip() == verify_key_b64(key)
    assert base64.b64encode(bytes(key)).decode() not in result.output
