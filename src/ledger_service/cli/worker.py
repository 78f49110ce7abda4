"""`ledgerctl worker`: run the anchoring worker on its own."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from ledger_service.anchoring import WorkerSettings
from ledger_service.cli._common import StateDir, console, run_or_fail
from ledger_service.context import LedgerContext
from ledger_service.retention.schedule import retention_loop


def worker(
    state_dir: StateDir,
    db_url: Annotated[
        str | None, typer.Option(envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Records per batch (one Fabric transaction).")
    ] = 4096,
    linger: Annotated[
        float, typer.Option(help="Seconds a record may wait for a fuller batch.")
    ] = 0.2,
    max_in_flight: Annotated[int, typer.Option(help="Batches in flight at once.")] = 4,
    drain: Annotated[bool, typer.Option(help="Exit once nothing is pending or in flight.")] = False,
    timeout: Annotated[
        float, typer.Option(help="With --drain: give up after this many seconds.")
    ] = 600,
    retention_every: Annotated[
        float,
        typer.Option(
            envvar="LEDGER_RETENTION_EVERY",
            help="Also run the retention run (erase expired negative records) on start and "
            "every this many seconds; 0: never (not with --drain).",
        ),
    ] = 0,
) -> None:
    """Anchor pending records: Merkle batches, one Fabric transaction each, exactly once."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    context = LedgerContext.from_env(state_dir, db_url)
    target = run_or_fail(lambda: context.fabric_target)
    context.session_factory  # noqa: B018  (migrate before anything is anchored)
    settings = WorkerSettings(batch_size=batch_size, linger=linger, max_in_flight=max_in_flight)

    async def main() -> None:
        async with target.gateway_async() as gateway:
            w = context.anchoring_worker(gateway, settings)
            if drain:
                await w.drain(timeout=timeout)
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                if retention_every > 0:
                    scheduled = asyncio.create_task(retention_loop(context, retention_every, stop))
                    await asyncio.gather(w.run(stop), scheduled)
                else:
                    await w.run(stop)
            console.print(
                f"anchored {w.stats.records_committed} records in {w.stats.batches_committed} "
                f"batches ({w.stats.batches_failed} failed, {w.stats.resubmitted} resubmitted, "
                f"{w.stats.found_on_ledger} found already committed)"
            )

    asyncio.run(main())
