"""`ledgerctl retention run --dry-run`: the negative records that would expire on a date
(征信业管理条例 Art. 16), with their rule, end of conduct and expiry date. Deletion is not
built yet, so a run without ``--dry-run`` is refused (docs/regulation.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.cli._reads import Accessor, Format, check_format, print_json, read_index
from ledger_service.retention.report import ExpiryReport, expiry_report, report_to_json
from ledger_service.retention.rules import CHINA_TIME

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
    """List the negative records whose 5 years after the end of the conduct are over."""
    if not dry_run:
        fail(
            "deleting expired records is not built yet: run with --dry-run to list what "
            "would expire (docs/regulation.md)",
            code=2,
        )
    check_format(fmt)
    day = _as_of_day(as_of)
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
    _print_table(report)


def _print_table(report: ExpiryReport) -> None:
    table = Table(title=f"negative records expired by {report.as_of.isoformat()} (dry run)")
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
    console.print(
        f"{len(report.expired)} would expire; {report.kept} kept (conduct ended less than "
        f"5 years ago); {report.not_ended} kept (conduct not ended); nothing was changed"
    )
