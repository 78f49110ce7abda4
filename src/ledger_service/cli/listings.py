"""`ledgerctl timeline`, `disputed`, `superseded`, `anchor`: an enterprise's records in time
order, the flagged records, and where records sit on chain — read from the index, as of a
time, each answer logged with its declared purpose (docs/lineage.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import DbUrl, StateDir, console
from ledger_service.cli._lineage_tables import add_row, node_table, when
from ledger_service.cli._reads import (
    CLI_VIEW,
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
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.queries.lineage import (
    DEFAULT_NODE_LIMIT,
    Flag,
    Node,
    flagged,
    node_to_json,
    timeline,
    upstream,
)

Limit = Annotated[int, typer.Option(help="At most this many records.")]


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline_cmd)
    app.command("disputed")(disputed_cmd)
    app.command("superseded")(superseded_cmd)
    app.command("anchor")(anchor_cmd)
    app.command("access-report")(access_report)


def timeline_cmd(
    subject: Annotated[str, typer.Argument(help="The enterprise's unified social credit code.")],
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    kind: Annotated[list[str], typer.Option("--kind", help="Only these kinds.")] = [],  # noqa: B006
    as_of: AsOfOption = None,
    limit: Limit = DEFAULT_NODE_LIMIT,
    fmt: Format = "table",
) -> None:
    """One enterprise's records in the order they occurred."""
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    nodes = read_index(
        state_dir,
        db_url,
        lambda session: CLI_VIEW.nodes(
            session, timeline(session, subject, kinds=kind, as_of=at, limit=limit), at
        ),
        what="timeline",
        purpose=purpose,
        accessor=accessor,
        read=lambda found: [(subject, None)],
    )
    _show(nodes, f"timeline of {subject}{when(at)}", fmt)


def _flagged(
    flag: Flag,
    purpose: str,
    state_dir: StateDir,
    db_url: str | None,
    accessor: str | None,
    subject: str | None,
    as_of: str | None,
    limit: int,
    fmt: str,
) -> None:
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    nodes = read_index(
        state_dir,
        db_url,
        lambda session: CLI_VIEW.nodes(
            session, flagged(session, flag, subject=subject, as_of=at, limit=limit), at
        ),
        what=flag,
        purpose=purpose,
        accessor=accessor,
        read=lambda found: [(n.subject, n.record_id) for n in found],
    )
    where = f" of {subject}" if subject else ""
    _show(nodes, f"{flag} records{where}{when(at)}", fmt)


Subject = Annotated[str | None, typer.Option("--subject", help="Only this enterprise's.")]


def disputed_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    subject: Subject = None,
    as_of: AsOfOption = None,
    limit: Limit = DEFAULT_NODE_LIMIT,
    fmt: Format = "table",
) -> None:
    """Records with an objection open (recorded and not resolved by --as-of, default now)."""
    _flagged("disputed", purpose, state_dir, db_url, accessor, subject, as_of, limit, fmt)


def superseded_cmd(
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    subject: Subject = None,
    as_of: AsOfOption = None,
    limit: Limit = DEFAULT_NODE_LIMIT,
    fmt: Format = "table",
) -> None:
    """Records corrected by a later record (by --as-of, default now)."""
    _flagged("superseded", purpose, state_dir, db_url, accessor, subject, as_of, limit, fmt)


def anchor_cmd(
    record_ids: Annotated[list[str], typer.Argument(help="Records to locate on chain.")],
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """Where records sit on chain: batch, leaf, transaction, block, commit time."""
    check_format(fmt)
    at = as_time(parse_as_of(as_of))
    graph = read_index(
        state_dir,
        db_url,
        lambda session: upstream(session, record_ids, depth=0, as_of=at),
        what="anchor",
        purpose=purpose,
        accessor=accessor,
        read=lambda g: [(n.subject, n.record_id) for n in g.nodes.values()],
    )
    nodes = [graph.nodes[rid] for rid in graph.roots]
    if fmt == "json":
        print_json([node_to_json(n) for n in nodes])
        return
    table = Table(title=f"on chain{when(at)}")
    for name in ("record", "batch", "leaf", "tx", "block", "committed"):
        table.add_column(name, overflow="fold")
    for node in nodes:
        a = node.anchor
        if a is None:
            table.add_row(node.record_id, "not anchored yet", "—", "—", "—", "—")
            continue
        committed = "—" if a.committed_at is None else a.committed_at.isoformat(timespec="seconds")
        table.add_row(
            node.record_id, a.batch_id, str(a.leaf_index), a.tx_id, str(a.block_number), committed
        )
    console.print(table)


def _show(nodes: list[Node], title: str, fmt: str) -> None:
    if fmt == "json":
        print_json([node_to_json(n) for n in nodes])
        return
    table = node_table(title, show_depth=False)
    for node in nodes:
        add_row(table, node, show_depth=False)
    console.print(table)
    console.print(f"{len(nodes)} record(s)")


def access_report(
    subject: Annotated[str, typer.Argument(help="The enterprise's unified social credit code.")],
    state_dir: StateDir,
    db_url: DbUrl = None,
    since: Annotated[
        str | None, typer.Option(help="Only reads at or after this time (ISO 8601 with zone).")
    ] = None,
    limit: Limit = 1000,
    fmt: Format = "table",
) -> None:
    """Who read an enterprise's data, why and when (newest first): the access log."""
    check_format(fmt)
    after = as_time(parse_as_of(since))
    config = ServiceConfig.from_env(state_dir, db_url)
    with LedgerContext(config) as context:
        entries = context.access_log.entries(subject=subject, since=after, limit=limit)
    if fmt == "json":
        print_json(
            [
                {
                    "accessed_at": e.accessed_at.isoformat(),
                    "accessor": e.accessor,
                    "query": e.query,
                    "record_id": e.record_id,
                    "purpose": e.purpose,
                    "request_id": e.request_id,
                }
                for e in entries
            ]
        )
        return
    table = Table(title=f"who read {subject}'s data")
    for name in ("when", "who", "what", "record", "purpose", "request"):
        table.add_column(name, overflow="fold")
    for e in entries:
        table.add_row(
            e.accessed_at.isoformat(timespec="seconds"),
            e.accessor,
            e.query,
            e.record_id or "—",
            e.purpose,
            e.request_id or "—",
        )
    console.print(table)
    console.print(f"{len(entries)} read(s)")
