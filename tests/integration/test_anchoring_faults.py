"""Anchoring rides out the loss of one peer and one orderer mid-run: every acknowledged record
ends up on the channel once, and the stopped nodes catch up when they return."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger_service.index import models as m
from ledger_service.ops import network as net
from ledger_service.ops.fabric import FabricInstall
from ledger_service.ops.topology import Topology
from ledger_service.samples.ledger import make_anchored_ledger

pytestmark = pytest.mark.fabric


def test_anchoring_survives_a_peer_and_an_orderer_going_down(
    fabric_network: Topology, fabric: FabricInstall, tmp_path: Path
) -> None:
    topo = fabric_network
    ledger = make_anchored_ledger(
        topo, tmp_path, count=3600, prefix=f"f{uuid.uuid4().hex[:8]}", anchor=False
    )
    bank = topo.peer_of("BankMSP")
    orderer = topo.orderers[1]
    errors: list[BaseException] = []

    def anchor() -> None:
        try:
            ledger.anchor(batch_size=120, max_in_flight=2, timeout=300)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=anchor)
    worker.start()
    try:
        # kill once batches are in flight (a fixed sleep could land before the first one)
        deadline = time.monotonic() + 120
        while True:
            with ledger.session_factory() as s:
                in_flight = s.scalar(
                    select(func.count()).select_from(m.Batch).where(m.Batch.state != "pending")
                )
            if in_flight:
                break
            assert not errors, errors
            assert worker.is_alive()
            assert time.monotonic() < deadline, "no batch was submitted within 120 s"
            time.sleep(0.05)
        with ledger.session_factory() as s:
            committed_at_kill = s.scalar(
                select(func.count()).select_from(m.Batch).where(m.Batch.state == "committed")
            )
        assert net.process_for(topo, bank.name).kill()
        assert net.process_for(topo, orderer.name).kill()
        worker.join(timeout=320)
        assert not worker.is_alive()
        assert not errors, errors
    finally:
        net.start_orderer(topo, orderer, fabric)
        net.start_peer(topo, bank, fabric)

    with ledger.target.gateway() as gw:
        contract = gw.get_network(topo.channel).get_contract(topo.chaincode)
        with ledger.session_factory() as s:
            rows = {
                r.record_id: r.commitment
                for r in s.execute(select(m.Record.record_id, m.Record.commitment))
            }
            total_batches = s.scalar(select(func.count()).select_from(m.Batch))
        for commitment in rows.values():
            on_chain = json.loads(contract.evaluate("GetRecord", args=[commitment.hex()]))
            assert on_chain["commitment"] == commitment.hex()
    assert set(rows) == {r.record_id for r in ledger.records}
    # The nodes died while most of the work was still ahead.
    assert committed_at_kill is not None
    assert total_batches is not None
    assert committed_at_kill < total_batches // 2, (committed_at_kill, total_batches)

    # The stopped nodes return and converge on one height.
    deadline = time.monotonic() + 90
    while True:
        heights = {p.name: net.block_height(topo, p, fabric) for p in topo.peers}
        heights |= {o.name: net.orderer_height(topo, o, fabric) for o in topo.orderers}
        if None not in heights.values() and len(set(heights.values())) == 1:
            break
        assert time.monotonic() < deadline, heights
        time.sleep(0.5)
