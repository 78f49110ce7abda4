"""The worker's scheduled retention run: a run for today on start, then every interval
until stopped; started_by "scheduler"; a bad interval refused."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from ledger_service.context import LedgerContext
from ledger_service.retention.listings import erasures, retention_runs
from ledger_service.retention.schedule import SCHEDULER, retention_loop
from tests.unit.retention.conftest import Clock, on

pytestmark = pytest.mark.usefixtures("negatives")


def test_the_scheduled_run_erases_what_expired_by_today(
    ledger: LedgerContext, clock: Clock
) -> None:
    clock.now = on(date(2025, 3, 1))

    async def two_ticks() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(retention_loop(ledger, 0.05, stop))
        await asyncio.sleep(0.5)
        stop.set()
        await task

    asyncio.run(two_ticks())
    with ledger.session_factory() as session:
        runs = retention_runs(session)
        erased = sorted(e.record_id for e in erasures(session))
    assert len(runs) >= 2
    assert {r.started_by for r in runs} == {SCHEDULER}
    assert {r.as_of for r in runs} == {date(2025, 3, 1)}
    assert sum(r.erased for r in runs) == 2  # the later runs erase nothing twice
    assert erased == ["j1", "od1"]
    logged = ledger.access_log.entries(limit=10)
    assert {e.accessor for e in logged} == {SCHEDULER}


def test_a_non_positive_interval_is_refused(ledger: LedgerContext) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        asyncio.run(retention_loop(ledger, 0, asyncio.Event()))
