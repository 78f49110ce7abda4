"""PROV-JSON: what `to_prov_json` writes, read back by the `prov` package's own reader, is the
same graph — nodes with every attribute, edges of every kind, the query and the loan — and
the PROV statements say what docs/lineage.md's mapping table says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from prov.model import ProvDocument

from ledger_service.export import ProvReadError, read_prov_json, to_prov_json
from ledger_service.queries.lineage import CaseMark, Edge, EdgeKind, LineageGraph
from tests.unit.export.graphs import T0, large_graph, loan_story, node


def odd_names() -> LineageGraph:
    """Ids and labels PROV qualified names cannot hold as they are."""
    nodes = [
        node('a "quoted" id', "data_update", 1, source="税务局 Beijing", actor="bank/desk 7"),
        node("back\\slash\\", "score_change", 2, depth=1, source="100% sure", actor="a:b"),
        node("percent%20id", "mystery_kind", 3, depth=2, source="x", actor="y"),
    ]
    return LineageGraph(
        roots=("percent%20id",),
        direction="down",
        depth=2,
        as_of=T0 + timedelta(days=1),
        nodes={n.record_id: n for n in nodes},
        edges=[
            Edge("back\\slash\\", 'a "quoted" id', EdgeKind.DERIVED_FROM),
            Edge("percent%20id", "back\\slash\\", EdgeKind.DISPUTES),
        ],
        truncated=True,
    )


def assert_same_graph(back: LineageGraph, graph: LineageGraph) -> None:
    assert back.nodes == graph.nodes  # every attribute of every node, anchors included
    # PROV-JSON groups relations by type: the same edges, not necessarily in the same order
    assert sorted(back.edges, key=repr) == sorted(graph.edges, key=repr)
    assert (back.roots, back.direction, back.depth, back.as_of, back.truncated, back.loan) == (
        graph.roots,
        graph.direction,
        graph.depth,
        graph.as_of,
        graph.truncated,
        graph.loan,
    )


@pytest.mark.parametrize("build", [loan_story, large_graph, odd_names])
def test_prov_json_read_back_by_prov_is_the_same_graph(build: object) -> None:
    graph = build()  # type: ignore[operator]
    assert_same_graph(read_prov_json(to_prov_json(graph)), graph)


def test_the_story_has_every_status_it_claims() -> None:
    """So the round trip above covers superseded, disputed, erased and unanchored nodes."""
    nodes = loan_story().nodes
    assert nodes["tax"].superseded_by == "tax2"
    assert nodes["si"].disputed
    assert nodes["gone"].erased
    assert nodes["tax2"].anchor is None
    assert nodes["approve"].anchor is not None


def _statements(graph: LineageGraph) -> dict[str, list[dict[str, object]]]:
    """Each PROV-JSON section as a list of its statements' attributes (via prov's reader,
    then its writer, so the test sees PROV as prov understands it)."""
    doc = ProvDocument.deserialize(content=to_prov_json(graph), format="json")
    text = doc.serialize(format="json")
    assert isinstance(text, str)
    sections = json.loads(text)
    out: dict[str, list[dict[str, object]]] = {}
    for section, body in sections.items():
        if section != "prefix":
            out[section] = [{"id": key, **value} for key, value in body.items()]
    return out


def _pairs(statements: list[dict[str, object]], a: str, b: str) -> set[tuple[object, object]]:
    return {(s[a], s[b]) for s in statements}


def test_prov_statements_follow_the_mapping() -> None:
    prov = _statements(loan_story())
    entities = {e["id"] for e in prov["entity"]}
    assert {"rec:approve", "rec:score1", "rec:tax", "lineage:query"} <= entities
    agents = {a["id"] for a in prov["agent"]}
    assert {
        "actor:platform",
        "actor:bank",
        "source:tax%20bureau%20%E7%A8%8E%E5%8A%A1%E5%B1%80",
    } <= (agents)
    activities = {a["id"] for a in prov["activity"]}
    # score computations and financing decisions are activities; data updates are not
    assert activities == {"compute:score1", "decide:approve", "decide:apply"}
    generated = _pairs(prov["wasGeneratedBy"], "prov:entity", "prov:activity")
    assert generated == {
        ("rec:score1", "compute:score1"),
        ("rec:approve", "decide:approve"),
        ("rec:apply", "decide:apply"),
    }
    used = _pairs(prov["used"], "prov:activity", "prov:entity")
    assert used == {
        ("decide:approve", "rec:score1"),
        ("decide:approve", "rec:apply"),
        ("decide:apply", "rec:score1"),
        ("compute:score1", "rec:tax"),
        ("compute:score1", "rec:si"),
        ("compute:score1", "rec:gone"),
    }
    associated = _pairs(prov["wasAssociatedWith"], "prov:activity", "prov:agent")
    assert ("compute:score1", "actor:platform") in associated
    attributed = _pairs(prov["wasAttributedTo"], "prov:entity", "prov:agent")
    assert ("rec:objection", "actor:bank") in attributed
    assert ("rec:objection", "source:bank%20desk") in attributed
    derivations = prov["wasDerivedFrom"]
    plain = {
        (d["prov:generatedEntity"], d["prov:usedEntity"], d.get("prov:activity"))
        for d in derivations
        if "prov:type" not in d
    }
    assert ("rec:score1", "rec:tax", "compute:score1") in plain
    assert len(plain) == 6
    revisions = [d for d in derivations if "prov:type" in d]
    assert [(r["prov:generatedEntity"], r["prov:usedEntity"]) for r in revisions] == [
        ("rec:tax2", "rec:tax")
    ]
    assert revisions[0]["prov:type"] == {"$": "prov:Revision", "type": "xsd:QName"}
    (influence,) = prov["wasInfluencedBy"]
    assert (influence["prov:influencee"], influence["prov:influencer"]) == (
        "rec:objection",
        "rec:si",
    )
    assert influence["prov:type"]["$"] == "ledger:disputes"  # type: ignore[index]


def test_entity_attributes_carry_status_and_anchor() -> None:
    entities = {e["id"]: e for e in _statements(loan_story())["entity"]}
    tax, si, gone, tax2 = (entities[f"rec:{k}"] for k in ("tax", "si", "gone", "tax2"))
    assert tax["ledger:superseded_by"] == "tax2"
    assert si["ledger:disputed"] is True
    assert gone["ledger:erased"] is True
    assert tax2["ledger:anchored"] is False
    assert "ledger:block_number" not in tax2
    assert tax["ledger:block_number"] == {"$": "7", "type": "xsd:int"}
    assert tax["ledger:tx_id"] == f"{7:064x}"
    assert entities["rec:approve"]["ledger:loan_id"] == "L-1"
    assert entities["rec:approve"]["ledger:loan_event"] == "approval"
    assert "commitment" not in json.dumps(entities)  # not in the graph, so not exported


def test_a_document_missing_an_attribute_is_refused_by_name() -> None:
    text = to_prov_json(loan_story())
    broken = json.loads(text)
    del broken["entity"]["rec:si"]["ledger:kind"]
    with pytest.raises(ProvReadError, match=r"record 'si' has no ledger:kind") as caught:
        read_prov_json(json.dumps(broken))
    assert caught.value.record_id == "si"
    assert caught.value.code == "prov_read_failed"


def test_a_record_without_its_writer_is_refused() -> None:
    broken = json.loads(to_prov_json(loan_story()))
    broken["wasAttributedTo"] = {
        k: v
        for k, v in broken["wasAttributedTo"].items()
        if (v["prov:entity"], v["prov:agent"]) != ("rec:tax", "actor:platform")
    }
    with pytest.raises(ProvReadError, match=r"record 'tax' is attributed to 0 actor agents"):
        read_prov_json(json.dumps(broken))


def test_not_prov_json_is_refused() -> None:
    with pytest.raises(ProvReadError, match="not PROV-JSON"):
        read_prov_json("[1, 2")
    with pytest.raises(ProvReadError, match="one ledger:LineageQuery entity, found 0"):
        read_prov_json(json.dumps({"entity": {}}))


def test_an_attribute_of_the_wrong_type_is_refused() -> None:
    broken = json.loads(to_prov_json(loan_story()))
    broken["entity"]["rec:si"]["ledger:disputed"] = "yes"
    with pytest.raises(ProvReadError, match=r"ledger:disputed is str, not bool"):
        read_prov_json(json.dumps(broken))


def test_a_changed_node_does_not_compare_equal() -> None:
    """The comparison the round-trip test relies on does see a difference."""
    graph = loan_story()
    back = read_prov_json(to_prov_json(graph))
    back.nodes["si"] = replace(back.nodes["si"], disputed=False)
    assert back.nodes != graph.nodes


def test_an_objection_case_mark_survives_the_round_trip() -> None:
    graph = loan_story()
    (rid, first) = next(iter(graph.nodes.items()))
    open_mark = CaseMark("case-1", "open", T0, date(2026, 1, 26), None, None)
    resolved = CaseMark("case-2", "rejected", T0, date(2026, 1, 26), "res-2", T0 + timedelta(1))
    for mark in (open_mark, resolved):
        graph.nodes[rid] = replace(first, objection=mark)
        back = read_prov_json(to_prov_json(graph))
        assert back.nodes[rid].objection == mark
