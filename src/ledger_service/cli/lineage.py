"""`ledgerctl lineage`, `ledgerctl timeline`: lineage walks and a subject's timeline, read from
the index (docs/lineage.md). Tables for people, `--format json` for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.cli._lineage_output import LineageFormat, OutFile, check_output, emit
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.queries.lineage import (
    DEFAULT_DEPTH,
    LineageGraph,
    LineageQueryError,
    Node,
    downstream,
    node_to_json,
    timeline,
    upstream,
)

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The index as it stood at this time (ISO 8601 with a zone, e.g. "
        "2026-01-05T09:00:00+08:00); default: now.",
    ),
]
Format = Annotated[str, typer.Option("--format", help="table or json")]
T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
    app.command("timeline")(timeline_cmd)


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not an ISO 8601 time", code=2)
    if value.tzinfo is None:
        fail(f"--as-of {text!r} has no time zone (add Z or +08:00)", code=2)
    return value.astimezone(UTC)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        fail(f"--format must be 'table' or 'json', got {fmt!r}", code=2)


def lineage(
    record_ids: Annotated[list[str], typer.Argument(help="Records to start from.")],
    state_dir: StateDir,
    db_url: DbUrl = None,
    down: Annotated[
        bool, typer.Option("--down", help="Downstream impact instead of upstream lineage.")
    ] = False,
    depth: Annotated[int, typer.Option(help="Edges to follow.")] = DEFAULT_DEPTH,
    as_of: AsOf = None,
    fmt: LineageFormat = "table",
    out: OutFile = None,
) -> None:
    """What the records derived from (default) or what derived from them (--down): a table,
    or an export (json, prov-json, dot, svg, png) to stdout or --out."""
    check_output(fmt, out)
    when = _as_of(as_of)
    walk = downstream if down else upstream
    graph = _read(
        state_dir, db_url, lambda session: walk(session, record_ids, depth=depth, as_of=when)
    )
    if fmt != "table":
        emit(graph, fmt, out)
        return
    _print_graph(graph)


def timeline_cmd(
    subject: Annotated[str, typer.Argument(help="The enterprise's unified social credit code.")],
    state_dir: StateDir,
    db_url: DbUrl = None,
    kind: Annotated[list[str], typer.Option("--kind", help="Only these kinds.")] = [],  # noqa: B006
    as_of: AsOf = None,
    fmt: Format = "table",
) -> None:
    """One enterprise's records in the order they occurred."""
    _check_format(fmt)
    when = _as_of(as_of)
    nodes = _read(
        state_dir, db_url, lambda session: timeline(session, subject, kinds=kind, as_of=when)
    )
    if fmt == "json":
        json.dump([node_to_json(n) for n in nodes], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    table = _node_table(f"timeline of {subject}" + _when(when), show_depth=False)
    for node in nodes:
        _add_row(table, node, show_depth=False)
    console.print(table)
    console.print(f"{len(nodes)} record(s)")


def _read(state_dir: Path, db_url: str | None, query: Callable[[Session], T]) -> T:
    """Run one read against the index; bad queries exit 2, an unreachable index exits 1."""
    try:
        config = ServiceConfig.from_env(state_dir, db_url)
        with LedgerContext(config) as context, context.session_factory() as session:
            return query(session)
    except LineageQueryError as exc:
        fail(str(exc), code=2)
    except SQLAlchemyError as exc:
        fail(f"index database: {exc}")


def _when(as_of: datetime | None) -> str:
    return "" if as_of is None else f" as of {as_of.isoformat()}"


def _node_table(title: str, *, show_depth: bool) -> Table:
    table = Table(title=title)
    if show_depth:
        table.add_column("depth", justify="right")
    for name in ("record", "kind", "occurred", "source", "status", "block"):
        table.add_column(name, overflow="fold")
    return table


def _add_row(table: Table, node: Node, *, show_depth: bool) -> None:
    status = [
        flag
        for flag, on in (
            ("disputed", node.disputed),
            (f"superseded by {node.superseded_by}", node.superseded_by is not None),
            ("erased", node.erased),
        )
        if on
    ]
    block = "—" if node.anchor is None else str(node.anchor.block_number)
    cells = [
        node.record_id,
        node.kind,
        node.occurred_at.isoformat(timespec="seconds"),
        node.source,
        ", ".join(status) or "ok",
        block,
    ]
    table.add_row(*([str(node.depth)] if show_depth else []), *cells)


def _print_graph(graph: LineageGraph) -> None:
    what = "impact of" if graph.direction == "down" else "lineage of"
    title = f"{what} {', '.join(graph.roots)} (depth {graph.depth}){_when(graph.as_of)}"
    table = _node_table(title, show_depth=True)
    for node in graph.nodes.values():
        _add_row(table, node, show_depth=True)
    console.print(table)
    console.print(f"{len(graph.nodes)} record(s), {len(graph.edges)} edge(s)")
    if graph.truncated:
        console.print("[yellow]truncated at the node limit: narrow the depth[/]")
