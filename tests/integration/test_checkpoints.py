"""Anchored checkpoints of the global log on the real network: the checkpointer anchors them
while records are appended; the real chaincode refuses a smaller checkpoint, a fork signed
with the real log key, a gap and a non-extending one (each by its code); rebuilding from the
chain reproduces the log and every anchored checkpoint byte for byte; SIGKILL of the worker
process (which runs the checkpointer) at random points neither skips nor duplicates a leaf.

The channel is shared with the other tests of the session and the chain registers the log
key once, so every test here signs with the one key in the network's state directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from credit_ledger_verify.onchain_tlog import (
    decode_checkpoint_value,
    encode_anchor_checkpoint,
    encode_checkpoint_value,
)
from credit_ledger_verify.tlog import (
    Checkpoint,
    CheckpointPolicy,
    SignerKey,
    sign_checkpoint,
    verify_checkpoint,
)
from fabric_gateway import Gateway
from sqlalchemy import func, select

from ledger_service.anchoring import WorkerSettings
from ledger_service.anchoring.checkpointer import (
    CheckpointerSettings,
    CheckpointForkError,
    CheckpointGapError,
    CheckpointInconsistentError,
    CheckpointSmallerError,
    LogKeyMismatchError,
)
from ledger_service.chainsync.checkpoint_checks import checkpoint_mismatches
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.index import sqlite_url
from ledger_service.index.chain_models import ChainCheckpoint, ChainRecord
from ledger_service.index.log_models import CheckpointAnchor
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, stories
from ledger_service.tlog.checkpoints import (
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)
from ledger_service.tlog.global_log import LogView, mirror_leaves

pytestmark = pytest.mark.fabric


def _context(network: Topology, db_dir: Path) -> LedgerContext:
    db_dir.mkdir(parents=True, exist_ok=True)
    config = ServiceConfig(state_dir=network.root, db_url=sqlite_url(db_dir))
    return LedgerContext(config, topology=network)


def _append(context: LedgerContext, count: int) -> None:
    writer = SampleWriter()
    context.intake.register_writer(writer.actor, writer.public_key)
    context.intake.append(list(stories(writer, count, prefix=f"c{uuid.uuid4().hex[:8]}")))


def _drain(context: LedgerContext) -> None:
    async def run() -> None:
        async with context.fabric_target.gateway_async() as gateway:
            settings = WorkerSettings(batch_size=200, linger=0.01, max_in_flight=2)
            await context.anchoring_worker(gateway, settings).drain(timeout=300)

    asyncio.run(run())


def _head(gateway: Gateway, network: Topology) -> tuple[int, bytes]:
    contract = gateway.get_network(network.channel).get_contract(network.chaincode)
    head = decode_checkpoint_value(contract.evaluate("GetCheckpoint", args=["head"]))
    return head.size, head.root


def _anchored_chain(gateway: Gateway, network: Topology) -> list[bytes]:
    """Every anchored checkpoint value, newest first, walking prev_size from the head."""
    contract = gateway.get_network(network.channel).get_contract(network.chaincode)
    size, _ = _head(gateway, network)
    values = []
    while size:
        raw = contract.evaluate("GetCheckpoint", args=[str(size)])
        values.append(raw)
        size = decode_checkpoint_value(raw).prev_size
    return values


def _synced(context: LedgerContext, gateway: Gateway) -> None:
    context.replay(DeliverBlockStream(gateway, context.fabric_target.channel))


def _mirror_leaf_hashes(context: LedgerContext) -> list[bytes]:
    with context.session_factory() as s:
        return [commitment_leaf_hash(bytes(r.commitment)) for r in s.execute(mirror_leaves())]


def _key(network: Topology) -> SignerKey:
    return load_or_create_log_key(network.root, platform_origin(network.channel, network.chaincode))


def view_root(context: LedgerContext, key: SignerKey, size: int) -> bytes:
    with context.session_factory() as s:
        return LogView(s, key.name).root_at(size)


@pytest.fixture
def context(fabric_network: Topology, tmp_path: Path) -> Iterator[LedgerContext]:
    with _context(fabric_network, tmp_path / "index") as ctx:
        yield ctx


def test_checkpointer_anchors_checkpoints_while_records_are_appended(
    fabric_network: Topology, context: LedgerContext
) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []
    with context.fabric_target.gateway() as gateway:
        checkpointer = context.checkpointer(gateway, CheckpointerSettings(interval=0.5, poll=0.2))

        def run() -> None:
            try:
                checkpointer.run(stop)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name="checkpointer")
        thread.start()
        try:
            for _ in range(4):
                _append(context, 150)
                _drain(context)
                time.sleep(1.0)
        finally:
            stop.set()
            thread.join(timeout=120)
        assert not errors, errors
        assert checkpointer.stats.anchored >= 2, checkpointer.stats
        checkpointer.run_once()  # the last leaves, if the loop stopped before them

        _synced(context, gateway)
        leaves = _mirror_leaf_hashes(context)
        size, root = _head(gateway, fabric_network)
        assert size == len(leaves)  # every leaf on chain, once
        assert root == MerkleTree(leaves).root
        chain = _anchored_chain(gateway, fabric_network)
    policy = CheckpointPolicy(_key(fabric_network).verifier)
    sizes = [decode_checkpoint_value(v).size for v in chain]
    assert sizes == sorted(sizes, reverse=True)
    for raw in chain:
        value = decode_checkpoint_value(raw)
        verified = verify_checkpoint(value.note, policy).checkpoint
        assert (verified.size, verified.root) == (value.size, value.root)
    with context.session_factory() as s:
        states = set(s.scalars(select(CheckpointAnchor.state)))
        assert states <= {"committed", "failed"}
        assert list(checkpoint_mismatches(s.connection(), policy.log_key)) == []
        committed = s.scalars(
            select(CheckpointAnchor).where(CheckpointAnchor.state == "committed")
        ).all()
        assert committed
        for intent in committed:
            # the argument went as transient data: the signed envelope (what is committed,
            # and what a resend sends) holds the written value, never the argument
            envelope = bytes(intent.envelope)
            assert b'"proof":' not in envelope
            assert b'"log_key":' not in envelope
            assert b'"note":' in envelope  # the checkpoint value the chaincode wrote
        # every anchored checkpoint lies on the one prev_size chain from the head
        assert s.scalar(select(func.count()).select_from(ChainCheckpoint)) == len(chain)
    # this checkpointer's own anchors are among them
    assert set(checkpointer.stats.sizes) <= set(sizes)


def test_real_chaincode_refuses_checkpoints_that_do_not_extend_the_head(
    fabric_network: Topology, context: LedgerContext
) -> None:
    _append(context, 40)
    _drain(context)
    key = _key(fabric_network)
    log_key = key.verifier.encode()
    with context.fabric_target.gateway() as gateway:
        checkpointer = context.checkpointer(gateway, CheckpointerSettings())
        checkpointer.run_once()
        size, root = _head(gateway, fabric_network)
        assert size >= 2
        assert view_root(context, key, size) == root

        def note(n: int, r: bytes, signer: SignerKey = key) -> str:
            return sign_checkpoint(Checkpoint(key.name, n, r), signer).decode()

        other_root = hashlib.sha256(b"another history").digest()
        ahead = size + 5
        junk_proof = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
        cases = [
            # a smaller checkpoint (with the log's own root at that size)
            (
                encode_anchor_checkpoint(
                    note(size - 1, view_root(context, key, size - 1)), size, [], log_key
                ),
                CheckpointSmallerError,
            ),
            # a fork: the head's size, another root, signed with the real log key
            (
                encode_anchor_checkpoint(note(size, other_root), size, [], log_key),
                CheckpointForkError,
            ),
            # a gap: prev_size is not the head's size
            (
                encode_anchor_checkpoint(note(ahead, other_root), size - 1, junk_proof, log_key),
                CheckpointGapError,
            ),
            # not extending: a proof that does not lead from the head to this root
            (
                encode_anchor_checkpoint(note(ahead, other_root), size, junk_proof, log_key),
                CheckpointInconsistentError,
            ),
        ]
        impostor = SignerKey.generate(key.name)
        cases.append(
            (
                encode_anchor_checkpoint(
                    note(ahead, other_root, impostor), size, junk_proof, impostor.verifier.encode()
                ),
                LogKeyMismatchError,
            )
        )
        for argument, expected in cases:
            with pytest.raises(expected) as caught:
                checkpointer.submit_checkpoint(argument, ahead, size)
            assert caught.value.refusal is not None
            assert caught.value.refusal.value == expected.code
        assert _head(gateway, fabric_network) == (size, root)  # nothing was written


def test_rebuild_from_the_chain_reproduces_the_log_and_every_anchored_checkpoint(
    fabric_network: Topology, context: LedgerContext, tmp_path: Path
) -> None:
    _append(context, 60)
    _drain(context)
    with context.fabric_target.gateway() as gateway:
        context.checkpointer(gateway, CheckpointerSettings()).run_once()
        chain = _anchored_chain(gateway, fabric_network)
        head_size, head_root = _head(gateway, fabric_network)
        with _context(fabric_network, tmp_path / "rebuilt") as rebuilt:
            _synced(rebuilt, gateway)
            with rebuilt.session_factory() as s:
                mirrored = {r.size: r for r in s.scalars(select(ChainCheckpoint))}
            # every anchored checkpoint, byte for byte, from the mirror alone
            for raw in chain:
                value = decode_checkpoint_value(raw)
                row = mirrored[value.size]
                again = encode_checkpoint_value(
                    row.size,
                    bytes(row.root),
                    row.prev_size,
                    bytes(row.note).decode(),
                    row.tx_id,
                    row.creator_msp,
                    row.ts,
                )
                assert again == raw
            # and the log: advanced from the rebuilt mirror, same roots at every anchored size
            key = _key(fabric_network)
            with write_session(rebuilt.session_factory) as s:
                issued = issue_checkpoint(s, key, dt.datetime.now(dt.UTC))
            assert issued.checkpoint.size >= head_size
            with rebuilt.session_factory() as s:
                view = LogView(s, key.name)
                assert view.root_at(head_size) == head_root
                for size, row in mirrored.items():
                    assert view.root_at(size) == bytes(row.root)
                assert list(checkpoint_mismatches(s.connection(), key.verifier)) == []


def _ledgerctl(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ledger_service.cli import main; main()", *args]


def test_sigkill_of_the_checkpointer_neither_skips_nor_duplicates_a_leaf(
    fabric_network: Topology, context: LedgerContext
) -> None:
    """The checkpointer process (`ledgerctl checkpoint anchor`) is SIGKILLed at 5 random
    points while the anchoring worker runs beside it and records keep arriving."""
    rng = random.Random(int(os.environ.get("LEDGER_CRASH_SEED", "20261130")))
    db_url = context.config.db_url
    env = {
        **os.environ,
        "LEDGER_STATE_DIR": str(fabric_network.root),
        "LEDGER_CHECKPOINT_INTERVAL": "0.3",
    }
    worker = subprocess.Popen(
        _ledgerctl("worker", "--db-url", db_url, "--batch-size", "100", "--linger", "0.01"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kills = 0
    try:
        for _ in range(5):
            _append(context, 120)
            proc = subprocess.Popen(
                _ledgerctl("checkpoint", "anchor", "--db", db_url),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(rng.uniform(2.0, 6.0))  # start-up, then somewhere in a round
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            kills += 1
        assert kills == 5
    finally:
        worker.send_signal(signal.SIGTERM)  # it finishes the batches in flight
        worker.wait(timeout=120)
    _drain(context)  # whatever the worker had not claimed yet
    final = subprocess.run(
        _ledgerctl("checkpoint", "anchor", "--once", "--db", db_url),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert final.returncode == 0, final.stdout + final.stderr
    assert "anchored checkpoint" in final.stdout or "nothing new" in final.stdout

    with context.fabric_target.gateway() as gateway:
        _synced(context, gateway)
        leaves = _mirror_leaf_hashes(context)
        size, root = _head(gateway, fabric_network)
        chain = _anchored_chain(gateway, fabric_network)
    # no leaf skipped, none twice: the head covers exactly the chain's leaves, in commit order
    with context.session_factory() as s:
        distinct = s.scalar(select(func.count()).select_from(ChainRecord))
        assert distinct == len(leaves)
        states = set(s.scalars(select(CheckpointAnchor.state)))
        # every intent settled after the restart (none left 'submitted')
        assert states <= {"committed", "failed"}, states
        assert list(checkpoint_mismatches(s.connection(), _key(fabric_network).verifier)) == []
        mirrored = s.scalar(select(func.count()).select_from(ChainCheckpoint))
    assert size == len(leaves)
    assert root == MerkleTree(leaves).root
    # the anchored checkpoints form one chain of extensions from the first to the head
    assert len(chain) == mirrored
