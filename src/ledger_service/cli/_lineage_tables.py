"""Rich tables of the lineage answers: nodes, graphs, the diff since T, impact."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from ledger_service.cli._common import console
from ledger_service.queries.lineage import Change, ChangeKind, Impact, LineageGraph, Node


def short_time(value: datetime) -> str:
    """Minutes, UTC: what a table needs (JSON keeps the full time)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def when(as_of: datetime | None) -> str:
    return "" if as_of is None else f" as of {as_of.isoformat()}"


def node_table(title: str, *, show_depth: bool) -> Table:
    table = Table(title=title)
    if show_depth:
        table.add_column("depth", justify="right")
    for name in ("record", "kind", "occurred", "source", "status", "block"):
        table.add_column(name, overflow="fold")
    return table


def status_of(node: Node) -> str:
    flags = [
        flag
        for flag, on in (
            ("disputed", node.disputed),
            (f"superseded by {node.superseded_by}", node.superseded_by is not None),
            (node.erased_label or "erased", node.erased),
        )
        if on
    ]
    return ", ".join(flags) or "ok"


def add_row(table: Table, node: Node, *, show_depth: bool, decision: str | None = None) -> None:
    block = "—" if node.anchor is None else str(node.anchor.block_number)
    kind = node.kind if node.loan_event is None else f"{node.kind} ({node.loan_event})"
    record = node.record_id if node.record_id != decision else f"[bold]{node.record_id}[/] ◆"
    cells = [
        record,
        kind,
        short_time(node.occurred_at),
        node.source,
        status_of(node),
        block,
    ]
    table.add_row(*([str(node.depth)] if show_depth else []), *cells)


def print_graph(graph: LineageGraph) -> None:
    what = "impact of" if graph.direction == "down" else "lineage of"
    start = f"loan {graph.loan.loan_id}" if graph.loan else ", ".join(graph.roots)
    title = f"{what} {start} (depth {graph.depth}){when(graph.as_of)}"
    decision = graph.loan.decision if graph.loan else None
    table = node_table(title, show_depth=True)
    for node in graph.nodes.values():
        add_row(table, node, show_depth=True, decision=decision)
    console.print(table)
    console.print(f"{len(graph.nodes)} record(s), {len(graph.edges)} edge(s)")
    if graph.loan is not None:
        loan = graph.loan
        decided = (
            f"decided by {loan.decision} ◆, recorded {loan.decided_at.isoformat()}"
            if loan.decision and loan.decided_at
            else "no decision recorded yet"
        )
        console.print(f"loan {loan.loan_id}: {len(loan.events)} event(s), {decided}")
    disputed = sum(n.disputed for n in graph.nodes.values())
    superseded = sum(n.superseded_by is not None for n in graph.nodes.values())
    if disputed or superseded:
        console.print(f"[yellow]{disputed} disputed, {superseded} superseded[/]")
    if graph.truncated:
        console.print("[yellow]truncated at the node limit: narrow the depth[/]")


def print_changes(changes: list[Change], as_of: datetime) -> None:
    """The changes that alter what the lineage says in a table; anchoring (the chain catching
    up with the index, normally seconds after T) in one line below it."""
    anchored = [c for c in changes if c.kind is ChangeKind.ANCHORED]
    shown = [c for c in changes if c.kind is not ChangeKind.ANCHORED]
    table = Table(title=f"changes since {as_of.isoformat()}")
    for name in ("record", "change", "by", "at"):
        table.add_column(name, overflow="fold")
    for change in shown:
        at = "—" if change.at is None else change.at.isoformat(timespec="seconds")
        table.add_row(change.record_id, change.kind.value, change.by or "—", at)
    if shown:
        console.print(table)
    console.print(f"{len(shown)} change(s)" if shown else "nothing changed since then")
    if anchored:
        console.print(f"{len(anchored)} record(s) anchored on chain since then")


def print_impact(hit: Impact) -> None:
    print_graph(hit.graph)
    for change in hit.changes:
        at = "—" if change.at is None else change.at.isoformat(timespec="seconds")
        console.print(f"{hit.record_id} {change.kind.value} by {change.by} at {at}")
    table = Table(title=f"loans that relied on {hit.record_id}")
    for name in ("loan", "events", "decision", "decided", "relied on it before the change"):
        table.add_column(name, overflow="fold")
    for loan in hit.loans:
        relied = {True: "[red]yes[/]", False: "no", None: "—"}[loan.decided_before_change]
        decided = "—" if loan.decided_at is None else loan.decided_at.isoformat(timespec="seconds")
        table.add_row(loan.loan_id, ", ".join(loan.events), loan.decision or "—", decided, relied)
    console.print(table)
    console.print(f"{len(hit.scores)} score(s), {len(hit.loans)} loan(s) relied on it")
