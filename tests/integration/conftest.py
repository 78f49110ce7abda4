"""The real Fabric network, brought up once per test session on free ports and torn down after.

Set LEDGER_TEST_STATE_DIR to reuse a network you already started there (for a fast dev
loop); it is then left running. Otherwise a fresh network is made in a temporary directory.
If the network cannot start, every test that needs it fails (never skips).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring import AnchoringStore, AnchoringWorker, WorkerSettings
from ledger_service.fabric_link import FabricTarget
from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.ops import chaincode as cc_ops
from ledger_service.ops import network as net
from ledger_service.ops.fabric import FabricInstall, find_fabric
from ledger_service.ops.topology import Topology
from ledger_service.records import Record
from ledger_service.sample_data import SampleWriter, stories
from ledger_service.service import LedgerService


def _free_base_port(span: int = 60) -> int:
    """A base port with `span` consecutive free loopback ports above it."""
    for base in range(31000, 60000, 100):
        ok = True
        for port in range(base, base + span):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no 60 consecutive free ports between 31000 and 60000")


@pytest.fixture(scope="session")
def fabric() -> FabricInstall:
    return find_fabric()


@pytest.fixture(scope="session")
def fabric_network(
    fabric: FabricInstall, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Topology]:
    reuse = os.environ.get("LEDGER_TEST_STATE_DIR")
    if reuse:
        state = Path(reuse)
        topo = net.up(state, fabric)
        cc_ops.deploy(topo, fabric)
        FabricTarget.from_topology(topo).wait_endorsable()
        yield topo
        return
    state = tmp_path_factory.mktemp("fabric") / "state"
    try:
        topo = net.up(state, fabric, base_port=_free_base_port())
        cc_ops.deploy(topo, fabric)
        FabricTarget.from_topology(topo).wait_endorsable()
        yield topo
    finally:
        net.down(state, purge=False)
        # Keep logs of a failed run for the CI output; drop the bulky ledgers.
        for sub in ("data", "chaincode"):
            shutil.rmtree(state / sub, ignore_errors=True)


# -- an anchored ledger: index + records + worker, on the real network ---------------------------


@dataclass
class AnchoredLedger:
    """An index whose records were appended and then anchored on the real channel."""

    topology: Topology
    target: FabricTarget
    session_factory: sessionmaker[Session]
    service: LedgerService
    writer: SampleWriter
    records: list[Record]

    def anchor(self, *, batch_size: int = 256, timeout: float = 300) -> AnchoringWorker:
        """Run the anchoring worker until nothing is pending; returns it (for its stats)."""

        async def run() -> AnchoringWorker:
            async with self.target.gateway_async() as gw:
                worker = AnchoringWorker(
                    store=AnchoringStore(session_factory=self.session_factory),
                    gateway=gw,
                    channel=self.target.channel,
                    chaincode=self.target.chaincode,
                    settings=WorkerSettings(batch_size=batch_size, linger=0.05),
                )
                await worker.drain(timeout=timeout)
                return worker

        return asyncio.run(run())


def make_anchored_ledger(
    topo: Topology, state: Path, *, count: int, prefix: str, db_url: str | None = None
) -> AnchoredLedger:
    """Append `count` sample records (whole enterprise stories) into a fresh index and anchor
    them. `prefix` keeps record ids unique on the shared channel."""
    engine = make_engine(db_url or sqlite_url(state))
    upgrade(engine)
    sessions = make_session_factory(engine)
    service = LedgerService(session_factory=sessions)
    writer = SampleWriter()
    service.register_writer(writer.actor, writer.public_key)
    records = list(stories(writer, count, prefix=prefix))
    for i in range(0, len(records), 5000):
        service.append(records[i : i + 5000])
    ledger = AnchoredLedger(
        topology=topo,
        target=FabricTarget.from_topology(topo),
        session_factory=sessions,
        service=service,
        writer=writer,
        records=records,
    )
    ledger.anchor()
    return ledger


@pytest.fixture(scope="module")
def anchored_ledger(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> AnchoredLedger:
    """~900 records of every kind (100 enterprise stories), anchored; one per test module."""
    import uuid

    state = tmp_path_factory.mktemp("ledger")
    return make_anchored_ledger(fabric_network, state, count=900, prefix=f"t{uuid.uuid4().hex[:8]}")
