"""`ledgerctl repairs list | show | report`: credit-repair cases (信用修复) as of a time, one
case with its steps and their anchoring, and the report of cases by outcome — read from the
index, each answer access-logged with its declared purpose (docs/regulation.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.cli._reads import (
    Accessor,
    AsOfOption,
    Format,
    Purpose,
    as_time,
    check_format,
    parse_as_of,
    print_json,
    read_index,
)
from ledger_service.queries.repairs import (
    OUTCOMES,
    RepairCase,
    UnknownRepairCase,
    case_to_json,
    repair_case,
    repair_cases,
    repair_report,
    report_to_json,
)

app = typer.Typer(
    help="Credit-repair cases (信用修复): submitted → verified → approved | rejected."
)


def _read(cases: list[RepairCase]) -> list[tuple[str | None, str | None]]:
    return [(c.subject, c.case_id) for c in cases]


def _anchoring(case: RepairCase) -> str:
    """Where each step's record is anchored: block number, or why not yet."""
    parts = []
    for step in case.steps:
        anchor = step.anchor
        where = (
            "pending"
            if anchor is None or anchor.block_number is None
            else f"block {anchor.block_number}"
        )
        parts.append(f"{step.status} {step.record_id} @ {where}")
    return "\n".join(parts)


def _table(title: str, cases: list[RepairCase]) -> Table:
    table = Table(title=title)
    for name in ("case", "subject", "action", "outcome", "affected", "score change", "steps"):
        table.add_column(name, overflow="fold")
    for c in cases:
        table.add_row(
            c.case_id,
            c.subject,
            c.action,
            c.status,
            "\n".join(c.affected),
            c.score_change or "—",
            _anchoring(c),
        )
    return table


@app.command("list")
def list_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only this outcome: {', '.join(OUTCOMES)}.")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this enterprise.")] = None,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """Repair cases opened by a time (default now), with their outcome by then."""
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    cases = read_index(
        state_dir,
        db_url,
        lambda session: repair_cases(session, status=status, as_of=at, subject=subject),
        what="repairs",
        purpose=purpose,
        accessor=accessor,
        read=_read,
    )
    if fmt == "json":
        print_json([case_to_json(c) for c in cases])
        return
    console.print(_table("repair cases" + ("" if at is None else f" as of {at}"), cases))


@app.command("show")
def show_cmd(
    case_id: Annotated[str, typer.Argument(help="The case: its submission's record id.")],
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    as_of: AsOfOption = None,
    fmt: Format = "json",
) -> None:
    """One case: its steps with their anchoring, the affected records, the score change."""
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    try:
        case = read_index(
            state_dir,
            db_url,
            lambda session: repair_case(session, case_id, as_of=at),
            what="repair",
            purpose=purpose,
            accessor=accessor,
            read=lambda found: _read([found]),
        )
    except UnknownRepairCase as exc:
        fail(str(exc), code=2)
    if fmt == "json":
        print_json(case_to_json(case))
        return
    console.print(_table(f"repair case {case_id}", [case]))


@app.command("report")
def report_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """Cases by outcome, and one line per case with the anchoring of its records."""
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    report = read_index(
        state_dir,
        db_url,
        lambda session: repair_report(session, as_of=at),
        what="repairs_report",
        purpose=purpose,
        accessor=accessor,
        read=lambda found: _read(found.cases),
    )
    if fmt == "json":
        print_json(report_to_json(report))
        return
    console.print(
        _table("repairs by outcome" + ("" if at is None else f" as of {at}"), report.cases)
    )
    console.print(", ".join(f"{outcome}: {n}" for outcome, n in report.counts.items()))
