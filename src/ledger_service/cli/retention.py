"""`ledgerctl retention run [--dry-run]`: the negative records expired by a day (征信业管理条例
Art. 16), with their rule, end of conduct and expiry date — erased (each with an anchored
erasure record) unless ``--dry-run``; `retention report`: the runs; `retention service-key`:
the public key that signs erasure records (docs/regulation.md)."""

from __future__ import annotations

import getpass
from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.cli._reads import Accessor, Format, check_format, print_json, read_index
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError, ValidationError
from ledger_service.regulation.rules import CHINA_TIME
from ledger_service.retention.listings import retention_runs, run_to_json
from ledger_service.retention.report import ExpiryReport, expiry_report, report_to_json
from ledger_service.retention.run import run_result_to_json, run_retention
from ledger_service.retention.service_key import load_or_create_service_key, verify_key_b64

app = typer.Typer(help="Retention of negative information (Art. 16): expiry after 5 years.")

#: Logged with the dry run's access-log entries unless --purpose says otherwise.
DEFAULT_PURPOSE = "retention: expiry check of negative information (Art. 16)"


def _as_of_day(text: str | None) -> date:
    if text is None:
        return datetime.now(CHINA_TIME).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a calendar date (YYYY-MM-DD)", code=2)


@app.command("run")
def run(
    state_dir: StateDir,
    db_url: DbUrl = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would expire; change nothing.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day to check (YYYY-MM-DD, China time); default today."),
    ] = None,
    fmt: Format = "table",
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the records are read (logged per subject).")
    ] = DEFAULT_PURPOSE,
    accessor: Accessor = None,
) -> None:
    """Erase the negative records whose 5 years after the end of the conduct are over, each
    with an anchored erasure record (--dry-run: only list them)."""
    check_format(fmt)
    day = _as_of_day(as_of)
    if dry_run:
        report = read_index(
            state_dir,
            db_url,
            lambda session: expiry_report(session, day),
            what="retention",
            purpose=purpose,
            accessor=accessor,
            read=lambda found: [(a.subject, a.record_id) for a in found.expired],
        )
        if fmt == "json":
            print_json(report_to_json(report))
            return
        _print_table(report, dry_run=True)
        return
    who = accessor or f"cli:{getpass.getuser()}"
    try:
        with LedgerContext(ServiceConfig.from_env(state_dir, db_url)) as context:
            result = run_retention(context.session_factory, context.erasures, day, started_by=who)
            context.access_log.log_answer(
                accessor=who,
                query="retention",
                purpose=purpose,
                read=[(a.subject, a.record_id) for a in result.report.expired],
            )
    except ValidationError as exc:
        fail(str(exc).removeprefix("record: "), code=2)
    except (LedgerError, SQLAlchemyError) as exc:
        fail(str(exc))
    if fmt == "json":
        print_json(run_result_to_json(result))
        return
    _print_table(result.report, dry_run=False)
    console.print(
        f"run {result.run_id}: erased {len(result.erased)} (content and salt deleted, an "
        f"erasure record written for each, to be anchored); "
        f"{len(result.already_erased)} already erased by another run"
    )


@app.command("report")
def report_runs(
    state_dir: StateDir,
    db_url: DbUrl = None,
    fmt: Format = "table",
) -> None:
    """The retention runs, newest first, with their counts (no enterprise data)."""
    check_format(fmt)
    try:
        config = ServiceConfig.from_env(state_dir, db_url)
        with LedgerContext(config) as context, context.session_factory() as session:
            runs = [run_to_json(r) for r in retention_runs(session)]
    except SQLAlchemyError as exc:
        fail(f"index database: {exc}")
    if fmt == "json":
        print_json(runs)
        return
    table = Table(title="retention runs")
    for name in (
        "run",
        "as of",
        "started",
        "finished",
        "by",
        "expired",
        "erased",
        "kept",
        "not ended",
    ):
        table.add_column(name, overflow="fold")
    for r in runs:
        table.add_row(
            str(r["run_id"]),
            r["as_of"],
            r["started_at"],
            r["finished_at"] or "(unfinished)",
            r["started_by"],
            str(r["expired"]),
            str(r["erased"]),
            str(r["kept"]),
            str(r["not_ended"]),
        )
    console.print(table)


@app.command("service-key")
def service_key(state_dir: StateDir) -> None:
    """Print the public half of the service key that signs erasure records (created on
    first use): what a verifier pins to trust erasure records."""
    try:
        key = load_or_create_service_key(state_dir)
    except LedgerError as exc:
        fail(str(exc))
    console.print(verify_key_b64(key), highlight=False)


def _print_table(report: ExpiryReport, *, dry_run: bool) -> None:
    what = " (dry run)" if dry_run else ""
    table = Table(title=f"negative records expired by {report.as_of.isoformat()}{what}")
    for name in ("record", "subject", "rule", "conduct ended", "expires on"):
        table.add_column(name, overflow="fold")
    for a in report.expired:
        table.add_row(
            a.record_id,
            a.subject,
            a.rule.value,
            "—" if a.conduct_ended is None else a.conduct_ended.isoformat(),
            "—" if a.expires is None else a.expires.isoformat(),
        )
    console.print(table)
    done = "would expire" if dry_run else "expired"
    console.print(
        f"{len(report.expired)} {done}; {report.kept} kept (conduct ended less than "
        f"5 years ago); {report.not_ended} kept (conduct not ended)"
        + ("; nothing was changed" if dry_run else "")
    )
