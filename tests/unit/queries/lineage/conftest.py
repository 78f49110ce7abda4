"""Fixtures of the lineage query tests: a ledger whose clock the test moves (so "as of T"
has something to tell apart), and a small story with a decision, a correction and an
objection. Records go in through the real intake, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from ledger_service.queries.lineage import EdgeKind, LineageGraph
from tests.db.factories import RecordFactory
from tests.db.fixtures import IndexDatabase

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, hours: int) -> datetime:
        self.now = T0 + timedelta(hours=hours)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(index_db: IndexDatabase, clock: Clock) -> LedgerContext:
    """Overrides tests/unit/conftest.py's: the clock moves (conftest's `service` and
    `platform` build on this one)."""
    return LedgerContext(
        index_db.context.config, engine=index_db.engine, migrate=False, clock=clock
    )


@pytest.fixture
def session(ledger: LedgerContext) -> Iterator[Session]:
    with ledger.session_factory() as s:
        yield s


def depths(graph: LineageGraph) -> dict[str, int]:
    return {rid: node.depth for rid, node in graph.nodes.items()}


def derived(graph: LineageGraph) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges if e.kind is EdgeKind.DERIVED_FROM}


@pytest.fixture
def story(service: LedgerService, platform: RecordFactory, clock: Clock) -> dict[str, datetime]:
    """tax, si -> score1 -> approval (hour 1-2); a correction of tax and an objection to si
    (hour 3); a new score on the corrected data (hour 4). Returns the hours' times."""
    times = {"data": clock.at(1)}
    service.append([platform.data_update("tax"), platform.data_update("si")])
    service.append([platform.score_change("score1", parents=["tax", "si"])])
    times["decision"] = clock.at(2)
    service.append([platform.financing_event("approve", parents=["score1"], event="approval")])
    times["corrected"] = clock.at(3)
    service.append([platform.data_update("tax2", supersedes="tax")])
    service.append([platform.data_update("objection", disputes="si")])
    times["rescored"] = clock.at(4)
    service.append([platform.score_change("score2", parents=["tax2", "si"])])
    return times


@pytest.fixture
def loans(service: LedgerService, platform: RecordFactory, clock: Clock) -> dict[str, datetime]:
    """Loan L1 applied for (hour 1) and approved (hour 2) on score1; tax corrected and si disputed
    (hour 3); L1 disbursed and score2 computed (hour 4); loan L2 applied for and rejected on
    score2 (hour 5); loan L3 applied for only (hour 6)."""
    times = {"data": clock.at(1)}
    service.append([platform.data_update("tax"), platform.data_update("si")])
    service.append([platform.score_change("score1", parents=["tax", "si"])])
    fe = platform.financing_event
    service.append([fe("apply1", parents=["score1"], event="application", loan_id="L1")])
    times["decision"] = clock.at(2)
    service.append([fe("approve1", parents=["score1", "apply1"], event="approval", loan_id="L1")])
    times["changed"] = clock.at(3)
    service.append([platform.data_update("tax2", supersedes="tax")])
    service.append([platform.data_update("objection", disputes="si")])
    times["disbursed"] = clock.at(4)
    service.append([fe("disburse1", parents=["approve1"], loan_id="L1")])
    service.append([platform.score_change("score2", parents=["tax2", "si"])])
    times["rejected"] = clock.at(5)
    service.append([fe("apply2", parents=["score2"], event="application", loan_id="L2")])
    service.append([fe("reject2", parents=["score2", "apply2"], event="rejection", loan_id="L2")])
    clock.at(6)
    service.append([fe("apply3", parents=["score2"], event="application", loan_id="L3")])
    return times
