"""A lineage graph as a picture: Graphviz DOT source written here, SVG/PNG rendered by ``dot``.

Conventions (docs/lineage.md "Pictures"): left to right in the order the ledger learned
things — every edge is drawn from the older record to the newer one (what was relied on →
what relied on it; corrected → correction; disputed → objection). Fill colour by kind;
disputed: red dashed border; superseded: grey, kind struck through; erased: dotted border
and "erased" or "expired" with the rule and date of its erasure record; not yet anchored:
"not anchored" in italics; the loan's decision: thick border and "DECISION". The legend is
the graph's own label (an HTML table), so the SVG has exactly one node element per record.
Labels are short (kind, short id, date); the tooltip carries the full id, subject and status.

DOT node names are ``n0``, ``n1``, … so no record id has to survive DOT's quoting rules for
names; ids appear in ``id`` and ``tooltip`` strings and in HTML labels, each escaped for
what Graphviz does to it (:func:`esc`, :func:`_tip`, :func:`_h`), so an id with quotes,
backslashes or ``\\N`` comes out of the SVG exactly as it went in.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import ClassVar, Final

from ledger_service.errors import LedgerError
from ledger_service.queries.lineage import EdgeKind, LineageGraph, Node

__all__ = [
    "DEFAULT_TIMEOUT",
    "KIND_COLOURS",
    "NODE_ID_PREFIX",
    "PICTURE_FORMATS",
    "GraphvizMissing",
    "PictureError",
    "render",
    "to_dot",
]

PICTURE_FORMATS: Final = ("svg", "png")
#: Seconds ``dot`` may take; a 200-node graph renders in well under one.
DEFAULT_TIMEOUT: Final = 120.0
#: Each node's ``id`` in the SVG is this prefix + its record id.
NODE_ID_PREFIX: Final = "record:"

#: Fill colour per record kind (ColorBrewer "Paired" light tones: tell apart in print too).
KIND_COLOURS: Final = {
    "data_update": "#a6cee3",
    "score_change": "#fdbf6f",
    "financing_event": "#b2df8a",
    "credit_repair": "#cab2d6",
    "objection": "#fb9a99",
}
_OTHER_KIND = "#eeeeee"
_SUPERSEDED_FILL = "#d9d9d9"
_DISPUTED = "#d62728"
_DECISION = "#08306b"
_EDGE_STYLES: Final = {
    EdgeKind.DERIVED_FROM: 'color="#555555"',
    EdgeKind.SUPERSEDES: 'color="#7f7f7f", style=dashed, arrowhead=empty',
    EdgeKind.DISPUTES: f'color="{_DISPUTED}", style=dashed, arrowhead=tee, penwidth=1.5',
}
_ID_SHORT = 14
#: Large graphs: leaves per column before they are spread over more (at most _MAX_STAGGER).
_LEAVES_PER_COLUMN = 35
_MAX_STAGGER = 6


class PictureError(LedgerError):
    """A picture could not be made (bad format, ``dot`` failed or timed out)."""

    code: ClassVar[str] = "picture_failed"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class GraphvizMissing(PictureError):
    """Graphviz's ``dot`` is not installed (or not at the path given)."""

    code: ClassVar[str] = "graphviz_missing"


def esc(text: str) -> str:
    """``text`` inside a DOT double-quoted string attribute such as ``id``: Graphviz reads
    ``\\\\`` as a backslash and ``\\"`` as a quote (and ``\\N`` etc. as its own escapes), and
    decodes HTML entities — so backslashes are doubled, quotes escaped, ``&`` → ``&amp;``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def _tip(lines: list[str]) -> str:
    """Lines inside a DOT ``tooltip``: Graphviz reads its escapes there twice (measured with
    Graphviz 2.43: ``\\\\N`` comes out as the node name), so each backslash is written as
    four; lines are joined by DOT's ``\\n``."""
    return "\\n".join(
        line.replace("\\", "\\\\\\\\").replace('"', '\\"').replace("&", "&amp;") for line in lines
    )


def _h(text: str) -> str:
    """``text`` inside an HTML-like label: XML-escaped, and backslashes doubled (Graphviz
    reads ``\\N`` and the like even there)."""
    return html.escape(text, quote=True).replace("\\", "\\\\")


def short_id(record_id: str) -> str:
    if len(record_id) <= _ID_SHORT:
        return record_id
    return f"{record_id[:7]}…{record_id[-6:]}"


def _status(node: Node) -> list[str]:
    flags = []
    if node.disputed:
        flags.append("disputed")
    mark = node.objection
    if mark is not None:
        flags.append(f"objection case {mark.case}: {mark.status}, due {mark.deadline.isoformat()}")
    if node.superseded_by is not None:
        flags.append(f"superseded by {node.superseded_by}")
    if node.erased_label is not None:
        flags.append(node.erased_label)
    flags.append(
        "not anchored"
        if node.anchor is None
        else f"block {node.anchor.block_number}, batch {node.anchor.batch_id}"
    )
    return flags


def _node_line(name: str, node: Node, decision: bool) -> str:
    kind = _h(node.kind)
    if node.superseded_by is not None:
        kind = f"<S>{kind}</S>"
    lines = [f"<B>{kind}</B>", _h(short_id(node.record_id)), node.occurred_at.strftime("%Y-%m-%d")]
    if node.loan_event is not None:
        lines[0] += f" {_h(node.loan_event)}"
    if decision:
        lines.insert(0, "<B>DECISION</B>")
    if node.disputed:
        lines.append(f'<FONT COLOR="{_DISPUTED}"><B>disputed</B></FONT>')
    if node.superseded_by is not None:
        lines.append(f"superseded → {_h(short_id(node.superseded_by))}")
    if node.erased_label is not None:
        lines.append(f"<I>{_h(node.erased_label)}</I>")
    if node.anchor is None:
        lines.append("<I>not anchored</I>")
    style = ["rounded", "filled"]
    if node.disputed:
        style.append("dashed")
    elif node.erased:
        style.append("dotted")
    fill = KIND_COLOURS.get(node.kind, _OTHER_KIND)
    attributes = [
        f"label=<{'<BR/>'.join(lines)}>",
        f'id="{esc(NODE_ID_PREFIX + node.record_id)}"',
        f'tooltip="{_tip(_tooltip(node))}"',
        f'style="{",".join(style)}"',
        f'fillcolor="{_SUPERSEDED_FILL if node.superseded_by is not None else fill}"',
    ]
    if node.superseded_by is not None:
        attributes.append('fontcolor="#555555"')
    if node.disputed:
        attributes.append(f'color="{_DISPUTED}", penwidth=2.5')
    if decision:
        attributes.append(f"penwidth=5{'' if node.disputed else f', color={_q(_DECISION)}'}")
    return f"  {name} [{', '.join(attributes)}];"


def _q(text: str) -> str:
    return f'"{esc(text)}"'


def _tooltip(node: Node) -> list[str]:
    parts = [
        node.record_id,
        f"{node.kind} · {node.subject}",
        f"occurred {node.occurred_at.isoformat()} · recorded {node.recorded_at.isoformat()}",
        f"source {node.source} · actor {node.actor}",
    ]
    if node.loan_id is not None:
        parts.append(f"loan {node.loan_id} ({node.loan_event})")
    parts.extend(_status(node))
    return parts


def _legend(graph: LineageGraph) -> str:
    """The legend (and the title) as the graph's HTML label: no extra node elements."""
    what = "impact of" if graph.direction == "down" else "lineage of"
    start = f"loan {graph.loan.loan_id}" if graph.loan is not None else ", ".join(graph.roots)
    title = f"{what} {start} (depth {graph.depth})"
    if graph.as_of is not None:
        title += f" as of {graph.as_of.isoformat()}"
    title += f" · {len(graph.nodes)} records, {len(graph.edges)} edges"
    if graph.truncated:
        title += " · TRUNCATED at the node limit"
    kinds = "".join(
        f'<TD BGCOLOR="{colour}">{_h(kind)}</TD>' for kind, colour in KIND_COLOURS.items()
    )
    marks = (
        f'<TD BGCOLOR="{_SUPERSEDED_FILL}"><S>superseded</S> (grey)</TD>'
        f'<TD><FONT COLOR="{_DISPUTED}">disputed: red dashed border</FONT></TD>'
        "<TD>erased: dotted border</TD>"
        "<TD><I>not anchored</I>: no block yet</TD>"
        "<TD><B>DECISION</B>: thick border</TD>"
    )
    arrows = (
        '<TD COLSPAN="5" ALIGN="LEFT">arrows: relied on → relying record (solid); '
        "corrected → correction (grey dashed, open head); "
        f'<FONT COLOR="{_DISPUTED}">disputed → objection (red dashed, bar head)</FONT></TD>'
    )
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="4">'
        f'<TR><TD COLSPAN="5" ALIGN="LEFT"><B>{_h(title)}</B></TD></TR>'
        f'<TR>{kinds}<TD BGCOLOR="{_OTHER_KIND}">other kinds</TD></TR>'
        f"<TR>{marks}</TR><TR>{arrows}</TR></TABLE>>"
    )


def to_dot(graph: LineageGraph) -> str:
    """The graph as Graphviz DOT source (see the module docstring for the conventions)."""
    names = {record_id: f"n{i}" for i, record_id in enumerate(graph.nodes)}
    decision = graph.loan.decision if graph.loan is not None else None
    large = len(graph.nodes) > 60
    lines = [
        "digraph lineage {",
        "  graph [rankdir=LR, labelloc=t, labeljust=l, fontname=Helvetica, fontsize=12,"
        f" nodesep={0.12 if large else 0.25}, ranksep={1.2 if large else 0.6},"
        f' concentrate={"true" if large else "false"}, tooltip="lineage",'
        f" label={_legend(graph)}];",
        '  node [shape=box, fontname=Helvetica, fontsize=10, margin="0.08,0.03"];',
        "  edge [arrowsize=0.7];",
    ]
    for record_id, node in graph.nodes.items():
        lines.append(_node_line(names[record_id], node, record_id == decision))
    drawn = [
        (names[edge.target], names[edge.source], edge.kind)
        for edge in graph.edges
        if edge.target in names and edge.source in names  # both ends in the graph
    ]
    minlen = _staggered(drawn) if large else {}
    for older, newer, kind in drawn:
        stagger = minlen.get(older)
        extra = f", minlen={stagger}" if stagger is not None and stagger > 1 else ""
        lines.append(f"  {older} -> {newer} [{_EDGE_STYLES[kind]}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _staggered(drawn: list[tuple[str, str, EdgeKind]]) -> dict[str, int]:
    """Leaf name -> its edges' minimum length, cycling 1..k (what Graphviz's ``unflatten -l``
    does): a lineage's many data updates would otherwise stand in one column thousands of
    pixels tall; spread over k columns the picture keeps a readable aspect ratio."""
    has_older = {newer for _, newer, _ in drawn}
    leaves = list(dict.fromkeys(older for older, _, _ in drawn if older not in has_older))
    columns = min(_MAX_STAGGER, -(-len(leaves) // _LEAVES_PER_COLUMN))
    return {leaf: 1 + i % columns for i, leaf in enumerate(leaves)} if columns > 1 else {}


def render(
    graph: LineageGraph,
    fmt: str,
    *,
    dot: str = "dot",
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """The graph drawn by Graphviz as ``svg`` or ``png`` bytes.

    Raises :class:`GraphvizMissing` when ``dot`` cannot be found, :class:`PictureError` for
    another format, a failing ``dot`` (its message included) or one slower than ``timeout``.
    """
    if fmt not in PICTURE_FORMATS:
        raise PictureError(
            f"picture format must be one of {', '.join(PICTURE_FORMATS)}, got {fmt!r}",
            field="format",
        )
    program = shutil.which(dot)
    if program is None:
        raise GraphvizMissing(
            f"Graphviz {dot!r} not found: install it (Debian: apt-get install graphviz) "
            f"to draw {fmt} pictures, or export dot / prov-json / json instead",
            field="dot",
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=to_dot(graph).encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PictureError(
            f"Graphviz dot took longer than {timeout:g} s for {len(graph.nodes)} nodes: "
            "narrow the depth or export dot and render it elsewhere"
        ) from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise PictureError(f"Graphviz dot failed (exit {done.returncode}): {message}")
    return done.stdout
