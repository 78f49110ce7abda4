"""SIGKILL the anchoring worker at random points, restart, repeat: the chain ends up holding
every acknowledged record exactly once (checked against the chain's blocks, not the index)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from credit_ledger_verify.fabric import blocks
from credit_ledger_verify.onchain import RECORD_KEY_TYPE, parse_composite_key, parse_record_key
from fabric_protos.common import common_pb2
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import chain_height
from ledger_service.fabric.target import FabricTarget
from ledger_service.index import models as m
from ledger_service.index import sqlite_url
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, stories

pytestmark = pytest.mark.fabric


def _worker_argv(db_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from ledger_service.cli import main; main()",
        "worker",
        "--db-url",
        db_url,
        "--batch-size",
        "150",
        "--max-in-flight",
        "3",
        "--linger",
        "0.01",
        *extra,
    ]


def _batch_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(m.Batch)) or 0


def _wait_until_working(
    sessions: sessionmaker[Session], batches_before: int, proc: subprocess.Popen[bytes]
) -> None:
    """Until the worker has claimed a batch this round, or nothing is left to claim."""
    deadline = time.monotonic() + 120
    while _batch_count(sessions) == batches_before:
        with sessions() as s:
            if not s.scalar(
                select(func.count()).select_from(m.OutboxEntry).where(m.OUTBOX_PENDING)
            ):
                return
        assert proc.poll() is None, "worker exited before claiming a batch"
        assert time.monotonic() < deadline, "worker claimed no batch within 120 s"
        time.sleep(0.05)


def _chain_height(target: FabricTarget) -> int:
    with target.gateway() as gw:
        return chain_height(gw, target.channel)


def _valid_record_writes(
    target: FabricTarget, first_block: int, ids_by_commitment: dict[str, str]
) -> Counter[str]:
    """How many times each of our records (known on chain by commitment) was written by a
    VALID transaction."""
    seen: Counter[str] = Counter()
    height = _chain_height(target)
    with target.gateway() as gw:
        qscc = gw.get_network(target.channel).get_contract("qscc")
        for number in range(first_block, height):
            block = common_pb2.Block()
            block.ParseFromString(
                qscc.evaluate("GetBlockByNumber", args=[target.channel, str(number)])
            )
            for tx in blocks.parse_block(block).transactions:
                if tx.validation_code != 0:
                    continue
                for action in tx.actions:
                    for rwset in action.rwsets:
                        if rwset.namespace != target.chaincode:
                            continue
                        for w in rwset.writes:
                            parsed = parse_composite_key(w.key)
                            if parsed is not None and parsed[0] == RECORD_KEY_TYPE:
                                commitment = parse_record_key(w.key).hex()
                                rid = ids_by_commitment.get(commitment)
                                if rid is not None:
                                    seen[rid] += 1
    return seen


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_sigkill_at_random_points_loses_nothing_and_anchors_nothing_twice(
    fabric_network: Topology, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(int(os.environ.get("LEDGER_CRASH_SEED", "20261122")))
    if backend == "sqlite":
        db_url = sqlite_url(tmp_path)
    else:
        server = request.getfixturevalue("postgres_server")
        db_url = server.create_database(f"crash_{uuid.uuid4().hex[:8]}")
    context = LedgerContext(
        ServiceConfig(state_dir=Path(fabric_network.state_dir), db_url=db_url),
        topology=fabric_network,
    )
    sessions = context.session_factory
    service = context.intake
    writer = SampleWriter()
    service.register_writer(writer.actor, writer.public_key)
    prefix = f"k{uuid.uuid4().hex[:8]}"
    records = list(stories(writer, 2700, prefix=prefix))
    acknowledged = {r.record_id for r in records[:1800]}
    service.append(records[:1800])
    target = context.fabric_target
    first_block = _chain_height(target)

    env = {**os.environ, "LEDGER_STATE_DIR": str(fabric_network.root)}
    kills = 0
    for round_ in range(6):
        batches_before = _batch_count(sessions)
        proc = subprocess.Popen(
            _worker_argv(db_url), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # Kill at a random point *after* the worker has started working (a slow start on a
        # loaded machine must not turn every kill into a kill during start-up).
        _wait_until_working(sessions, batches_before, proc)
        time.sleep(rng.uniform(0.0, 2.5))
        if round_ == 2:
            # More records acknowledged while batches are in flight and the worker dies.
            service.append(records[1800:])
            acknowledged |= {r.record_id for r in records[1800:]}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    assert kills == 6

    done = subprocess.run(
        _worker_argv(db_url, "--drain", "--timeout", "300"),
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # The chain, not the index, is the judge: every acknowledged record exactly once.
    with sessions() as s:
        ids_by_commitment = {
            bytes(c).hex(): rid
            for rid, c in s.execute(select(m.Record.record_id, m.Record.commitment))
            if rid.startswith(prefix)
        }
    writes = _valid_record_writes(target, first_block, ids_by_commitment)
    missing = acknowledged - set(writes)
    twice = {rid: n for rid, n in writes.items() if n > 1}
    assert not missing, (
        f"{len(missing)} acknowledged records never anchored, e.g. {sorted(missing)[:3]}"
    )
    assert not twice, f"records anchored more than once: {twice}"
    assert set(writes) == acknowledged

    # And the index agrees with the chain about every record's commitment.
    with target.gateway() as gw, sessions() as s:
        contract = gw.get_network(target.channel).get_contract(target.chaincode)
        rows = s.execute(select(m.Record.record_id, m.Record.commitment)).all()
        sample = rng.sample(rows, 200)
        for row in sample:
            on_chain = json.loads(contract.evaluate("GetRecord", args=[row.commitment.hex()]))
            assert on_chain["commitment"] == row.commitment.hex()
        states = Counter(s.scalars(select(m.Batch.state)))
    assert set(states) <= {"committed", "failed"}, states
