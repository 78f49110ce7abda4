"""`ledgerctl evidence`, `ledgerctl verify`, `ledgerctl trust export`: evidence bundles.

* ``evidence`` builds a bundle from the index and the chain (needs the network);
* ``verify`` checks bundles offline against a trust directory (needs nothing else);
* ``trust export`` writes the trust directory from the network's state directory.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import StateDir, console, err_console, fail, run_or_fail
from ledger_service.cli._lineage_report import print_lineage
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.evidence import (
    EvidenceError,
    Step,
    StepStatus,
    TrustStore,
    VerificationResult,
    Verifier,
    build_lineage_bundle,
    encode_bundle,
)
from ledger_service.evidence.model import STEP_NAMES
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.queries.lineage import (
    DECISION,
    DEFAULT_DEPTH,
    AsOf,
    LineageQueryError,
    lineage_of,
)

trust_app = typer.Typer(help="Trust directories (org CA certificates) for offline verification.")

#: Above this many records, `verify` lists only the failed ones (use --all for every row).
_TABLE_LIMIT = 100
_MARKS = {
    StepStatus.PASSED: "[green]✓[/]",
    StepStatus.FAILED: "[bold red]✗[/]",
    StepStatus.SKIPPED: "[yellow]–[/]",
    StepStatus.NOT_CHECKED: "[dim]·[/]",
}


def register(app: typer.Typer) -> None:
    """Add the evidence commands to `ledgerctl`."""
    app.command("evidence")(evidence)
    app.command("verify")(verify)
    app.add_typer(trust_app, name="trust")


def evidence(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Record ids to put in the bundle; with --lineage, records or one loan "
            "(record:ID / loan:ID when a name is both).",
            metavar="RECORD_OR_LOAN...",
        ),
    ],
    state_dir: StateDir,
    redact: Annotated[
        bool, typer.Option("--redact", help="Leave out content and salt (commitments only).")
    ] = False,
    lineage: Annotated[
        bool,
        typer.Option(
            "--lineage",
            help="A lineage bundle: every record the given ones (or the loan's events) rely "
            "on, upstream, and the edges between them.",
        ),
    ] = False,
    depth: Annotated[
        int, typer.Option("--depth", help="With --lineage: parent edges to follow.")
    ] = DEFAULT_DEPTH,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="With --lineage: the lineage as the index stood at this time (ISO 8601 with "
            "a zone), or 'decision' (the loan's decision time); default: now.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the bundle here (default: stdout).")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db", envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
) -> None:
    """Build an evidence bundle (docs/evidence-format.md) for one or many records, or a
    lineage bundle of records or a loan (--lineage)."""
    if not lineage and (as_of is not None or depth != DEFAULT_DEPTH):
        fail("--depth and --as-of only apply to a lineage bundle (--lineage)", code=2)
    if lineage and redact:
        fail(
            "--redact cannot be combined with --lineage: edges are checked against the "
            "records' content (erased records are carried as commitments anyway)",
            code=2,
        )
    when = _lineage_as_of(as_of)
    context = LedgerContext.from_env(state_dir, db_url)
    target = run_or_fail(lambda: context.fabric_target)
    sessions = context.session_factory
    graph = None
    if lineage:
        with sessions() as session:
            graph = run_or_fail(
                lambda: lineage_of(session, names, depth=depth, as_of=when),
                LineageQueryError,
            )
    with target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, target.channel)
        if graph is None:
            bundle = run_or_fail(
                lambda: context.build_bundle(names, block_reader=reader, redact=redact),
                EvidenceError,
            )
        else:
            walked = graph
            bundle = run_or_fail(
                lambda: build_lineage_bundle(sessions, walked, block_source=reader),
                EvidenceError,
            )
    data = encode_bundle(bundle)
    what = (
        f"{len(bundle['records'])} record(s), {len(bundle['blocks'])} block(s), "
        f"{len(data):,} bytes{' (redacted)' if redact else ''}"
    )
    if graph is not None:
        what = (
            f"lineage of {len(bundle['records'])} node(s), {len(graph.edges)} edge(s), "
            f"depth {graph.depth}, {len(bundle['blocks'])} block(s), {len(data):,} bytes"
        )
        if graph.truncated:
            err_console.print(
                "[yellow]the walk stopped at its node limit: the bundle is incomplete and will "
                "not verify; lower --depth[/]"
            )
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        err_console.print(f"evidence bundle: {what}", highlight=False)
    else:
        out.write_bytes(data)
        err_console.print(f"wrote {out}: {what}", highlight=False)


def _lineage_as_of(text: str | None) -> AsOf:
    if text is None or text == DECISION:
        return text
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is neither 'decision' nor an ISO 8601 time", code=2)
    if value.tzinfo is None:
        fail(f"--as-of {text!r} has no time zone (add Z or +08:00)", code=2)
    return value.astimezone(UTC)


def verify(
    bundles: Annotated[list[str], typer.Argument(help="Bundle files ('-' reads stdin).")],
    trust: Annotated[
        Path,
        typer.Option(
            "--trust",
            help="Trust directory (`ledgerctl trust export DIR`): org CA certificates.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON instead of a table.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every record, even above {_TABLE_LIMIT} (default: failures)."
        ),
    ] = False,
) -> None:
    """Verify evidence bundles offline (no network, no index); exit 1 if anything fails."""
    store = run_or_fail(lambda: TrustStore.load(trust), EvidenceError)
    verifier = Verifier(store)
    results: list[VerificationResult] = []
    for name in bundles:
        if name == "-":
            results.append(verifier.verify(sys.stdin.buffer.read(), source="<stdin>"))
        else:
            results.append(verifier.verify_file(name))
    ok = all(r.ok for r in results)
    if as_json:
        report = {"ok": ok, "bundles": [r.as_dict() for r in results]}
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_results(results, show_all=show_all)
        for result in results:
            print_lineage(result)
    if not ok:
        raise typer.Exit(1)


def _print_results(results: list[VerificationResult], *, show_all: bool) -> None:
    total = sum(len(r.records) for r in results)
    show_all = show_all or total <= _TABLE_LIMIT
    many = len(results) > 1
    table = Table(title="evidence verification", show_lines=False)
    if many:
        table.add_column("bundle", overflow="fold")
    table.add_column("record", overflow="fold")
    table.add_column("block", justify="right")
    for step in Step:
        if step is not Step.FORMAT:
            table.add_column(f"{int(step)} {STEP_NAMES[step]}", justify="center")
    table.add_column("result", overflow="fold")
    hidden = 0
    headers: dict[int, str] = {}
    for result in results:
        for outcome in result.records:
            if outcome.block_number is not None and outcome.block_header_hash:
                headers.setdefault(outcome.block_number, outcome.block_header_hash)
            if outcome.ok and not show_all:
                hidden += 1
                continue
            marks = []
            for step in Step:
                if step is Step.FORMAT:
                    continue
                found = outcome.step(step)
                marks.append(_MARKS[found.status] if found else "")
            if outcome.ok:
                verdict = "[green]verified[/]" + (" (redacted)" if outcome.redacted else "")
            else:
                failure = outcome.failure
                assert failure is not None
                verdict = f"[red]step {int(failure.step)} ({failure.name}):[/] {failure.detail}"
            block = "" if outcome.block_number is None else str(outcome.block_number)
            row = [outcome.record_id, block, *marks, verdict]
            table.add_row(*([result.source or ""] if many else []), *row)
    if table.row_count:
        console.print(table)
    for result in results:
        if result.error is not None:
            console.print(f"[bold red]✗[/] {result.source or 'bundle'}: {result.error}")
    for number in sorted(headers):
        console.print(f"block {number}: header hash {headers[number]}", highlight=False)
    failed = sum(len(r.failed) for r in results)
    bad_bundles = sum(1 for r in results if r.error is not None)
    summary = f"{total - failed} of {total} record(s) verified in {len(results)} bundle(s)"
    if hidden:
        summary += f" ({hidden} verified record(s) not listed; --all lists them)"
    problems = [f"{failed} record(s) failed"] if failed else []
    bad_lineages = sum(1 for r in results if r.lineage is not None and not r.lineage.ok)
    if bad_lineages:
        problems.append(f"{bad_lineages} lineage(s) failed")
    if bad_bundles:
        problems.append(f"{bad_bundles} bundle(s) unreadable")
    if problems:
        summary += "; [bold red]" + ", ".join(problems) + "[/]"
    console.print(summary)


@trust_app.command("export")
def trust_export(
    directory: Annotated[Path, typer.Argument(help="Directory to write (created if missing).")],
    state_dir: StateDir,
) -> None:
    """Write the network's trust directory: one `<MSPID>.pem` per org CA plus trust.json."""
    config = ServiceConfig.from_env(state_dir)
    topo = run_or_fail(config.topology)
    store = run_or_fail(lambda: TrustStore.from_topology(topo), EvidenceError)
    try:
        written = store.write(directory)
    except OSError as exc:
        fail(f"cannot write {directory}: {exc}")
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    console.print(
        f"application orgs: {', '.join(store.application_msps)}; orderer orgs: "
        f"{', '.join(store.orderer_msps)}; channel {store.channel}, chaincode {store.chaincode}",
        highlight=False,
    )
