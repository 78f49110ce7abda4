"""`ledgerctl lineage`, `ledgerctl impact`: a loan's or record's lineage (upstream, or
downstream with --down), as of a time or a loan's decision, with what changed since; and the
impact of a record on scores and loans (docs/lineage.md). Every answer is logged with the
declared purpose. Tables for people, `--format json` for programs."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from ledger_service.cli._common import DbUrl, StateDir, fail
from ledger_service.cli._lineage_output import LineageFormat, OutFile, check_output, emit
from ledger_service.cli._lineage_tables import print_changes, print_graph, print_impact
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
from ledger_service.queries.lineage import (
    DEFAULT_DEPTH,
    DEFAULT_IMPACT_DEPTH,
    AsOf,
    Impact,
    LineageDiff,
    LineageGraph,
    diff_to_json,
    impact,
    impact_to_json,
    lineage_of,
    lineage_since,
)

Depth = Annotated[int, typer.Option(help="Edges to follow.")]


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
    app.command("impact")(impact_cmd)


def lineage(
    names: Annotated[
        list[str],
        typer.Argument(
            help="A loan id or record ids to start from (write loan:ID / record:ID if an id "
            "is both).",
            metavar="LOAN_OR_RECORD...",
        ),
    ],
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    down: Annotated[
        bool, typer.Option("--down", help="Downstream impact instead of upstream lineage.")
    ] = False,
    depth: Depth = DEFAULT_DEPTH,
    as_of: AsOfOption = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Also show what changed between --as-of and now.")
    ] = False,
    fmt: LineageFormat = "table",
    out: OutFile = None,
) -> None:
    """What a loan or records relied on (default) or what relied on them (--down), as of a
    time or the loan's decision, and what changed since (--diff): a table, or an export
    (json, prov-json, dot, svg, png) to stdout or --out."""
    check_output(fmt, out)
    when = parse_as_of(as_of, decision_allowed=True)
    if diff and when is None:
        fail("--diff compares --as-of with now: give --as-of", code=2)
    if diff and (fmt not in ("table", "json") or out is not None):
        fail("--diff prints a table or --format json to stdout", code=2)

    def walk(session: Session, at: AsOf) -> LineageGraph:
        graph = lineage_of(session, names, down=down, depth=depth, as_of=at)
        return CLI_VIEW.graph(session, graph)

    if diff:

        def query(session: Session) -> LineageDiff:
            return lineage_since(session, when, lambda at: walk(session, at))

        answer = read_index(
            state_dir,
            db_url,
            query,
            what="lineage",
            purpose=purpose,
            accessor=accessor,
            read=lambda d: _read_by(d.now),
        )
        if fmt == "json":
            print_json(diff_to_json(answer))
            return
        print_graph(answer.now)
        assert answer.then.as_of is not None
        print_changes(answer.changes, answer.then.as_of)
        return

    graph = read_index(
        state_dir,
        db_url,
        lambda session: walk(session, when),
        what="lineage",
        purpose=purpose,
        accessor=accessor,
        read=_read_by,
    )
    if fmt != "table":
        emit(graph, fmt, out)
        return
    print_graph(graph)


def impact_cmd(
    record_id: Annotated[str, typer.Argument(help="The record whose impact to show.")],
    purpose: Purpose,
    state_dir: StateDir,
    db_url: DbUrl = None,
    accessor: Accessor = None,
    depth: Depth = DEFAULT_IMPACT_DEPTH,
    as_of: AsOfOption = None,
    fmt: Format = "table",
) -> None:
    """Every score and loan that relied on a record, and whether each loan was decided
    before the record was disputed or corrected."""
    check_format(fmt)
    when = as_time(parse_as_of(as_of))
    hit = read_index(
        state_dir,
        db_url,
        lambda session: _marked(session, impact(session, record_id, depth=depth, as_of=when)),
        what="impact",
        purpose=purpose,
        accessor=accessor,
        read=lambda h: _read_by(h.graph),
    )
    if fmt == "json":
        print_json(impact_to_json(hit))
        return
    print_impact(hit)


def _read_by(graph: LineageGraph) -> list[tuple[str | None, str | None]]:
    """One access-log entry per enterprise in the answer, naming the start record."""
    return [(node.subject, graph.roots[0]) for node in graph.nodes.values()]


def _marked(session: Session, hit: Impact) -> Impact:
    return replace(hit, graph=CLI_VIEW.graph(session, hit.graph))
