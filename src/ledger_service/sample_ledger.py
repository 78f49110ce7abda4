"""A sample ledger anchored on a real channel: sample records appended into an index, then the
anchoring worker run until nothing is pending. The integration tests, the benchmarks and the
offline test-data generator all build theirs with `make_anchored_ledger`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring import AnchoringStore, AnchoringWorker, WorkerSettings
from ledger_service.fabric_link import FabricTarget
from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.ops.topology import Topology
from ledger_service.records import Record
from ledger_service.sample_data import SampleWriter, stories
from ledger_service.service import LedgerService

APPEND_CHUNK = 5000


@dataclass
class AnchoredLedger:
    """An index whose records were appended and then anchored on the real channel."""

    topology: Topology
    target: FabricTarget
    db_url: str
    session_factory: sessionmaker[Session]
    service: LedgerService
    writer: SampleWriter
    records: list[Record]

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

        async def run() -> AnchoringWorker:
            async with self.target.gateway_async() as gw:
                worker = AnchoringWorker(
                    store=AnchoringStore(session_factory=self.session_factory),
                    gateway=gw,
                    channel=self.target.channel,
                    chaincode=self.target.chaincode,
                    settings=WorkerSettings(
                        batch_size=batch_size, linger=linger, max_in_flight=max_in_flight
                    ),
                )
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
) -> AnchoredLedger:
    """Append `count` sample records (whole enterprise stories) into a fresh index at `state`
    (or `db_url`) and, unless `anchor=False`, anchor them. `prefix` keeps record ids unique on
    a shared channel."""
    url = db_url or sqlite_url(state)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    service = LedgerService(session_factory=sessions)
    writer = SampleWriter()
    service.register_writer(writer.actor, writer.public_key)
    ledger = AnchoredLedger(
        topology=topo,
        target=FabricTarget.from_topology(topo),
        db_url=url,
        session_factory=sessions,
        service=service,
        writer=writer,
        records=[],
    )
    ledger.append(list(stories(writer, count, prefix=prefix)))
    if anchor and count:
        ledger.anchor(batch_size=batch_size)
    return ledger
