"""A global log over a hand-built chain mirror, its checkpoints signed with a real log key,
served by the API in-process; witnesses talk to it through the SDK's real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from credit_ledger_client import Client, RetryPolicy
from credit_ledger_verify.tlog import SignerKey, VerifierKey
from fastapi.testclient import TestClient

from ledger_service.api import ApiKeys, ApiSettings, create_app
from ledger_service.context import LedgerContext
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.tlog.checkpoints import (
    StoredCheckpoint,
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)
from ledger_service.tlog.witnesses import register_witness
from ledger_service.witness import WitnessDir
from tests.db.fixtures import IndexDatabase
from tests.unit.test_global_log import _mirror_batch

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
ORIGIN = platform_origin("ledger", "ledger")


class _ThroughTestClient(httpx.BaseTransport):
    """Hands the SDK's requests to the app in-process (Starlette's TestClient, no socket)."""

    def __init__(self, client: TestClient) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self._client.request(
            request.method, str(request.url), headers=request.headers, content=request.read()
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@dataclass
class LogHarness:
    ledger: LedgerContext
    http: TestClient
    keys: ApiKeys
    log_key: SignerKey
    tmp: Path
    block: int = 0
    clients: list[Client] = field(default_factory=list)

    def grow(self, leaves: int) -> StoredCheckpoint:
        """Mirror one more batch of ``leaves`` and issue the checkpoint of the new size."""
        self.block += 1
        _mirror_batch(self.ledger.session_factory, f"b{self.block}", self.block, 0, leaves)
        with write_session(self.ledger.session_factory) as session:
            return issue_checkpoint(session, self.log_key, NOW)

    def token(self, role: str, name: str) -> str:
        actors = ["platform"] if role == "writer" else []
        return self.keys.create(role=role, org=f"{name}-org", name=name, actors=actors)[1]

    def client(self, role: str, name: str) -> Client:
        client = Client(
            base_url="http://testserver",
            api_key=self.token(role, name),
            transport=_ThroughTestClient(self.http),
            retries=RetryPolicy(attempts=1),
        )
        self.clients.append(client)
        return client

    def new_witness(self, name: str, *, register: bool = True) -> tuple[WitnessDir, Client]:
        """A witness initialised in its own directory (registered unless told not to), and
        an SDK client with a witness API key of its name."""
        directory = WitnessDir(self.tmp / "witness" / name)
        verifier = directory.init(name, self.log_key.verifier)
        if register:
            self.register(verifier)
        return directory, self.client("witness", name)

    def register(self, verifier: VerifierKey) -> None:
        with write_session(self.ledger.session_factory) as session:
            register_witness(session, verifier.encode(), NOW)


@pytest.fixture
def harness(index_db: IndexDatabase, tmp_path: Path) -> Iterator[LogHarness]:
    topology = Topology(state_dir=str(tmp_path), base_port=0)  # only its channel/chaincode
    ledger = LedgerContext(
        index_db.context.config, engine=index_db.engine, migrate=False, topology=topology
    )
    app = create_app(ledger, ApiSettings(rate=10_000, burst=10_000))
    log_key = load_or_create_log_key(tmp_path, ORIGIN)
    with TestClient(app, raise_server_exceptions=False) as http:
        harness = LogHarness(ledger, http, app.state.api_keys, log_key, tmp_path)
        yield harness
        for client in harness.clients:
            client.close()
