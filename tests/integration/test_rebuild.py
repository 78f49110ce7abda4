"""Rebuilding the index from the real channel's blocks.

The channel is shared with every other test, so assertions are about this module's own
records (the ``anchored_ledger`` fixture), or compare whole-chain replays with each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.fabric import blocks as fg_blocks
from fabric_protos.gateway import gateway_pb2
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ledger_service.chainsync import (
    ReplayProgress,
    ReplayResult,
    extract_block,
    read_sync_state,
    replay,
)
from ledger_service.chainsync.parse import BlockRows, extract_writes
from ledger_service.cli import app
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.index import make_engine, make_session_factory, sqlite_url
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainRecord, ChainSync
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.samples.ledger import AnchoredLedger

pytestmark = pytest.mark.fabric

ANCHORING_TABLES = (m.AccessAnchor, m.RecordAnchor, m.OutboxEntry, m.Batch)
MIRROR_TABLES = (ChainRecord, ChainBatch, ChainSync)


@dataclass
class IndexCopy:
    path: Path
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    service: LedgerService


def index_path(ledger: AnchoredLedger) -> Path:
    engine = ledger.session_factory.kw["bind"]
    database = engine.url.database
    assert database
    return Path(database)


def copy_index(ledger: AnchoredLedger, directory: Path, *, drop: tuple[Any, ...] = ()) -> IndexCopy:
    """A consistent copy of the ledger's SQLite index (SQLite backup API), with the rows of
    the ``drop`` tables deleted."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "index.db"
    with sqlite3.connect(index_path(ledger)) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = sqlite_url(directory)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    if drop:
        with write_session(sessions) as s:
            for model in drop:
                s.execute(delete(model))
    return IndexCopy(target, url, engine, sessions, LedgerService(session_factory=sessions))


def run_replay(ledger: AnchoredLedger, sessions: sessionmaker[Session], **kw: Any) -> ReplayResult:
    with ledger.target.gateway() as gw:
        return replay(
            sessions,
            DeliverBlockStream(gw, ledger.target.channel),
            channel=ledger.target.channel,
            chaincode=ledger.target.chaincode,
            **kw,
        )


def own_record_ids(ledger: AnchoredLedger) -> set[str]:
    return {r.record_id for r in ledger.records}


def anchoring_facts(
    sessions: sessionmaker[Session], record_ids: set[str]
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], dict[str, str]]:
    """(batches, anchors, outbox states) of the given records, as the index has them."""
    with sessions() as s:
        anchors = {
            (r.record_id, r.batch_id, r.leaf_index)
            for r in s.execute(select(m.RecordAnchor)).scalars().all()
            if r.record_id in record_ids
        }
        batch_ids = {a[1] for a in anchors}
        batches = {
            (
                b.batch_id,
                bytes(b.root),
                b.size,
                b.state,
                b.tx_id,
                b.block_number,
                b.validation_code,
                bytes(b.envelope or b""),
            )
            for b in s.scalars(select(m.Batch).where(m.Batch.batch_id.in_(batch_ids)))
        }
        outbox = {
            o.record_id: o.state
            for o in s.scalars(select(m.OutboxEntry))
            if o.record_id in record_ids
        }
    return batches, anchors, outbox


def prepared(data: bytes) -> tuple[str, bytes, bytes]:
    """(tx id, envelope payload, envelope signature) of a stored ``batches.envelope``."""
    p = gateway_pb2.PreparedTransaction.FromString(data)
    return p.transaction_id, p.envelope.payload, p.envelope.signature


def mirror_dump(sessions: sessionmaker[Session]) -> tuple[list[tuple[Any, ...]], ...]:
    with sessions() as s:
        batches = [tuple(r) for r in s.execute(select(ChainBatch.__table__).order_by("batch_id"))]
        records = [
            tuple(r) for r in s.execute(select(ChainRecord.__table__).order_by("commitment"))
        ]
    return batches, records


def fixture_blocks(ledger: AnchoredLedger) -> tuple[int, int]:
    with ledger.session_factory() as s:
        numbers = [
            n
            for n in s.scalars(
                select(m.Batch.block_number).where(m.Batch.state == m.BatchState.COMMITTED)
            )
            if n is not None
        ]
    return min(numbers), max(numbers)


@pytest.fixture
def fresh(anchored_ledger: AnchoredLedger, tmp_path: Path) -> Iterator[IndexCopy]:
    """The fixture's index as restored from a backup without anchoring state or mirror:
    records, lineage and writer keys only."""
    copy = copy_index(anchored_ledger, tmp_path / "fresh", drop=ANCHORING_TABLES + MIRROR_TABLES)
    yield copy
    copy.engine.dispose()


# -- tests ---------------------------------------------------------------------------------------


def test_rebuild_reproduces_the_workers_anchoring_facts(
    anchored_ledger: AnchoredLedger, fresh: IndexCopy
) -> None:
    ledger = anchored_ledger
    ours = own_record_ids(ledger)
    worker_batches, worker_anchors, worker_outbox = anchoring_facts(ledger.session_factory, ours)
    assert len(worker_anchors) == len(ours)
    assert {b[3] for b in worker_batches} == {"committed"}

    with fresh.sessions() as s:
        assert s.scalar(select(m.RecordAnchor.record_id).limit(1)) is None

    result = run_replay(ledger, fresh.sessions, restore=True)
    assert result.first_block == 0
    assert result.last_block == result.height - 1
    assert result.anomaly_count == 0
    assert result.records >= len(ours)
    assert result.restore is not None
    assert result.restore.batches_inserted == len(worker_batches)
    assert result.restore.anchors_inserted == len(ours)
    assert result.restore.envelopes_stored == len(worker_batches)

    rebuilt_batches, rebuilt_anchors, rebuilt_outbox = anchoring_facts(fresh.sessions, ours)
    # batch id, root, size, state, tx id, block, validation code and the envelope
    assert {b[:7] for b in rebuilt_batches} == {b[:7] for b in worker_batches}
    worker_envelopes = {b[0]: prepared(b[7]) for b in worker_batches}
    for b in rebuilt_batches:
        tx_id, payload, signature = prepared(b[7])
        # the same transaction (the worker persists it before signing it at submit time);
        # the rebuilt one carries the submitter's signature as committed in the block
        assert (tx_id, payload) == worker_envelopes[b[0]][:2]
        assert tx_id == b[4]
        assert signature
    assert rebuilt_anchors == worker_anchors
    assert rebuilt_outbox == worker_outbox == dict.fromkeys(ours, "batched")

    # the mirror holds exactly the commitments the index holds (the chain's keys: it never
    # names record ids), in the blocks the worker saw
    with fresh.sessions() as s:
        rows = s.execute(
            select(m.Record.record_id, ChainRecord.block_number).join(
                m.Record, m.Record.commitment == ChainRecord.commitment
            )
        ).all()
    assert {r.record_id for r in rows} == ours
    assert len(rows) == len(ours)
    block_of = {b[0]: b[5] for b in worker_batches}
    anchor_batch = {a[0]: a[1] for a in worker_anchors}
    assert all(r.block_number == block_of[anchor_batch[r.record_id]] for r in rows)

    # a second rebuild finds nothing to replay and nothing to restore
    again = run_replay(ledger, fresh.sessions, restore=True)
    assert again.restore is not None
    assert again.restore.changed == 0
    assert anchoring_facts(fresh.sessions, ours) == (
        rebuilt_batches,
        rebuilt_anchors,
        rebuilt_outbox,
    )


def test_rebuild_of_the_workers_own_index_changes_nothing(
    anchored_ledger: AnchoredLedger, tmp_path: Path
) -> None:
    copy = copy_index(anchored_ledger, tmp_path / "same", drop=MIRROR_TABLES)
    ours = own_record_ids(anchored_ledger)
    before = anchoring_facts(copy.sessions, ours)
    result = run_replay(anchored_ledger, copy.sessions, restore=True)
    assert result.restore is not None
    assert result.restore.changed == 0
    assert anchoring_facts(copy.sessions, ours) == before
    copy.engine.dispose()


def test_interrupted_replay_resumes_without_gap_or_duplicate(
    anchored_ledger: AnchoredLedger, tmp_path: Path
) -> None:
    ledger = anchored_ledger
    reference = copy_index(ledger, tmp_path / "reference", drop=MIRROR_TABLES)
    one_shot = run_replay(ledger, reference.sessions, to_block=None)
    stop = one_shot.last_block
    assert stop is not None
    first_ours, last_ours = fixture_blocks(ledger)
    assert last_ours <= stop

    interrupted = copy_index(ledger, tmp_path / "interrupted", drop=MIRROR_TABLES)
    # Ranges of 2 blocks from block 0 end at odd blocks (the record and time limits set out
    # of reach, so only the block count cuts ranges): crashing at an even block loses the
    # block in the unfinished range, which the resumed replay must read again. The crash
    # block must have a successor within the replay: a range ending at `stop` is the final
    # one and is flushed when the stream ends, before progress is reported — so the crash
    # block is the even block nearest the middle of ours that is below `stop`, whatever
    # blocks the fixture's records happen to land in.
    crash_at = min((first_ours + last_ours) // 2 // 2 * 2, (stop - 1) // 2 * 2)
    assert 2 <= crash_at < stop, f"need an even block in [2, {stop}) to crash at"
    progress: list[ReplayProgress] = []

    def crash(p: ReplayProgress) -> None:
        progress.append(p)
        if p.block_number == crash_at:
            raise KeyboardInterrupt("simulated crash")

    with pytest.raises(KeyboardInterrupt):
        run_replay(
            ledger,
            interrupted.sessions,
            to_block=stop,
            flush_blocks=2,
            flush_records=10**9,
            flush_seconds=1e9,
            on_progress=crash,
        )
    assert progress[-1].block_number == crash_at
    with interrupted.sessions() as s:
        state = read_sync_state(s.connection(), ledger.target.channel)
        assert state is not None
        committed = state.last_block
        beyond = s.scalar(
            select(ChainRecord.commitment).where(ChainRecord.block_number > committed)
        )
    # every range handed to the writer before the crash is committed, the unfinished one not
    assert (state.first_block, state.last_block) == (0, crash_at - 1)
    assert beyond is None  # nothing of the unfinished range was kept

    resumed = run_replay(ledger, interrupted.sessions, to_block=stop)
    assert resumed.first_block == committed + 1  # exactly after the checkpoint
    assert resumed.last_block == stop
    assert mirror_dump(interrupted.sessions) == mirror_dump(reference.sessions)

    # replaying blocks that are already mirrored changes nothing
    again = run_replay(ledger, interrupted.sessions, from_block=first_ours, to_block=last_ours)
    assert again.records > 0
    assert mirror_dump(interrupted.sessions) == mirror_dump(reference.sessions)
    for copy in (reference, interrupted):
        copy.engine.dispose()


def test_lean_block_decoding_matches_the_gateways_parse_block(
    anchored_ledger: AnchoredLedger,
) -> None:
    """extract_block skips endorsements and read sets; it must find exactly the writes that
    credit_ledger_verify.fabric.blocks.parse_block finds in VALID transactions."""
    ledger = anchored_ledger
    first, last = fixture_blocks(ledger)
    ns = ledger.target.chaincode
    compared = 0
    with ledger.target.gateway() as gw:
        source = DeliverBlockStream(gw, ledger.target.channel)
        for block in source.blocks(max(first - 2, 0), last):
            lean = extract_block(block, ns, keep_envelopes=True)
            info = fg_blocks.parse_block(block)
            full = BlockRows(
                number=info.number,
                previous_hash=info.previous_hash,
                data_hash=info.data_hash,
                header_hash=info.header_hash,
            )
            for tx in info.transactions:
                writes = tx.writes().get(ns) if tx.valid and tx.is_endorser_transaction else None
                if writes:
                    extract_writes(
                        [(w.key, w.value, w.is_delete) for w in writes],
                        block_number=info.number,
                        tx_index=tx.index,
                        tx_id=tx.transaction_id,
                        out=full,
                    )
                    for b in full.batches:
                        full.envelopes.setdefault(b.batch_id, tx.envelope)
            assert lean.header_hash == full.header_hash
            assert lean.batches == full.batches
            assert lean.records == full.records
            assert lean.envelopes == full.envelopes
            assert lean.anomalies == full.anomalies == []
            compared += len(lean.records)
    assert compared >= len(ledger.records)


def test_cli_rebuild(anchored_ledger: AnchoredLedger, fresh: IndexCopy) -> None:
    state_dir = str(anchored_ledger.topology.root)
    result = CliRunner().invoke(
        app, ["index", "rebuild", "--state-dir", state_dir, "--db", fresh.url]
    )
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output
    assert "index restored:" in result.output
    ours = own_record_ids(anchored_ledger)
    assert (
        anchoring_facts(fresh.sessions, ours)[1]
        == anchoring_facts(anchored_ledger.session_factory, ours)[1]
    )
    # resuming: nothing left to replay
    again = CliRunner().invoke(
        app, ["index", "rebuild", "--state-dir", state_dir, "--db", fresh.url]
    )
    assert again.exit_code == 0, again.output
    assert "no blocks to replay" in again.output or "replayed blocks" in again.output
    # --from-block beyond the mirror's end would leave a gap: refused, exit 2
    gap = CliRunner().invoke(
        app,
        [
            "index",
            "rebuild",
            "--state-dir",
            state_dir,
            "--db",
            fresh.url,
            "--from-block",
            "99999999",
        ],
    )
    assert gap.exit_code == 2
    assert "gap" in gap.output
