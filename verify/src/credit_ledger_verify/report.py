"""The verification report both `credit-ledger-verify` and `ledgerctl verify` print: one
table row per record (steps 1–6 and the verdict), the block header hashes, a summary line;
for a lineage bundle, one row per node (kind, depth, block, block time, status, edges
backed), then what failed — each naming its check, record and edge — and what could not be
checked and why. ``--json`` prints :func:`json_report` instead."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from credit_ledger_verify.evidence.lineage_result import LineageNode, LineageOutcome
from credit_ledger_verify.evidence.model import (
    CHECKPOINT_STEP_NAMES,
    STEP_NAMES,
    CheckpointStep,
    RecordOutcome,
    Step,
    StepStatus,
    VerificationResult,
)

__all__ = ["TABLE_LIMIT", "json_report", "print_lineage", "print_report", "print_results"]

#: Above this many records, the table lists only the failed ones (``show_all`` lists every row).
TABLE_LIMIT = 100
_MARKS = {
    StepStatus.PASSED: "[green]✓[/]",
    StepStatus.FAILED: "[bold red]✗[/]",
    StepStatus.SKIPPED: "[yellow]–[/]",
    StepStatus.NOT_CHECKED: "[dim]·[/]",
}


def json_report(results: Sequence[VerificationResult]) -> str:
    """Every bundle's result as one JSON document (``ok``: everything verified)."""
    report = {"ok": all(r.ok for r in results), "bundles": [r.as_dict() for r in results]}
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def print_report(
    console: Console, results: Sequence[VerificationResult], *, show_all: bool = False
) -> None:
    """The records table and summary, then each lineage bundle's table and findings."""
    print_results(console, results, show_all=show_all)
    for result in results:
        print_lineage(console, result)


def print_lineage(console: Console, result: VerificationResult) -> None:
    """The lineage table and findings of one verified lineage bundle."""
    lineage = result.lineage
    if lineage is None:
        return
    outcomes = {r.record_id: r for r in result.records}
    table = Table(title=_title(lineage, result.source), show_lines=False)
    for name, justify in (
        ("node", "left"),
        ("kind", "left"),
        ("depth", "right"),
        ("block", "right"),
        ("block time (UTC)", "left"),
        ("status", "left"),
        ("edges ok", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for node in lineage.nodes:
        outcome = outcomes.get(node.record_id)
        table.add_row(
            _label(node, lineage),
            node.kind or ("(erased)" if node.erased else "?"),
            "–" if node.depth is None else str(node.depth),
            "" if outcome is None or outcome.block_number is None else str(outcome.block_number),
            _block_time(outcome),
            _status(node, outcome),
            _edges(node),
        )
    console.print(table)
    for problem in lineage.problems:
        console.print(f"[bold red]✗[/] {problem.message}", highlight=False)
    for note in lineage.notes:
        console.print(f"[yellow]ⓘ[/] {note.detail}", highlight=False)
    backed = sum(n.edges_backed for n in lineage.nodes)
    verdict = "[green]lineage verified[/]" if lineage.ok else "[bold red]lineage FAILED[/]"
    console.print(
        f"{verdict}: {len(lineage.nodes)} node(s); {backed} of {len(lineage.edges)} edge(s) "
        f"backed by signed content; {len(lineage.problems)} problem(s)",
        highlight=False,
    )


def print_results(
    console: Console, results: Sequence[VerificationResult], *, show_all: bool = False
) -> None:
    """The records table (failures only above :data:`TABLE_LIMIT` unless ``show_all``),
    unreadable bundles, block header hashes and the summary line."""
    total = sum(len(r.records) for r in results)
    show_all = show_all or total <= TABLE_LIMIT
    many = len(results) > 1
    table = Table(title="evidence verification", show_lines=False)
    if many:
        table.add_column("bundle", overflow="fold")
    table.add_column("record", overflow="fold")
    table.add_column("block", justify="right")
    # a run of checkpoint-form bundles gets their steps' columns (the numbering differs)
    compact = any(
        isinstance(o.steps[0].step, CheckpointStep) for r in results for o in r.records if o.steps
    )
    columns: list[Step | CheckpointStep] = [*(CheckpointStep if compact else Step)][1:]
    for step in columns:
        name = CHECKPOINT_STEP_NAMES[step] if isinstance(step, CheckpointStep) else STEP_NAMES[step]
        table.add_column(f"{int(step)} {name}", justify="center")
    table.add_column("result", overflow="fold")
    hidden = 0
    headers: dict[int, str] = {}
    for result in results:
        for outcome in result.records:
            if outcome.block_number is not None and outcome.block_header_hash:
                headers.setdefault(outcome.block_number, outcome.block_header_hash)
            if outcome.ok and not show_all and outcome.erasure is None:
                hidden += 1
                continue
            marks = []
            for step in columns:
                found = outcome.step(step)
                marks.append(_MARKS[found.status] if found else "")
            if outcome.ok and outcome.erasure is not None:
                e = outcome.erasure
                verdict = (
                    f"[yellow]erased[/] on {e.erased_at.date().isoformat()} under {e.rule} "
                    f"({e.basis}; erasure record {e.erasure_record_id} verified)"
                )
            elif outcome.ok:
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
    erased = sum(1 for r in results for o in r.records if o.ok and o.erasure is not None)
    if erased:
        summary += f", {erased} of them lawfully erased (anchored commitment, erasure record)"
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


def _title(lineage: LineageOutcome, source: str | None) -> str:
    what = (
        f"loan {lineage.loan_id}"
        if lineage.loan_id is not None
        else "records " + ", ".join(lineage.roots)
    )
    when = f", as of {lineage.as_of}" if lineage.as_of else ", as of when it was built"
    where = f" — {source}" if source else ""
    return f"lineage of {what} (depth {lineage.depth}{when}){where}"


def _label(node: LineageNode, lineage: LineageOutcome) -> str:
    if node.record_id == lineage.decision:
        return f"{node.record_id} [bold](decision)[/]"
    if node.record_id in lineage.roots:
        return f"{node.record_id} (root)"
    return node.record_id


def _block_time(outcome: RecordOutcome | None) -> str:
    if outcome is None or outcome.block_time is None:
        return ""
    return outcome.block_time.strftime("%Y-%m-%d %H:%M:%S")


def _status(node: LineageNode, outcome: RecordOutcome | None) -> str:
    if outcome is None:
        return "[red]no evidence[/]"
    if not outcome.ok:
        failure = outcome.failure
        assert failure is not None
        return f"[red]step {int(failure.step)} ({failure.name}) failed[/]"
    parts = ["[green]anchored, content erased[/]" if node.erased else "[green]verified[/]"]
    if node.missing:
        parts.append(f"[red]{len(node.missing)} parent(s) missing[/]")
    if node.beyond_depth:
        parts.append(f"{len(node.beyond_depth)} parent(s) beyond depth")
    if node.depth is None:
        parts.append("[red]not reached from the roots[/]")
    return "; ".join(parts)


def _edges(node: LineageNode) -> str:
    if node.edges_total == 0:
        return "–"
    text = f"{node.edges_backed}/{node.edges_total}"
    if node.edges_failed:
        text = f"[red]{text}[/]"
    if node.edges_unverifiable:
        text += f" ({node.edges_unverifiable} unverifiable: erased)"
    return text
