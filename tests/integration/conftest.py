"""The real Fabric network, brought up once per test session on free ports and torn down after.

Set LEDGER_TEST_STATE_DIR to reuse a network you already started there (for a fast dev
loop); it is then left running. Otherwise a fresh network is made in a temporary directory.
If the network cannot start, every test that needs it fails (never skips).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.ops import chaincode as cc_ops
from ledger_service.ops import network as net
from ledger_service.ops.fabric import FabricInstall, find_fabric
from ledger_service.ops.topology import Topology
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger


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


def _up_on_free_ports(state: Path, fabric: FabricInstall, attempts: int = 3) -> Topology:
    """`net.up` on a free port range; ports found free can be taken by another process before
    the network binds them (CI runs PostgreSQL and gRPC clients beside it), so a range found
    busy at start is given up for the next one."""
    for attempt in range(1, attempts + 1):
        try:
            return net.up(state, fabric, base_port=_free_base_port())
        except net.NetworkError as exc:
            if "already in use" not in str(exc) or attempt == attempts:
                raise
            net.down(state, purge=True)
    raise AssertionError("unreachable")


def _wait_endorsable(state: Path, topo: Topology) -> None:
    context = LedgerContext(ServiceConfig.from_env(state), topology=topo)
    context.fabric_target.wait_endorsable()


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
        _wait_endorsable(state, topo)
        yield topo
        return
    state = tmp_path_factory.mktemp("fabric") / "state"
    try:
        topo = _up_on_free_ports(state, fabric)
        cc_ops.deploy(topo, fabric)
        _wait_endorsable(state, topo)
        yield topo
    finally:
        net.down(state, purge=False)
        # Keep logs of a failed run for the CI output; drop the bulky ledgers.
        for sub in ("data", "chaincode"):
            shutil.rmtree(state / sub, ignore_errors=True)


# -- an anchored ledger (ledger_service.samples.ledger), one per test module ----------


@pytest.fixture(scope="module")
def anchored_ledger(
    fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory
) -> AnchoredLedger:
    """~900 records of every kind (100 enterprise stories), anchored; one per test module."""
    import uuid

    state = tmp_path_factory.mktemp("ledger")
    return make_anchored_ledger(fabric_network, state, count=900, prefix=f"t{uuid.uuid4().hex[:8]}")
