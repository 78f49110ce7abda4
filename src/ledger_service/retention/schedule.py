"""The scheduled retention run in the worker process: a run for today (China time) on start
and then every ``every`` seconds (daily by default in ``ledgerctl service start``; off
unless asked, so tests that start a worker erase nothing on their own).

A failed run is logged and retried at the next tick; a run is a series of independent
erasures (:mod:`.run`), so a run stopped half-way loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError
from ledger_service.queries.access import AccessLog
from ledger_service.retention.erasure import Erasures
from ledger_service.retention.run import run_retention

__all__ = ["DAILY", "SCHEDULER", "retention_loop", "run_once"]

log = logging.getLogger(__name__)

#: The default interval of the service's scheduled run.
DAILY = 24 * 3600.0
#: ``retention_runs.started_by`` of scheduled runs.
SCHEDULER = "scheduler"


class RetentionSite(Protocol):
    """What a scheduled run needs (``LedgerContext`` has it; retention does not import the
    composition root, which sits above it)."""

    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def erasures(self) -> Erasures: ...

    @property
    def access_log(self) -> AccessLog: ...


def run_once(context: RetentionSite) -> int:
    """One scheduled run for today; the number of records erased."""
    erasures = context.erasures
    result = run_retention(
        context.session_factory, erasures, erasures.today(), started_by=SCHEDULER
    )
    if result.report.expired:
        context.access_log.log_answer(
            accessor=SCHEDULER,
            query="retention",
            purpose="retention: scheduled expiry of negative information (Art. 16)",
            read=[(a.subject, a.record_id) for a in result.report.expired],
        )
    log.info(
        "retention run %d as of %s: erased %d, kept %d, not ended %d",
        result.run_id,
        result.report.as_of,
        len(result.erased),
        result.report.kept,
        result.report.not_ended,
    )
    return len(result.erased)


async def retention_loop(context: RetentionSite, every: float, stop: asyncio.Event) -> None:
    """Run :func:`run_once` now and every ``every`` seconds until ``stop`` is set."""
    if every <= 0:
        raise ValueError(f"the retention interval must be positive, got {every}")
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_once, context)
        except (LedgerError, OSError, RuntimeError) as exc:  # retried at the next tick
            log.error("retention run failed: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
