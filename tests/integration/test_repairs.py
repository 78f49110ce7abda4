"""A credit-repair case anchored on the real channel: the repairs report's line for it names
the committed block of every step, each step (and the score change the approval names)
verifies offline against the network's org CAs, and `ledgerctl repairs report` prints the
blocks (docs/regulation.md "Credit repair")."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from credit_ledger_verify.records import Record
from typer.testing import CliRunner

from ledger_service.cli import app
from ledger_service.evidence import TrustStore, Verifier, build_bundle, encode_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.ops.topology import Topology
from ledger_service.queries.repairs import repair_report
from ledger_service.queries.visibility import Audience, RepairView
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from ledger_service.samples.repair_case import repair_case

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def ledger(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AnchoredLedger, list[list[Record]]]:
    """Two enterprise stories, then enterprise 1's repair case in three requests; anchored."""
    state = tmp_path_factory.mktemp("repairs")
    prefix = f"r{uuid.uuid4().hex[:8]}"
    ledger = make_anchored_ledger(fabric_network, state, count=18, prefix=prefix, anchor=False)
    case = repair_case(ledger.writer, 1, prefix=prefix)
    for request in case:
        ledger.append(request)
    ledger.anchor(batch_size=8)
    return ledger, case


def test_each_line_is_backed_by_anchored_records_that_verify_offline(
    ledger: tuple[AnchoredLedger, list[list[Record]]], fabric_network: Topology
) -> None:
    anchored, case = ledger
    court, submitted = case[0]
    with anchored.session_factory() as session:
        report = repair_report(session)
        assert RepairView(Audience.BANK).hidden(session, [court.record_id]) == {court.record_id}
    assert report.counts["approved"] == 1
    (line,) = report.cases
    assert line.case_id == submitted.record_id
    assert [s.status for s in line.steps] == ["submitted", "verified", "approved"]
    for step in line.steps:
        assert step.anchor is not None
        assert step.anchor.batch_state == "committed"
        assert step.anchor.block_number is not None
    assert line.score_change is not None
    ids = [s.record_id for s in line.steps] + [line.score_change]
    with anchored.target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, anchored.target.channel)
        bundle = build_bundle(anchored.session_factory, ids, block_source=reader)
    result = Verifier(TrustStore.from_topology(fabric_network)).verify(encode_bundle(bundle))
    assert result.ok, result.messages
    assert sorted(r.record_id for r in result.records) == sorted(ids)


def test_the_cli_report_prints_the_blocks(
    ledger: tuple[AnchoredLedger, list[list[Record]]], tmp_path: Path
) -> None:
    anchored, _ = ledger
    args = ["repairs", "report", "--state-dir", str(tmp_path), "--db", anchored.db_url]
    result = CliRunner().invoke(app, [*args, "--purpose", "supervision: repair report"])
    assert result.exit_code == 0, result.output
    assert "approved: 1" in result.output
    assert "@ block " in result.output
    assert "@ pending" not in result.output
