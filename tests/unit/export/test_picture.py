"""Pictures: DOT source written by `to_dot`, rendered by the real Graphviz `dot`. The SVG
parses as XML with one node element per record, each carrying its record id, and the marks
docs/lineage.md promises (decision, disputed, superseded, erased, not anchored)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ledger_service.export import GraphvizMissing, PictureError, render, to_dot
from ledger_service.export.picture import NODE_ID_PREFIX, short_id
from ledger_service.queries.lineage import Edge, EdgeKind, LineageGraph
from tests.unit.export.graphs import large_graph, loan_story, node

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Quotes, backslashes (a trailing one, Graphviz's own \N escape), XML and entity text.
#: (Record ids and labels never hold line breaks or other control characters.)
ODD_IDS = ['quo"te', "back\\slash", "ends\\", '\\N and \\"', "<b>&amp;</b>", "a&b"]


def svg_nodes(graph: LineageGraph) -> dict[str, ET.Element]:
    """record id → its node's <g> element, from the SVG `dot` drew."""
    root = ET.fromstring(render(graph, "svg"))
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    by_id = {g.get("id", "").removeprefix(NODE_ID_PREFIX): g for g in nodes}
    assert len(by_id) == len(nodes), "two node elements share an id"
    return by_id


def shape(g: ET.Element) -> ET.Element:
    """The node's outline (a rounded box is drawn as a path)."""
    return next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon"))


def texts(g: ET.Element) -> list[str]:
    return [t.text or "" for t in g.iter(f"{SVG}text")]


def test_svg_has_one_node_element_per_record_with_the_decision_highlighted() -> None:
    graph = loan_story()
    nodes = svg_nodes(graph)
    assert set(nodes) == set(graph.nodes)
    widths = {rid: shape(g).get("stroke-width") for rid, g in nodes.items()}
    assert widths["approve"] == "5"  # graph.loan.decision
    assert all(w != "5" for rid, w in widths.items() if rid != "approve")
    assert "DECISION" in texts(nodes["approve"])


def test_svg_marks_disputed_superseded_erased_and_unanchored() -> None:
    nodes = svg_nodes(loan_story())
    disputed = shape(nodes["si"])
    assert disputed.get("stroke") == "#d62728"
    assert disputed.get("stroke-dasharray") == "5,2"  # dashed
    assert "disputed" in texts(nodes["si"])
    assert shape(nodes["tax"]).get("fill") == "#d9d9d9"  # superseded: grey
    struck = [t for t in nodes["tax"].iter(f"{SVG}text") if t.text == "data_update"]
    assert struck[0].get("text-decoration") == "line-through"
    assert shape(nodes["gone"]).get("stroke-dasharray") == "1,5"  # dotted
    assert "erased" in texts(nodes["gone"])
    assert "not anchored" in texts(nodes["tax2"])
    assert "not anchored" not in texts(nodes["score1"])
    # colour by kind
    assert shape(nodes["score1"]).get("fill") == "#fdbf6f"
    assert shape(nodes["tax2"]).get("fill") == "#cab2d6"


def test_edges_are_drawn_old_to_new_and_styled_by_kind() -> None:
    dot = to_dot(loan_story())
    names = {rid: f"n{i}" for i, rid in enumerate(loan_story().nodes)}
    assert f'{names["tax"]} -> {names["score1"]} [color="#555555"]' in dot
    assert f"{names['tax']} -> {names['tax2']} [" in dot
    assert "arrowhead=empty" in dot.split(f"{names['tax']} -> {names['tax2']}")[1].split("\n")[0]
    assert "arrowhead=tee" in dot.split(f"{names['si']} -> {names['objection']}")[1].split("\n")[0]


def odd_graph() -> LineageGraph:
    nodes = [node(rid, "data_update", i, source='src "x" \\') for i, rid in enumerate(ODD_IDS)]
    edges = [Edge(ODD_IDS[i + 1], ODD_IDS[i], EdgeKind.DERIVED_FROM) for i in range(5)]
    return LineageGraph(
        roots=(ODD_IDS[-1],),
        direction="up",
        depth=6,
        as_of=None,
        nodes={n.record_id: n for n in nodes},
        edges=edges,
    )


def test_odd_ids_survive_dot_escaping_exactly() -> None:
    graph = odd_graph()
    dot = to_dot(graph)
    assert '\\\\N and \\\\\\"' in dot  # backslashes doubled, the quote escaped
    nodes = svg_nodes(graph)
    # each node's SVG id is its record id, byte for byte, after dot and an XML parser
    assert set(nodes) == set(ODD_IDS)
    for record_id, g in nodes.items():
        label = "".join(texts(g))
        assert short_id(record_id) in label  # the HTML label, XML-escaped and back
        tooltip = next(g.iter(f"{SVG}a")).get(XLINK_TITLE, "")
        assert tooltip.startswith(record_id + "\n"), (record_id, tooltip)  # the full id
        assert 'source src "x" \\ · actor platform' in tooltip
        assert "data_update · 91110000MA0000001X" in tooltip


def test_a_200_node_graph_renders_with_every_node_and_a_sane_shape() -> None:
    graph = large_graph(200)
    assert len(graph.nodes) == 200
    root = ET.fromstring(render(graph, "svg"))
    assert sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == "node") == 200
    width, height = (float(root.get(a, "0").removesuffix("pt")) for a in ("width", "height"))
    # the data updates are spread over several columns, not one strip thousands of points tall
    assert height / width < 2.5, (width, height)
    assert "minlen=" in to_dot(graph)


def test_png_is_a_png() -> None:
    assert render(loan_story(), "png").startswith(PNG_MAGIC)


def test_missing_graphviz_is_named() -> None:
    with pytest.raises(GraphvizMissing, match=r"Graphviz '/nonexistent/dot' not found") as caught:
        render(loan_story(), "png", dot="/nonexistent/dot")
    assert caught.value.code == "graphviz_missing"
    assert "apt-get install graphviz" in str(caught.value)


def test_a_failing_dot_and_a_bad_format_are_named() -> None:
    with pytest.raises(PictureError, match=r"Graphviz dot failed \(exit 1\)"):
        render(loan_story(), "svg", dot="false")
    with pytest.raises(PictureError, match="got 'gif'") as caught:
        render(loan_story(), "gif")
    assert caught.value.field == "format"
