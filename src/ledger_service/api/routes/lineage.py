"""Lineage (up/down, depth, as of a time or a loan's decision; JSON, PROV-JSON, DOT, SVG,
PNG), the diff since a time, impact, a subject's timeline, disputed/superseded listings and
the access log — auditors only, each read with its purpose logged (docs/lineage.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ledger_service.api.deps import Caller, Context, log_read, view_of
from ledger_service.api.params import (
    AsOfQuery,
    Cursor,
    DepthQuery,
    LimitQuery,
    as_of_time,
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    parse_as_of,
)
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.api.purpose import PurposeDetail, PurposeParam, declared_purpose
from ledger_service.export import render, to_dot, to_prov_json
from ledger_service.queries.lineage import (
    DEFAULT_DEPTH,
    DEFAULT_IMPACT_DEPTH,
    LineageGraph,
    diff_to_json,
    flagged,
    graph_to_json,
    impact,
    impact_to_json,
    lineage_of,
    lineage_since,
    node_to_json,
    timeline,
)

router = APIRouter(prefix="/v1", tags=["lineage"], responses=PROBLEM_RESPONSES)

ExportFormat = Literal["json", "prov-json", "dot", "svg", "png"]
_MEDIA = {
    "prov-json": "application/json",
    "dot": "text/vnd.graphviz",
    "svg": "image/svg+xml",
    "png": "image/png",
}


def _read_graph(graph: LineageGraph) -> list[tuple[str | None, str | None]]:
    return [(n.subject, graph.roots[0]) for n in graph.nodes.values()]


@router.get(
    "/lineage/{name}",
    name="lineage",
    summary="A loan's or a record's lineage, upstream or downstream, as of a time or decision",
    responses={
        200: {
            "content": {
                "application/json": {},
                "image/svg+xml": {},
                "image/png": {},
                "text/vnd.graphviz": {},
            }
        }
    },
)
def lineage(
    name: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    direction: Literal["up", "down"] = "up",
    depth: DepthQuery = DEFAULT_DEPTH,
    as_of: AsOfQuery = None,
    format: ExportFormat = "json",
) -> Any:
    why = declared_purpose(purpose, purpose_detail)
    when = parse_as_of(as_of)
    with context.session_factory() as session:
        graph = lineage_of(session, [name], down=direction == "down", depth=depth, as_of=when)
        graph = view_of(caller).graph(session, graph)
    log_read(context, caller, what="lineage", purpose=why, read=_read_graph(graph))
    if format == "json":
        return graph_to_json(graph)
    if format == "prov-json":
        data: bytes | str = to_prov_json(graph)
    elif format == "dot":
        data = to_dot(graph)
    else:
        data = render(graph, format)
    return Response(data, media_type=_MEDIA[format])


@router.get(
    "/lineage/{name}/diff",
    name="lineage_diff",
    summary="The lineage now and what changed since a time or the loan's decision",
)
def lineage_diff(
    name: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    as_of: Annotated[str, Query(description="A time with zone, or 'decision'.")],
    purpose_detail: PurposeDetail = None,
    depth: DepthQuery = DEFAULT_DEPTH,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = parse_as_of(as_of)
    view = view_of(caller)
    with context.session_factory() as session:
        answer = lineage_since(
            session,
            when,
            lambda at: view.graph(session, lineage_of(session, [name], depth=depth, as_of=at)),
        )
    log_read(context, caller, what="lineage", purpose=why, read=_read_graph(answer.now))
    return diff_to_json(answer)


@router.get(
    "/impact/{record_id}",
    name="impact",
    summary="Scores and loans that relied on a record; was each loan decided before a change?",
)
def impact_route(
    record_id: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    depth: DepthQuery = DEFAULT_IMPACT_DEPTH,
    as_of: AsOfQuery = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of, "as_of")
    with context.session_factory() as session:
        hit = impact(session, record_id, depth=depth, as_of=when)
        hit = replace(hit, graph=view_of(caller).graph(session, hit.graph))
    log_read(context, caller, what="impact", purpose=why, read=_read_graph(hit.graph))
    return impact_to_json(hit)


def _page(nodes: list[Any], limit: int) -> dict[str, Any]:
    more = len(nodes) > limit
    nodes = nodes[:limit]
    last = nodes[-1] if nodes and more else None
    return {
        "items": [node_to_json(n) for n in nodes],
        "next_cursor": None
        if last is None
        else encode_cursor([last.occurred_at.isoformat(), last.record_id]),
    }


@router.get(
    "/subjects/{subject}/timeline",
    name="timeline",
    summary="One enterprise's records by time (cursor-paginated)",
)
def timeline_route(
    subject: str,
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    purpose_detail: PurposeDetail = None,
    kind: Annotated[list[str] | None, Query()] = None,
    as_of: AsOfQuery = None,
    limit: LimitQuery = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of, "as_of")
    with context.session_factory() as session:
        nodes = timeline(
            session,
            subject,
            kinds=kind or [],
            as_of=when,
            limit=limit + 1,
            after=decode_time_cursor(cursor),
        )
        nodes = view_of(caller).nodes(session, nodes, when)
    log_read(context, caller, what="timeline", purpose=why, read=[(subject, None)])
    return _page(nodes, limit)


@router.get(
    "/records",
    name="flagged_records",
    summary="Disputed or superseded records, optionally of one enterprise (cursor-paginated)",
)
def flagged_records(
    context: Context,
    caller: Caller,
    purpose: PurposeParam,
    flag: Literal["disputed", "superseded"],
    purpose_detail: PurposeDetail = None,
    subject: str | None = None,
    as_of: AsOfQuery = None,
    limit: LimitQuery = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    why = declared_purpose(purpose, purpose_detail)
    when = as_of_time(as_of, "as_of")
    with context.session_factory() as session:
        nodes = flagged(
            session,
            flag,
            subject=subject,
            as_of=when,
            limit=limit + 1,
            after=decode_time_cursor(cursor),
        )
        nodes = view_of(caller).nodes(session, nodes, when)
    log_read(
        context, caller, what=flag, purpose=why, read=[(n.subject, n.record_id) for n in nodes]
    )
    return _page(nodes, limit)


@router.get(
    "/access-log",
    name="access_log",
    summary="Who read which enterprise's data, why and when (newest first, cursor-paginated)",
)
def access_log(
    context: Context,
    caller: Caller,
    subject: str | None = None,
    accessor: str | None = None,
    key_id: Annotated[str | None, Query(description="Only this API key's reads.")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 time with zone.")] = None,
    limit: LimitQuery = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    position = decode_cursor(cursor, items=1)
    before = None if position is None else int(position[0])
    entries = context.access_log.entries(
        subject=subject,
        accessor=accessor,
        key_id=key_id,
        since=as_of_time(since, "since"),
        limit=limit + 1,
        before_id=before,
    )
    more = len(entries) > limit
    entries = entries[:limit]
    return {
        "items": [
            {
                "id": e.entry_id,
                "accessed_at": e.accessed_at.isoformat(),
                "accessor": e.accessor,
                "subject": e.subject,
                "record_id": e.record_id,
                "query": e.query,
                "purpose": e.purpose,
                "request_id": e.request_id,
            }
            for e in entries
        ],
        "next_cursor": encode_cursor([entries[-1].entry_id]) if more and entries else None,
    }
