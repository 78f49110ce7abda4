"""`ledgerctl objections list|show|bundle|report`: objection cases (征信业管理条例 Art. 25) —
open, overdue and resolved as of a time, one case with every step and its impact, the case
file as one evidence bundle, and the report whose every line names the anchoring of its
records. Every read declares a purpose and is access-logged (docs/regulation.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger_service.cli._common import DbUrl, StateDir, console, fail, run_or_fail
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
from ledger_service.context import LedgerContext
from ledger_service.evidence import EvidenceError, build_case_bundle, encode_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.queries.objections import (
    CASE_STATUSES,
    CaseImpact,
    CaseStep,
    ObjectionCase,
    case_impact,
    case_impact_to_json,
    case_steps,
    case_to_json,
    find_case,
    list_cases,
    objection_report,
    report_to_json,
    step_to_json,
    subjects_of,
)

app = typer.Typer(help="Objection cases (Art. 25): open, overdue, resolved; case files.")

CaseArg = Annotated[str, typer.Argument(help="The case: its opening objection record's id.")]


def _at(as_of: str | None) -> datetime:
    return as_time(parse_as_of(as_of)) or datetime.now(UTC)


@app.command("list")
def list_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open (overdue included), overdue or resolved")
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this enterprise's.")
    ] = None,
    as_of: AsOfOption = None,
    limit: Annotated[int, typer.Option(help="At most this many cases.")] = 1000,
    fmt: Format = "table",
) -> None:
    """Objection cases opened by --as-of (default now), oldest first."""
    check_format(fmt)
    if status is not None and status not in CASE_STATUSES:
        fail(f"--status must be one of {', '.join(CASE_STATUSES)}; got {status!r}", code=2)
    at = _at(as_of)
    wanted = next((known for known in CASE_STATUSES if known == status), None)
    cases = read_index(
        state_dir,
        db_url,
        lambda s: list_cases(s, as_of=at, status=wanted, subject=subject, limit=limit),
        what="objections",
        purpose=purpose,
        accessor=accessor,
        read=subjects_of,
    )
    if fmt == "json":
        print_json({"as_of": at.isoformat(), "cases": [case_to_json(c) for c in cases]})
        return
    console.print(_case_table(cases, f"objection cases as of {at.isoformat(timespec='seconds')}"))
    console.print(f"{len(cases)} case(s)")


@app.command("show")
def show_cmd(
    case: CaseArg,
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """One case: its steps (with reasons and anchoring) and its impact downstream."""
    check_format(fmt)
    at = _at(as_of)

    def query(session: Any) -> tuple[CaseImpact, list[CaseStep]]:
        hit = case_impact(session, case, as_of=at)
        return hit, case_steps(session, hit.case)

    hit, steps = read_index(
        state_dir,
        db_url,
        query,
        what="objection",
        purpose=purpose,
        accessor=accessor,
        read=lambda found: [(n.subject, case) for n in found[0].graph.nodes.values()],
    )
    if fmt == "json":
        print_json({**case_impact_to_json(hit), "steps": [step_to_json(s) for s in steps]})
        return
    console.print(_case_table([hit.case], f"case {case} as of {at.isoformat(timespec='seconds')}"))
    console.print(_steps_table(steps))
    loans = Table(title="impact: loans relying on the disputed record")
    for name in ("loan", "decision", "decided at", "decided before the objection"):
        loans.add_column(name, overflow="fold")
    for loan in hit.loans:
        loans.add_row(
            loan.loan_id,
            loan.decision or "—",
            "—" if loan.decided_at is None else loan.decided_at.isoformat(timespec="seconds"),
            {True: "yes", False: "no", None: "undecided"}[loan.decided_before_objection],
        )
    console.print(loans)
    console.print(f"{len(hit.scores)} score(s) relied on it: {', '.join(hit.scores) or '—'}")


@app.command("bundle")
def bundle_cmd(
    case: CaseArg,
    purpose: Purpose,
    state_dir: StateDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the bundle here.")],
    db_url: DbUrl = None,
    accessor: Accessor = None,
    as_of: AsOfOption = None,
) -> None:
    """The case file (disputed record, objection, correction, resolution) as one evidence
    bundle; check it offline with `credit-ledger-verify` (or `ledgerctl verify`)."""
    at = _at(as_of)
    context = LedgerContext.from_env(state_dir, db_url)

    def query(session: Any) -> tuple[ObjectionCase, list[CaseStep]]:
        found = find_case(session, case, as_of=at)
        return found, case_steps(session, found)

    _, steps = read_index(
        state_dir,
        db_url,
        query,
        what="objection_bundle",
        purpose=purpose,
        accessor=accessor,
        read=lambda found: [(found[0].subject, s.record_id) for s in found[1]],
    )
    target = run_or_fail(lambda: context.fabric_target)
    with target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, target.channel)
        bundle = run_or_fail(
            lambda: build_case_bundle(context.session_factory, case, as_of=at, block_source=reader),
            EvidenceError,
        )
    data = encode_bundle(bundle)
    out.write_bytes(data)
    console.print(
        f"case {case}: {len(steps)} record(s), {len(bundle['blocks'])} block(s), "
        f"{len(data):,} bytes -> {out}"
    )


@app.command("report")
def report_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this enterprise's.")
    ] = None,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """Counts (open, overdue, resolved by outcome, answered in time or late) and one line per
    case, each with the anchoring (batch, block, tx) of its records."""
    check_format(fmt)
    at = _at(as_of)
    report = read_index(
        state_dir,
        db_url,
        lambda s: objection_report(s, as_of=at, subject=subject),
        what="objection_report",
        purpose=purpose,
        accessor=accessor,
        read=lambda r: subjects_of([case for case, _ in r.lines]),
    )
    if fmt == "json":
        print_json(report_to_json(report))
        return
    counts = "  ".join(f"{name} {n}" for name, n in report.counts.items())
    console.print(f"objections as of {at.isoformat(timespec='seconds')}: {counts}")
    for case, steps in report.lines:
        console.print(_case_table([case], f"case {case.case}"))
        console.print(_steps_table(steps))


def _case_table(cases: list[ObjectionCase], title: str) -> Table:
    table = Table(title=title)
    for name in ("case", "subject", "disputed", "status", "opened", "deadline", "resolution"):
        table.add_column(name, overflow="fold")
    for c in cases:
        resolution = "—"
        if c.resolution is not None and c.resolved_at is not None:
            late = "" if c.answered_in_time else " (late)"
            resolution = (
                f"{c.resolution_step} by {c.resolution} "
                f"{c.resolved_at.isoformat(timespec='seconds')}{late}"
            )
        table.add_row(
            c.case,
            c.subject,
            c.disputed,
            c.status,
            c.opened_at.isoformat(timespec="seconds"),
            c.deadline.isoformat(),
            resolution,
        )
    return table


def _steps_table(steps: list[CaseStep]) -> Table:
    table = Table(title="records of the case")
    for name in ("role", "record", "recorded", "reason", "batch", "block", "tx"):
        table.add_column(name, overflow="fold")
    for s in steps:
        j = step_to_json(s)
        a = j["anchor"]
        table.add_row(
            s.role,
            s.record_id,
            s.recorded_at.isoformat(timespec="seconds"),
            s.reason or "—",
            "not anchored yet" if a is None else f"{a['batch_id']} #{a['leaf_index']}",
            "—" if a is None else str(a["block_number"]),
            "—" if a is None else a["tx_id"],
        )
    return table
