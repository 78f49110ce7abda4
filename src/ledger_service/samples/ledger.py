"""A sample ledger anchored on a real channel: sample records appended into an index, then the
anchoring worker run until nothing is pending. The integration tests, the benchmarks and the
offline test-data generator all build theirs with `make_anchored_ledger`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from credit_ledger_verify.records import Record
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring import AnchoringWorker, WorkerSettings
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.fabric.target import FabricTarget
from ledger_service.index import sqlite_url
from ledger_service.intake import LedgerService
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, stories

APPEND_CHUNK = 5000


@dataclass
class AnchoredLedger:
    """An index whose records were appended and then anchored on the real channel."""

    context: LedgerContext
    writer: SampleWriter
    records: list[Record]

    @property
    def topology(self) -> Topology:
        return self.context.topology

    @property
    def target(self) -> FabricTarget:
        return self.context.fabric_target

    @property
    def db_url(self) -> str:
        return self.context.config.db_url

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.context.session_factory

    @property
    def service(self) -> LedgerService:
        return self.context.intake

    def append(self, records: list[Record]) -> None:
        for i in range(0, len(records), APPEND_CHUNK):
            self.service.append(records[i : i + APPEND_CHUNK])
        self.records.extend(records)

    def anchor(
        self,
        *,
        batch_size: int = 256,
        linger: float = 0.05,
        max_in_flight: int = 4,
        timeout: float = 600,
    ) -> AnchoringWorker:
        """Run the anchoring worker until nothing is pending; returns it (for its stats)."""
        settings = WorkerSettings(batch_size=batch_size, linger=linger, max_in_flight=max_in_flight)

        async def run() -> AnchoringWorker:
            async with self.target.gateway_async() as gw:
                worker = self.context.anchoring_worker(gw, settings)
                await worker.drain(timeout=timeout)
                return worker

        return asyncio.run(run())


def make_anchored_ledger(
    topo: Topology,
    state: Path,
    *,
    count: int,
    prefix: str,
    db_url: str | None = None,
    batch_size: int = 256,
    anchor: bool = True,
    record_ids: Callable[[int, str], str] | None = None,
) -> AnchoredLedger:
    """Append `count` sample records (whole enterprise stories) into a fresh index at `state`
    (or `db_url`) and, unless `anchor=False`, anchor them. `prefix` keeps record ids unique on
    a shared channel (a run tag; it must carry no business meaning)."""
    config = ServiceConfig(state_dir=Path(topo.state_dir), db_url=db_url or sqlite_url(state))
    context = LedgerContext(config, topology=topo)
    writer = SampleWriter()
    context.intake.register_writer(writer.actor, writer.public_key)
    ledger = AnchoredLedger(context=context, writer=writer, records=[])
    ledger.append(list(stories(writer, count, prefix=prefix, record_ids=record_ids)))
    if anchor and count:
        ledger.anchor(batch_size=batch_size)
    return ledger
