"""The API in-process (Starlette's TestClient over the ASGI app) on the unit tests' index
(SQLite and PostgreSQL), with one key per role. Nothing here reaches Fabric: evidence of an
unanchored record is refused before any block is read."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ledger_service.api import ApiKeys, ApiSettings, Role, create_app
from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from tests.db.factories import SUBJECT, RecordFactory
from tests.db.fixtures import IndexDatabase
from tests.unit.conftest import NOW

WHY = {"purpose": "supervision", "purpose_detail": "inspection 2026-11"}


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    keys: ApiKeys

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def ledger(index_db: IndexDatabase) -> LedgerContext:
    """Overrides tests/unit/conftest.py's: the service clock ticks a second per reading, so
    each request is recorded after the one before (as-of questions have answers)."""
    ticks = itertools.count()
    return LedgerContext(
        index_db.context.config,
        engine=index_db.engine,
        migrate=False,
        clock=lambda: NOW + timedelta(seconds=next(ticks)),
    )


@pytest.fixture
def api(ledger: LedgerContext) -> Iterator[Api]:
    app = create_app(ledger, ApiSettings(rate=10_000, burst=10_000))
    keys: ApiKeys = app.state.api_keys
    tokens = {}
    for role in Role:
        actors = ["platform"] if role is Role.WRITER else []
        tokens[role.value] = keys.create(
            role=role, org=f"{role.value}-org", name="t", actors=actors
        )[1]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens, keys)


@pytest.fixture
def story(service: LedgerService, platform: RecordFactory) -> list[str]:
    """tax, si → score → approval of loan-1; then tax corrected and si disputed."""
    service.append([platform.data_update("tax"), platform.data_update("si")])
    service.append([platform.score_change("score", parents=["tax", "si"])])
    service.append([platform.financing_event("approve", parents=["score"], event="approval")])
    service.append([platform.data_update("tax2", supersedes="tax")])
    service.append([platform.data_update("objection", disputes="si")])
    return ["tax", "si", "score", "approve", "tax2", "objection"]


__all__ = ["SUBJECT", "WHY", "Api"]
