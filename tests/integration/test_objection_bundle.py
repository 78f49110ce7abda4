"""An objection case's file as one evidence bundle, built from a real anchored ledger and
verified offline against the network's org CAs; a mutated case file fails.

Enterprise 0's demo story is written, then (after the decision) its tax data corrected and
an objection case opened on its social-insurance data (samples.data.after_the_decision);
the social-insurance agency then corrects the data and the case is resolved ``corrected``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from credit_ledger_verify.records import DataUpdateRecord, ObjectionRecord, Record
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledger_service.api import ApiKeys, Role, create_app
from ledger_service.cli import app
from ledger_service.evidence import TrustStore, Verifier, build_case_bundle, encode_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import after_the_decision, enterprise_code, enterprise_story
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def case_ledger(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AnchoredLedger, dict[str, Record]]:
    state = tmp_path_factory.mktemp("objection-ledger")
    ledger = make_anchored_ledger(fabric_network, state, count=0, prefix="unused", anchor=False)
    writer, prefix = ledger.writer, f"ob{uuid.uuid4().hex[:8]}"
    ledger.append(enterprise_story(writer, 0, prefix=prefix))
    changes = after_the_decision(writer, 0, prefix=prefix)
    ledger.append(changes)
    opened = changes[1]
    assert opened.disputes is not None
    common = {"subject": enterprise_code(0), "actor": writer.actor}
    now = dt.datetime.now(dt.UTC)
    fix = writer.sign(
        DataUpdateRecord(
            record_id=writer.record_id(prefix, 0, "si-fixed-after-objection"),
            occurred_at=now,
            source="social-insurance-agency",
            supersedes=opened.disputes,
            payload={
                "dataset": "social_insurance",
                "fields_changed": {"arrears_months": 0},
                "source_reference": "SIA-OBJ-FIX",
            },
            **common,
        )
    )
    resolution = writer.sign(
        ObjectionRecord(
            record_id=writer.record_id(prefix, 0, "si-objection-corrected"),
            occurred_at=now,
            source="objection-desk",
            payload={
                "step": "corrected",
                "case": opened.record_id,
                "reason": "the agency confirmed the receipts and corrected the record",
                "correction": fix.record_id,
            },
            **common,
        )
    )
    ledger.append([fix, resolution])
    ledger.anchor(batch_size=4)
    return ledger, {"opened": opened, "fix": fix, "resolution": resolution}


def test_the_case_bundle_verifies_offline_and_a_mutated_one_fails(
    case_ledger: tuple[AnchoredLedger, dict[str, Record]], fabric_network: Topology
) -> None:
    ledger, case = case_ledger
    opened = case["opened"]
    verifier = Verifier(TrustStore.from_topology(fabric_network))
    with ledger.target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, ledger.target.channel)
        bundle = build_case_bundle(
            ledger.session_factory,
            opened.record_id,
            as_of=dt.datetime.now(dt.UTC),
            block_source=reader,
        )
    ids = [r["record_id"] for r in bundle["records"]]
    assert ids == [
        opened.disputes,
        opened.record_id,
        case["fix"].record_id,
        case["resolution"].record_id,
    ]
    result = verifier.verify(encode_bundle(bundle))
    assert result.ok, result.messages
    # the case's links are in the verified, signed content
    resolution = json.loads(bundle["records"][3]["content"])
    assert resolution["payload"]["case"] == opened.record_id
    assert resolution["payload"]["correction"] == case["fix"].record_id

    # rewriting the answer (as a records clerk might) breaks the commitment
    forged = copy.deepcopy(bundle)
    content = json.loads(forged["records"][3]["content"])
    content["payload"]["step"] = "rejected"
    content["payload"].pop("correction")
    forged["records"][3]["content"] = json.dumps(content, separators=(",", ":"), sort_keys=True)
    forged_result = verifier.verify(encode_bundle(forged))
    assert not forged_result.ok
    assert not forged_result.records[3].ok
    assert all(r.ok for r in forged_result.records[:3])


def test_cli_writes_the_case_bundle_and_credit_ledger_verify_accepts_it(
    case_ledger: tuple[AnchoredLedger, dict[str, Record]],
    fabric_network: Topology,
    tmp_path: Path,
) -> None:
    ledger, case = case_ledger
    runner = CliRunner()
    state = ["--state-dir", str(fabric_network.state_dir)]
    trust_dir = tmp_path / "trust"
    assert runner.invoke(app, ["trust", "export", str(trust_dir), *state]).exit_code == 0
    out = tmp_path / "case.json"
    who = ["--purpose", "Art. 25 case file", "--accessor", "regulator:test"]
    command = ["objections", "bundle", case["opened"].record_id, "--out", str(out)]
    result = runner.invoke(app, [*command, "--db", ledger.db_url, *state, *who])
    assert result.exit_code == 0, result.output
    assert "4 record(s)" in result.output
    result = runner.invoke(
        app, ["verify", str(out), "--trust", str(trust_dir)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    logged = {(e.query, e.purpose) for e in ledger.context.access_log.entries()}
    assert ("objection_bundle", "Art. 25 case file") in logged


def test_the_api_serves_the_case_bundle_to_auditors(
    case_ledger: tuple[AnchoredLedger, dict[str, Record]], fabric_network: Topology
) -> None:
    ledger, case = case_ledger
    app = create_app(ledger.context)
    keys: ApiKeys = app.state.api_keys
    _, auditor = keys.create(role=Role.AUDITOR, org="regulator", name="case-files")
    _, bank = keys.create(role=Role.VERIFIER, org="bank", name="risk")
    path = f"/v1/objections/{case['opened'].record_id}/bundle"
    params = {"purpose": "supervision", "purpose_detail": "Art. 25 case file"}
    with TestClient(app) as client:
        answer = client.get(path, params=params, headers={"Authorization": f"Bearer {auditor}"})
        refused = client.get(path, params=params, headers={"Authorization": f"Bearer {bank}"})
    assert answer.status_code == 200, answer.text
    assert refused.status_code == 403
    verifier = Verifier(TrustStore.from_topology(fabric_network))
    result = verifier.verify(encode_bundle(answer.json()))
    assert result.ok, result.messages
    assert len(result.records) == 4
