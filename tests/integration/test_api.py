"""The REST API as a real uvicorn server (its own process, loopback, a free port) over a
fresh index and the real network: a writer appends over HTTP, the records are anchored, a
bank fetches evidence that verifies offline, a regulator queries a loan's lineage as of its
decision and gets a lineage bundle that verifies — and every read is in the access log."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from credit_ledger_verify.records.payloads import FinancingEventPayload

from ledger_service.api import ApiKeys
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.evidence import TrustStore, Verifier
from ledger_service.index import sqlite_url
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, enterprise_story
from ledger_service.samples.ledger import AnchoredLedger
from tests.integration.api_process import running_api


@dataclass
class Server:
    url: str
    ledger: AnchoredLedger
    tokens: dict[str, str]
    writer: SampleWriter

    def client(self, role: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=auth, timeout=60)


@pytest.fixture(scope="module")
def server(fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("api")
    config = ServiceConfig(state_dir=Path(fabric_network.state_dir), db_url=sqlite_url(state))
    context = LedgerContext(config, topology=fabric_network)
    writer = SampleWriter(actor=f"api-writer-{os.getpid()}")
    context.intake.register_writer(writer.actor, writer.public_key)
    keys = ApiKeys(context.session_factory)
    tokens = {
        "writer": keys.create(role="writer", org="platform", name="sdk", actors=[writer.actor])[1],
        "verifier": keys.create(role="verifier", org="Example Bank", name="risk")[1],
        "auditor": keys.create(role="auditor", org="regulator", name="inspector")[1],
    }
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    with running_api(state / "api.log", env=env) as url:
        ledger = AnchoredLedger(context=context, writer=writer, records=[])
        yield Server(url, ledger, tokens, writer)


def test_ready_with_the_index_and_the_peer(server: Server) -> None:
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"index": "ok", "fabric": "ok"}


def test_write_anchor_fetch_evidence_and_lineage_over_http(server: Server) -> None:
    tag = f"api{os.getpid()}"
    story = enterprise_story(server.writer, 7, prefix=tag)
    body = {"records": [r.model_dump(mode="json", exclude_none=True) for r in story]}
    with server.client("writer") as writer:
        first = writer.post("/v1/records", json=body)
        assert first.status_code == 200, first.text
        assert {r["status"] for r in first.json()["results"]} == {"created"}
        assert {r["status"] for r in writer.post("/v1/records", json=body).json()["results"]} == {
            "existing"
        }
    server.ledger.anchor(batch_size=64)

    verifier = Verifier(TrustStore.from_topology(server.ledger.topology))
    score = next(r for r in story if r.kind.value == "score_change").record_id
    with server.client("verifier") as bank:
        evidence = bank.post(
            "/v1/evidence", params={"purpose": "loan_review"}, json={"record_ids": [score]}
        )
        assert evidence.status_code == 200, evidence.text
        assert verifier.verify(evidence.content).ok
        refused = bank.get("/v1/lineage/" + score, params={"purpose": "loan_review"})
        assert refused.status_code == 403

    loan = next(r for r in story if isinstance(r.payload, FinancingEventPayload))
    assert isinstance(loan.payload, FinancingEventPayload)
    loan_id = loan.payload.loan_id
    why = {"purpose": "supervision", "purpose_detail": "api integration test"}
    with server.client("auditor") as regulator:
        graph = regulator.get(f"/v1/lineage/{loan_id}", params={**why, "as_of": "decision"})
        assert graph.status_code == 200, graph.text
        assert graph.json()["loan"]["decision"] is not None
        bundle = regulator.post(
            "/v1/evidence/lineage", params=why, json={"start": [loan_id], "as_of": "decision"}
        )
        assert bundle.status_code == 200, bundle.text
        result = verifier.verify(bundle.content)
        assert result.ok, result
        log = regulator.get("/v1/access-log", params={"limit": 50}).json()["items"]
    queries = {(e["query"], e["accessor"].split(" (")[0]) for e in log}
    assert ("evidence", "Example Bank/risk") in queries
    assert ("lineage", "regulator/inspector") in queries
    assert ("lineage_bundle", "regulator/inspector") in queries
