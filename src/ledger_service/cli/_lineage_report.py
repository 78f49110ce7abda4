"""`ledgerctl verify`'s report of a lineage bundle, for a risk analyst: one row per node
(kind, depth, block, block time, status, edges backed), then what failed — each naming its
check, record and edge — and what could not be checked and why."""

from __future__ import annotations

from rich.table import Table

from ledger_service.cli._common import console
from ledger_service.evidence import RecordOutcome, VerificationResult
from ledger_service.evidence.lineage_result import LineageNode, LineageOutcome


def print_lineage(result: VerificationResult) -> None:
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
