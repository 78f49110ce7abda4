"""Shared unit-test fixtures: the composition root over the test's index database (clock
pinned at :data:`NOW`), the services it makes, and registered writers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from ledger_service.queries import AccessLog, RecordQueries
from tests.db.factories import RecordFactory
from tests.db.fixtures import IndexDatabase

#: The services' clock in these fixtures.
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ledger(index_db: IndexDatabase) -> LedgerContext:
    """The composition root over the test's index database, its clock pinned at NOW."""
    return LedgerContext(
        index_db.context.config, engine=index_db.engine, migrate=False, clock=lambda: NOW
    )


@pytest.fixture
def service(ledger: LedgerContext) -> LedgerService:
    return ledger.intake


@pytest.fixture
def queries(ledger: LedgerContext) -> RecordQueries:
    return ledger.records


@pytest.fixture
def access_log(ledger: LedgerContext) -> AccessLog:
    return ledger.access_log


@pytest.fixture
def platform(service: LedgerService) -> RecordFactory:
    factory = RecordFactory("platform")
    service.register_writer("platform", factory.public_key)
    return factory


@pytest.fixture
def bank(service: LedgerService) -> RecordFactory:
    factory = RecordFactory("bank")
    service.register_writer("bank", factory.public_key)
    return factory
