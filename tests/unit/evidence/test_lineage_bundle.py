"""Lineage bundles verified offline (tests/data/evidence/lineage/, captured from a real
network by scripts/regen_lineage_data.py): what is reported per node and edge, and that a
removed node, a foreign edge and a swapped content are named — which node, which edge, which
check. Record indexes: tests/data/evidence/README.md."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.evidence.lineage_result import EdgeStatus, LineageCheck
from credit_ledger_verify.evidence.lineage_shape import LineageSection, parse_lineage_section
from typer.testing import CliRunner

from ledger_service.cli import app
from ledger_service.evidence import LINEAGE_BUNDLE_FORMAT, TrustStore, Verifier

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence" / "lineage"
SCORE1, TAX, SI, SI_FIX, REPAIR = 4, 6, 7, 8, 10


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "bundle.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(TrustStore.load(DATA / "trust"))


def _id(bundle: dict[str, Any], index: int) -> str:
    record_id: str = bundle["records"][index]["record_id"]
    return record_id


def test_the_golden_lineage_bundle_verifies_with_block_times(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    assert bundle["format"] == LINEAGE_BUNDLE_FORMAT
    result = verifier.verify(json.dumps(bundle).encode())
    assert result.ok, result.messages
    lineage = result.lineage
    assert lineage is not None
    assert lineage.loan_id == "loan-0000000"
    assert [n.record_id for n in lineage.nodes] == [r["record_id"] for r in bundle["records"]]
    assert {n.depth for n in lineage.nodes} == {0, 1, 2, 3}
    for outcome in result.records:
        assert outcome.block_time is not None
        assert outcome.block_time.tzinfo is not None
    report = result.as_dict()
    assert report["records"][0]["block_time"].endswith("Z")
    assert report["lineage"]["ok"] is True
    assert len(report["lineage"]["edges"]) == len(bundle["lineage"]["edges"])


def test_an_erased_node_cannot_back_its_edge_and_the_report_says_so(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    result = verifier.verify(json.dumps(bundle).encode())
    assert result.lineage is not None
    repair = _id(bundle, REPAIR)
    node = result.lineage.node(repair)
    assert node is not None
    assert node.erased
    assert node.kind is None
    assert (node.edges_unverifiable, node.edges_backed, node.edges_failed) == (1, 0, 0)
    (edge,) = [e for e in result.lineage.edges if e.source == repair]
    assert edge.status is EdgeStatus.UNVERIFIABLE
    assert "erased" in edge.detail
    assert any(
        n.record_id == repair and "cannot be backed" in n.detail for n in result.lineage.notes
    )
    backed = [e for e in result.lineage.edges if e.source != repair]
    assert all(e.status is EdgeStatus.BACKED for e in backed)


def test_a_removed_node_is_named_with_the_record_that_declares_it(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    si, score1 = _id(bundle, SI), _id(bundle, SCORE1)
    forged = copy.deepcopy(bundle)
    del forged["records"][SI]
    forged["lineage"]["edges"] = [
        e for e in forged["lineage"]["edges"] if si not in (e["from"], e["to"])
    ]
    result = verifier.verify(json.dumps(forged).encode())
    assert not result.ok
    assert result.lineage is not None
    missing = result.lineage.problems_of(LineageCheck.COMPLETENESS)
    assert [p.record_id for p in missing] == [score1]
    assert f'"{si}": declared, missing' in missing[0].message
    node = result.lineage.node(score1)
    assert node is not None
    assert node.missing == (si,)
    assert all(r.ok for r in result.records)  # each node's own evidence is fine


def test_an_edge_not_in_the_signed_content_is_named(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    tax, si = _id(bundle, TAX), _id(bundle, SI)
    forged = copy.deepcopy(bundle)
    forged["lineage"]["edges"].append({"from": tax, "to": si, "kind": "derived_from"})
    result = verifier.verify(json.dumps(forged).encode())
    assert result.lineage is not None
    (problem,) = result.lineage.problems
    assert problem.check is LineageCheck.EDGE
    assert problem.edge == (tax, si, "derived_from")
    assert problem.record_id == tax
    assert problem.message.startswith(f'lineage (edge): edge "{tax}" -derived_from-> "{si}"')


def test_a_swapped_content_is_named_by_step_1_and_by_the_edges_it_can_no_longer_back(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    score1 = _id(bundle, SCORE1)
    forged = copy.deepcopy(bundle)
    for field in ("content", "salt", "commitment"):
        forged["records"][SCORE1][field] = bundle["records"][SCORE1 + 1][field]
    result = verifier.verify(json.dumps(forged).encode())
    assert result.records[SCORE1].failure is not None
    assert result.records[SCORE1].message.startswith(f'step 1 (content): record "{score1}"')
    assert result.lineage is not None
    edge_problems = result.lineage.problems_of(LineageCheck.EDGE)
    assert {p.edge[0] for p in edge_problems if p.edge} == {score1}
    assert len(edge_problems) == 2  # its parents: the tax and social-insurance updates


def test_nodes_at_the_depth_limit_report_parents_beyond_depth_without_failing(
    bundle: dict[str, Any], verifier: Verifier
) -> None:
    """The bundle a depth-2 walk gives: the erased repair (depth 3) and its edges are gone;
    the correction at depth 2 still declares it — beyond depth, informational."""
    repair, fix = _id(bundle, REPAIR), _id(bundle, SI_FIX)
    shallow = copy.deepcopy(bundle)
    shallow["lineage"]["depth"] = 2
    del shallow["records"][REPAIR]
    shallow["lineage"]["edges"] = [
        e for e in shallow["lineage"]["edges"] if repair not in (e["from"], e["to"])
    ]
    result = verifier.verify(json.dumps(shallow).encode())
    assert result.ok, result.messages
    assert result.lineage is not None
    node = result.lineage.node(fix)
    assert node is not None
    assert node.beyond_depth == (repair,)
    assert any("beyond depth" in n.detail and n.record_id == fix for n in result.lineage.notes)
    # the same bundle claiming depth 3 is missing the repair
    shallow["lineage"]["depth"] = 3
    deeper = verifier.verify(json.dumps(shallow).encode())
    assert deeper.lineage is not None
    assert [p.record_id for p in deeper.lineage.problems] == [fix]


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"roots": [], "depth": 1, "truncated": False, "edges": []}, "lineage.roots"),
        ({"roots": ["a"], "depth": 51, "truncated": False, "edges": []}, "lineage.depth"),
        ({"roots": ["a"], "depth": 1, "truncated": 0, "edges": []}, "lineage.truncated"),
        ({"roots": ["a"], "depth": 1, "truncated": False}, "lineage.edges"),
        (
            {"roots": ["a"], "depth": 1, "truncated": False, "edges": [], "as_of": "2026-01-05"},
            "lineage.as_of",
        ),
        (
            {"roots": ["a"], "depth": 1, "truncated": False, "edges": [{"from": "a", "to": "a"}]},
            "lineage.edges[0].kind",
        ),
        (
            {
                "roots": ["a"],
                "depth": 1,
                "truncated": False,
                "edges": [],
                "loan": {"loan_id": "l", "events": ["a"], "decision": "a"},
            },
            "lineage.loan.decision",
        ),
    ],
)
def test_the_lineage_section_is_refused_naming_the_field(
    section: dict[str, Any], field: str
) -> None:
    problem = parse_lineage_section(section)
    assert not isinstance(problem, LineageSection)
    assert problem.field == field, problem


def test_verify_cli_prints_the_lineage_table_and_names_a_forged_edge(
    bundle: dict[str, Any], tmp_path: Path
) -> None:
    good = tmp_path / "lineage.json"
    good.write_text(json.dumps(bundle))
    runner = CliRunner()
    ok = runner.invoke(
        app, ["verify", str(good), "--trust", str(DATA / "trust")], env={"COLUMNS": "220"}
    )
    assert ok.exit_code == 0, ok.output
    for text in (
        "lineage of loan loan-0000000",
        "block time",
        "edges ok",
        "(decision)",
        "lineage verified",
    ):
        assert text in ok.output, ok.output
    forged = copy.deepcopy(bundle)
    tax, si = _id(bundle, TAX), _id(bundle, SI)
    forged["lineage"]["edges"].append({"from": tax, "to": si, "kind": "derived_from"})
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    failed = runner.invoke(app, ["verify", str(bad), "--trust", str(DATA / "trust"), "--json"])
    assert failed.exit_code == 1
    report = json.loads(failed.output)
    (problem,) = report["bundles"][0]["lineage"]["problems"]
    assert problem["check"] == "edge"
    assert problem["edge"] == {"from": tax, "to": si, "kind": "derived_from"}


def test_the_lineage_checks_fail_closed(
    bundle: dict[str, Any], verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credit_ledger_verify.evidence import lineage_checks

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(lineage_checks, "check_lineage", broken)
    result = verifier.verify(json.dumps(bundle).encode())
    assert not result.ok
    assert result.lineage is not None
    (problem,) = result.lineage.problems
    assert problem.check is LineageCheck.ERROR
    assert "RuntimeError: boom" in problem.message
