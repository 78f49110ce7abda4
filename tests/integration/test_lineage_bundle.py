"""Lineage bundles built from a real anchored ledger and verified offline.

One enterprise's lineage story (ledger_service.samples.lineage_story: every edge kind) is
written in two requests — up to the loan's approval, then the rest — so the loan's decision
time lies between them; anchored on the real channel; the `repair` record's content is then
erased. Bundles of the loan (now, as of its decision, to depth 1) and of a record verify
against the network's org CAs with each node's block time; tampering is detected and named;
the CLI builds and verifies them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.evidence.lineage_result import EdgeStatus, LineageCheck
from credit_ledger_verify.records import Record
from typer.testing import CliRunner

from ledger_service.cli import app
from ledger_service.evidence import (
    LINEAGE_BUNDLE_FORMAT,
    TrustStore,
    Verifier,
    build_lineage_bundle,
    encode_bundle,
)
from ledger_service.fabric.blocks import CachingBlockReader, GatewayBlockReader
from ledger_service.ops.topology import Topology
from ledger_service.queries.lineage import LineageGraph, LineageQueryError, lineage_of
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from ledger_service.samples.lineage_story import lineage_story

pytestmark = pytest.mark.fabric

LOAN = "loan-0000000"


@pytest.fixture(scope="module")
def story_ledger(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AnchoredLedger, dict[str, Record], dt.datetime]:
    state = tmp_path_factory.mktemp("lineage-ledger")
    ledger = make_anchored_ledger(fabric_network, state, count=0, prefix="unused", anchor=False)
    story = lineage_story(ledger.writer, 0, prefix=f"lb{uuid.uuid4().hex[:8]}")
    records = list(story.values())
    cut = records.index(story["loan-approve"]) + 1
    ledger.append(records[:cut])
    started = dt.datetime.now(dt.UTC)
    ledger.append(records[cut:])
    ledger.anchor(batch_size=4)
    ledger.service.erase_record_content(story["repair"].record_id)
    return ledger, story, started


@pytest.fixture(scope="module")
def source(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
) -> Iterator[CachingBlockReader]:
    ledger = story_ledger[0]
    with ledger.target.gateway() as gateway:
        yield CachingBlockReader(GatewayBlockReader(gateway, ledger.target.channel))


@pytest.fixture(scope="module")
def verifier(fabric_network: Topology) -> Verifier:
    return Verifier(TrustStore.from_topology(fabric_network))


def _graph(ledger: AnchoredLedger, names: list[str], **options: Any) -> LineageGraph:
    with ledger.session_factory() as session:
        return lineage_of(session, names, **options)


def _ids(story: dict[str, Record], *roles: str) -> set[str]:
    return {story[role].record_id for role in roles}


def test_loan_lineage_bundle_now_verifies_every_edge_kind_and_block_times(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
    source: CachingBlockReader,
    verifier: Verifier,
) -> None:
    ledger, story, _ = story_ledger
    graph = _graph(ledger, [LOAN])
    bundle = build_lineage_bundle(ledger.session_factory, graph, block_source=source)
    assert bundle["format"] == LINEAGE_BUNDLE_FORMAT
    assert "as_of" not in bundle["lineage"]
    assert bundle["lineage"]["loan"]["decision"] == story["loan-approve"].record_id
    events = _ids(story, "loan-apply", "loan-approve", "loan-disburse", "loan-repay")
    assert set(bundle["lineage"]["roots"]) == events
    erased = [r for r in bundle["records"] if "content" not in r]
    assert [r["record_id"] for r in erased] == [story["repair"].record_id]

    result = verifier.verify(encode_bundle(bundle))
    assert result.ok, result.messages
    lineage = result.lineage
    assert lineage is not None
    kinds = {(e.source, e.target, e.kind): e.status for e in lineage.edges}
    fix, si = story["si-fix"].record_id, story["si"].record_id
    objection, score1 = story["objection"].record_id, story["score1"].record_id
    assert kinds[(fix, si, "supersedes")] is EdgeStatus.BACKED
    assert kinds[(objection, score1, "disputes")] is EdgeStatus.BACKED
    repair = story["repair"].record_id
    assert kinds[(repair, si, "derived_from")] is EdgeStatus.UNVERIFIABLE
    # block time: the anchoring transaction's timestamp, after the records were written
    times = {r.record_id: r.block_time for r in result.records}
    assert all(t is not None and t >= story_ledger[2] for rid, t in times.items() if rid in events)
    node = lineage.node(story["loan-repay"].record_id)
    assert node is not None
    assert node.depth == 0


def test_loan_lineage_as_of_decision_leaves_out_what_came_later(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
    source: CachingBlockReader,
    verifier: Verifier,
) -> None:
    ledger, story, _ = story_ledger
    graph = _graph(ledger, [LOAN], as_of="decision")
    assert set(graph.nodes) == _ids(story, "loan-apply", "loan-approve", "score1", "tax", "si")
    bundle = build_lineage_bundle(ledger.session_factory, graph, block_source=source)
    section = bundle["lineage"]
    assert section["as_of"] == section["loan"]["decided_at"]
    assert section["as_of"].endswith("Z")
    result = verifier.verify(encode_bundle(bundle))
    assert result.ok, result.messages
    assert result.lineage is not None
    assert result.lineage.as_of == section["as_of"]


def test_depth_limit_reports_parents_beyond_depth(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
    source: CachingBlockReader,
    verifier: Verifier,
) -> None:
    ledger, story, _ = story_ledger
    graph = _graph(ledger, [f"loan:{LOAN}"], depth=1)
    bundle = build_lineage_bundle(ledger.session_factory, graph, block_source=source)
    result = verifier.verify(encode_bundle(bundle))
    assert result.ok, result.messages
    assert result.lineage is not None
    score3 = result.lineage.node(story["score3"].record_id)
    assert score3 is not None
    assert score3.depth == 1
    assert set(score3.beyond_depth) == _ids(story, "tax", "si-fix", "objection")


def test_record_lineage_bundle_and_tampering_is_named(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
    source: CachingBlockReader,
    verifier: Verifier,
) -> None:
    ledger, story, _ = story_ledger
    score3 = story["score3"].record_id
    graph = _graph(ledger, [f"record:{score3}"])
    assert graph.loan is None
    bundle = build_lineage_bundle(ledger.session_factory, graph, block_source=source)
    assert "loan" not in bundle["lineage"]
    assert verifier.verify(encode_bundle(bundle)).ok

    fix, tax = story["si-fix"].record_id, story["tax"].record_id
    removed = copy.deepcopy(bundle)
    removed["records"] = [r for r in removed["records"] if r["record_id"] != fix]
    result = verifier.verify(encode_bundle(removed))
    assert result.lineage is not None
    (missing,) = result.lineage.problems_of(LineageCheck.COMPLETENESS)
    assert missing.record_id == score3
    assert f'"{fix}": declared, missing' in missing.message

    foreign = copy.deepcopy(bundle)
    foreign["lineage"]["edges"].append({"from": tax, "to": fix, "kind": "derived_from"})
    result = verifier.verify(encode_bundle(foreign))
    assert result.lineage is not None
    (problem,) = result.lineage.problems
    assert problem.edge == (tax, fix, "derived_from")

    swapped = copy.deepcopy(bundle)
    by_id = {r["record_id"]: r for r in swapped["records"]}
    for field in ("content", "salt", "commitment"):
        by_id[score3][field] = by_id[tax][field]
    result = verifier.verify(encode_bundle(swapped))
    assert result.lineage is not None
    assert not result.ok
    edge_sources = {p.edge[0] for p in result.lineage.problems_of(LineageCheck.EDGE) if p.edge}
    assert edge_sources == {score3}


def test_bad_starts_are_refused_naming_the_problem(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
) -> None:
    ledger, story, _ = story_ledger
    with pytest.raises(LineageQueryError, match="decision"):
        _graph(ledger, [story["tax"].record_id], as_of="decision")
    with pytest.raises(LineageQueryError, match="must be the only name"):
        _graph(ledger, [LOAN, story["tax"].record_id])
    with pytest.raises(LineageQueryError, match="neither a record id nor a loan id"):
        _graph(ledger, ["no-such-thing"])


def test_cli_builds_and_verifies_a_lineage_bundle(
    story_ledger: tuple[AnchoredLedger, dict[str, Record], dt.datetime],
    fabric_network: Topology,
    tmp_path: Path,
) -> None:
    ledger = story_ledger[0]
    runner = CliRunner()
    state = ["--state-dir", str(fabric_network.state_dir)]
    trust_dir = tmp_path / "trust"
    assert runner.invoke(app, ["trust", "export", str(trust_dir), *state]).exit_code == 0
    out = tmp_path / "lineage.json"
    db = ["--db", ledger.db_url]
    result = runner.invoke(
        app, ["evidence", LOAN, "--lineage", "--as-of", "decision", "-o", str(out), *db, *state]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_bytes())["format"] == LINEAGE_BUNDLE_FORMAT
    result = runner.invoke(
        app, ["verify", str(out), "--trust", str(trust_dir)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "lineage verified" in result.output
    refused = runner.invoke(app, ["evidence", LOAN, "--lineage", "--redact", *db, *state])
    assert refused.exit_code == 2
    assert "--redact cannot be combined with --lineage" in refused.output
