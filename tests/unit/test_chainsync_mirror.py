"""Replay, restore and reconcile on real index databases (SQLite and PostgreSQL), fed with
synthetic blocks (tests/unit/test_chainsync_parse.py builds them).

These test the index side — checkpointing, idempotency, gap and fork refusal, the restore
SQL, the reconcile queries. That real Fabric blocks decode the same way is tested against
the real network in tests/integration/test_rebuild.py and test_reconcile.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.chainsync import (
    ChainIntegrityError,
    MirrorGapError,
    ReplayProgress,
    extract_block,
    read_sync_state,
    replay,
)
from ledger_service.chainsync.reconcile import Mismatch, MismatchKind, reconcile
from ledger_service.chainsync.restore import prepared_transaction
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainCheckpoint, ChainRecord
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.samples.data import SampleWriter, stories
from tests.db.erasure import erase_lawfully
from tests.db.fixtures import IndexDatabase
from tests.unit.test_chainsync_parse import (
    NOTE,
    NS,
    TS,
    batch_writes,
    checkpoint_value,
    commitment_key,
    commitment_of,
    envelope,
    make_chain,
    record_value,
)

CHANNEL = "ledger"


class ListSource:
    """A BlockSource over a list of blocks (block n at position n)."""

    def __init__(self, chain: list[common_pb2.Block]) -> None:
        self.chain = chain
        self.envelope_queries: list[str] = []

    def height(self) -> int:
        return len(self.chain)

    def blocks(self, start: int, stop: int) -> Iterator[common_pb2.Block]:
        yield from self.chain[start : stop + 1]

    def envelope(self, tx_id: str) -> bytes:
        self.envelope_queries.append(tx_id)
        for block in self.chain:
            for raw in block.data.data:
                env = common_pb2.Envelope.FromString(raw)
                payload = common_pb2.Payload.FromString(env.payload)
                if (
                    common_pb2.ChannelHeader.FromString(payload.header.channel_header).tx_id
                    == tx_id
                ):
                    return bytes(raw)
        raise KeyError(tx_id)


def synthetic_chain(
    n_blocks: int = 8, per_batch: int = 5, prefix: str = "r", invalid_in: int | None = None
) -> list[common_pb2.Block]:
    """Block 0: config; then one batch per block; block ``invalid_in`` also carries an
    invalidated (MVCC conflict) batch transaction."""
    per_block: list[list[common_pb2.Envelope]] = [[envelope("cfg", header_type=common_pb2.CONFIG)]]
    codes: dict[int, list[int]] = {}
    for n in range(1, n_blocks):
        ids = [f"{prefix}{n:03d}-{i}" for i in range(per_batch)]
        per_block.append([envelope(f"tx{n}", batch_writes(f"b{n}", f"tx{n}", ids))])
        if n == invalid_in:
            per_block[n].append(envelope("tx-bad", batch_writes("b-bad", "tx-bad", ["never"])))
            codes[n] = [transaction_pb2.VALID, transaction_pb2.MVCC_READ_CONFLICT]
    return make_chain(per_block, codes)


def _replay(db: IndexDatabase, source: ListSource, **kw: Any) -> Any:
    return replay(db.session_factory, source, channel=CHANNEL, chaincode=NS, **kw)


def mirror_dump(sessions: sessionmaker[Session]) -> tuple[list[Any], list[Any]]:
    with sessions() as s:
        batches = [tuple(r) for r in s.execute(select(ChainBatch.__table__).order_by("batch_id"))]
        records = [
            tuple(r) for r in s.execute(select(ChainRecord.__table__).order_by("commitment"))
        ]
    return batches, records


def expected_rows(chain: list[common_pb2.Block]) -> tuple[set[Any], set[Any]]:
    batches: set[Any] = set()
    records: set[Any] = set()
    for block in chain:
        rows = extract_block(block, NS)
        batches.update((b.batch_id, b.root, b.size, b.tx_id, b.block_number) for b in rows.batches)
        records.update(rows.records)
    return batches, records


def assert_mirror_is(sessions: sessionmaker[Session], chain: list[common_pb2.Block]) -> None:
    batches, records = mirror_dump(sessions)
    exp_batches, exp_records = expected_rows(chain)
    assert {(b[0], bytes(b[1]), b[2], b[3], b[4]) for b in batches} == exp_batches
    assert {(bytes(r[0]), r[1], r[2], r[3], r[4]) for r in records} == exp_records
    assert len(records) == len(exp_records)


# -- replay ----------------------------------------------------------------------------------------


def test_replay_mirrors_valid_writes_and_is_idempotent(index_db: IndexDatabase) -> None:
    chain = synthetic_chain(invalid_in=3)
    source = ListSource(chain)

    result = _replay(index_db, source)
    assert (result.first_block, result.last_block, result.blocks) == (0, 7, 8)
    assert result.records == 35
    assert result.batches == 7
    assert result.skipped_transactions == 1
    assert_mirror_is(index_db.session_factory, chain)
    first = mirror_dump(index_db.session_factory)

    again = _replay(index_db, source, from_block=0)
    assert again.records == 35
    assert mirror_dump(index_db.session_factory) == first

    nothing = _replay(index_db, source)
    assert nothing.first_block is None
    assert nothing.blocks == 0
    with index_db.session_factory() as s:
        state = read_sync_state(s.connection(), CHANNEL)
    assert state is not None
    assert (state.first_block, state.last_block) == (0, 7)


def test_interrupted_replay_resumes_without_gap_or_duplicate(index_db: IndexDatabase) -> None:
    chain = synthetic_chain(12)
    source = ListSource(chain)
    seen: list[ReplayProgress] = []

    def crash_at_block_7(p: ReplayProgress) -> None:
        seen.append(p)
        if p.block_number == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _replay(index_db, source, flush_blocks=3, on_progress=crash_at_block_7)
    # ranges 0-2 and 3-5 were handed to the writer (and finished before the error
    # propagated); 6-7 were still buffered and are lost
    assert seen[-1].block_number == 7
    with index_db.session_factory() as s:
        state = read_sync_state(s.connection(), CHANNEL)
    assert state is not None
    committed = state.last_block
    assert committed == 5
    _, records = mirror_dump(index_db.session_factory)
    assert {r[3] for r in records} == set(range(1, committed + 1))

    resumed = _replay(index_db, source, flush_blocks=3)
    assert (resumed.first_block, resumed.last_block) == (committed + 1, 11)
    assert_mirror_is(index_db.session_factory, chain)

    partial = _replay(index_db, source, from_block=2, to_block=4)
    assert (partial.first_block, partial.last_block) == (2, 4)
    assert_mirror_is(index_db.session_factory, chain)
    with index_db.session_factory() as s:
        state = read_sync_state(s.connection(), CHANNEL)
    assert state is not None
    assert (state.first_block, state.last_block) == (0, 11)  # going back never moves the end


def test_gaps_and_foreign_chains_are_refused(index_db: IndexDatabase) -> None:
    chain = synthetic_chain(10)
    _replay(index_db, ListSource(chain), to_block=4)
    with pytest.raises(MirrorGapError, match="gap"):
        _replay(index_db, ListSource(chain), from_block=7)
    with pytest.raises(MirrorGapError, match="chaincode"):
        replay(index_db.session_factory, ListSource(chain), channel=CHANNEL, chaincode="other")
    # a recreated channel: same heights, different blocks
    other = synthetic_chain(10, prefix="x")
    with pytest.raises(ChainIntegrityError, match="recreated"):
        _replay(index_db, ListSource(other))
    with pytest.raises(ChainIntegrityError, match="only 3 blocks"):
        _replay(index_db, ListSource(chain[:3]))
    # reset starts over on the new chain
    result = _replay(index_db, ListSource(other), reset=True)
    assert (result.first_block, result.last_block) == (0, 9)
    assert_mirror_is(index_db.session_factory, other)


def test_an_empty_mirror_may_start_late(index_db: IndexDatabase) -> None:
    chain = synthetic_chain(6)
    result = _replay(index_db, ListSource(chain), from_block=3)
    assert (result.first_block, result.last_block) == (3, 5)
    with pytest.raises(MirrorGapError, match="gap before"):
        _replay(index_db, ListSource(chain), from_block=0, to_block=1)  # would leave 2 out

    def crash(p: ReplayProgress) -> None:
        if p.block_number == 1:
            raise KeyboardInterrupt

    # interrupted before reaching the mirror: rows written, the range not extended yet
    with pytest.raises(KeyboardInterrupt):
        _replay(index_db, ListSource(chain), from_block=0, flush_blocks=1, on_progress=crash)
    assert _sync_range(index_db) == (3, 5)
    full = _replay(index_db, ListSource(chain), from_block=0)
    assert full.first_block == 0
    assert _sync_range(index_db) == (0, 5)
    assert_mirror_is(index_db.session_factory, chain)


def _sync_range(db: IndexDatabase) -> tuple[int, int] | None:
    with db.session_factory() as s:
        state = read_sync_state(s.connection(), CHANNEL)
    return None if state is None else (state.first_block, state.last_block)


def test_replay_from_zero_repairs_an_edited_mirror(index_db: IndexDatabase) -> None:
    chain = synthetic_chain(5)
    _replay(index_db, ListSource(chain))
    with write_session(index_db.session_factory) as s:
        s.execute(
            update(ChainRecord)
            .where(ChainRecord.commitment == commitment_of("r002-1"))
            .values(leaf_index=999)
        )
        s.execute(delete(ChainRecord).where(ChainRecord.commitment == commitment_of("r003-0")))
        s.execute(update(ChainBatch).where(ChainBatch.batch_id == "b1").values(size=99))
    _replay(index_db, ListSource(chain), from_block=0)
    assert_mirror_is(index_db.session_factory, chain)


# -- restore and reconcile on an index with real records ------------------------------------------


class Ledger:
    """An index with sample records, and a synthetic chain that anchors some of them."""

    def __init__(self, db: IndexDatabase, count: int = 27, anchored: int = 18) -> None:
        self.db = db
        self.service = LedgerService(session_factory=db.session_factory)
        writer = SampleWriter()
        self.service.register_writer(writer.actor, writer.public_key)
        self.service.append(list(stories(writer, count, prefix="u")))
        with db.session_factory() as s:
            rows = s.execute(
                select(m.Record.record_id, m.Record.commitment).order_by(
                    m.Record.recorded_at, m.Record.record_id
                )
            ).all()
        self.commitments = {r.record_id: bytes(r.commitment) for r in rows}
        ids = [r.record_id for r in rows][:anchored]
        self.batches = {"b-1": ids[:10], "b-2": ids[10:]}
        per_block: list[list[common_pb2.Envelope]] = [
            [envelope("cfg", header_type=common_pb2.CONFIG)],
            [envelope("tx-foreign", batch_writes("b-foreign", "tx-foreign", ["f1", "f2"]))],
        ]
        for n, (bid, members) in enumerate(self.batches.items()):
            # A real RFC 6962 root over the members' commitments: reconcile recomputes it.
            root = MerkleTree.from_leaf_hashes(
                [commitment_leaf_hash(self.commitments[rid]) for rid in members]
            ).root
            writes = [
                (k, v)
                for k, v in batch_writes(bid, f"tx-{n}", members, root=root)
                if not k.startswith("\x00rec\x00")
            ]
            # record keys are the index's real commitments
            writes += [
                (commitment_key(self.commitments[rid]), record_value(bid, i))
                for i, rid in enumerate(members)
            ]
            per_block.append([envelope(f"tx-{n}", sorted(writes))])
        self.chain = make_chain(per_block)
        self.source = ListSource(self.chain)

    def mismatches(self, scope: str = "index") -> list[Mismatch]:
        return list(reconcile(self.db.session_factory, scope=scope, channel=CHANNEL))  # type: ignore[arg-type]


@pytest.fixture
def ledger(index_db: IndexDatabase) -> Ledger:
    return Ledger(index_db)


def _table(sessions: sessionmaker[Session], model: Any, *cols: str) -> set[tuple[Any, ...]]:
    with sessions() as s:
        return {
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in s.execute(select(*(getattr(model, c) for c in cols)))
        }


def test_rebuild_restores_anchoring_facts(ledger: Ledger) -> None:
    sessions = ledger.db.session_factory
    result = replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    r = result.restore
    assert r is not None
    assert (r.batches_inserted, r.anchors_inserted, r.envelopes_stored) == (2, 18, 2)
    assert r.outbox_marked_batched == 18
    assert ledger.source.envelope_queries == []  # envelopes came with the blocks
    batches = _table(
        sessions, m.Batch, "batch_id", "state", "tx_id", "block_number", "size", "validation_code"
    )
    assert batches == {
        ("b-1", "committed", "tx-0", 2, 10, "VALID"),
        ("b-2", "committed", "tx-1", 3, 8, "VALID"),
    }  # not the foreign batch: the index has none of its records
    anchors = _table(sessions, m.RecordAnchor, "record_id", "batch_id", "leaf_index")
    assert anchors == {
        (rid, bid, i) for bid, ids in ledger.batches.items() for i, rid in enumerate(ids)
    }
    with sessions() as s:
        env = s.scalar(select(m.Batch.envelope).where(m.Batch.batch_id == "b-1"))
        states = dict(s.execute(select(m.OutboxEntry.state, m.OutboxEntry.record_id)).all())
        pending = s.scalars(
            select(m.OutboxEntry.record_id).where(m.OutboxEntry.state == "pending")
        ).all()
    assert env == prepared_transaction("tx-0", ledger.source.envelope("tx-0"))
    assert states
    assert len(pending) == 9  # the 9 records the chain does not have stay queued

    again = replay(
        sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True, from_block=0
    )
    assert again.restore is not None
    assert again.restore.changed == 0
    assert ledger.mismatches() == []


def test_restore_after_losing_all_anchoring_state(ledger: Ledger) -> None:
    """A backup with records but no outbox/batches/anchors: rebuild makes it whole."""
    sessions = ledger.db.session_factory
    replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS)  # mirror only
    with write_session(sessions) as s:
        s.execute(delete(m.OutboxEntry))
    result = replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    assert result.first_block is None  # nothing new to replay: the whole-index pass did it
    r = result.restore
    assert r is not None
    assert (r.batches_inserted, r.anchors_inserted, r.outbox_inserted, r.requeued) == (2, 18, 18, 9)
    assert ledger.source.envelope_queries == ["tx-0", "tx-1"]  # fetched per batch
    with sessions() as s:
        pending = s.scalars(
            select(m.OutboxEntry.record_id).where(m.OutboxEntry.state == "pending")
        ).all()
    assert set(pending) == set(ledger.commitments) - {
        r for ids in ledger.batches.values() for r in ids
    }
    assert ledger.mismatches() == []


def test_restore_commits_a_batch_left_in_flight(ledger: Ledger) -> None:
    sessions = ledger.db.session_factory
    replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    with write_session(sessions) as s:
        s.execute(
            update(m.Batch)
            .where(m.Batch.batch_id == "b-2")
            .values(state="submitted", block_number=None, validation_code=None)
        )
    assert {x.kind for x in ledger.mismatches()} == {MismatchKind.ANCHORING_IN_PROGRESS}
    result = replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    assert result.restore is not None
    assert result.restore.batches_committed == 1
    assert _table(sessions, m.Batch, "batch_id", "state", "block_number") >= {
        ("b-2", "committed", 3)
    }
    assert ledger.mismatches() == []


def test_restore_never_overwrites_contradicting_facts(ledger: Ledger) -> None:
    sessions = ledger.db.session_factory
    replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    victim = ledger.batches["b-1"][3]
    with write_session(sessions) as s:
        s.execute(
            update(m.RecordAnchor).where(m.RecordAnchor.record_id == victim).values(leaf_index=77)
        )
        s.execute(update(m.Batch).where(m.Batch.batch_id == "b-2").values(tx_id="forged"))
    result = replay(
        sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True, from_block=0
    )
    assert result.restore is not None
    assert result.restore.changed == 0
    found = {(x.kind, x.record_id) for x in ledger.mismatches()}
    assert (MismatchKind.WRONG_LEAF_INDEX, victim) in found
    assert {rid for k, rid in found if k == MismatchKind.WRONG_TX_ID} == set(ledger.batches["b-2"])


def test_reconcile_scope_and_erasure(ledger: Ledger, tmp_path: Path) -> None:
    sessions = ledger.db.session_factory
    replay(sessions, ledger.source, channel=CHANNEL, chaincode=NS, restore=True)
    assert ledger.mismatches("index") == []
    # scope "channel": the foreign batch's records are missing from this index
    channel = ledger.mismatches("channel")
    # named by commitment: the chain never knew their record ids
    assert {(x.kind, x.record_id, x.commitment) for x in channel} == {
        (MismatchKind.MISSING_FROM_INDEX, None, commitment_of("f1").hex()),
        (MismatchKind.MISSING_FROM_INDEX, None, commitment_of("f2").hex()),
    }
    erased = ledger.batches["b-1"][-1]  # the last record of a story has no children
    erase_lawfully(ledger.service, sessions, tmp_path, erased)
    found = ledger.mismatches()
    assert [(x.kind, x.record_id, x.is_tampering) for x in found] == [
        (MismatchKind.ERASED, erased, False)
    ]
    # content deleted behind the service's back (no erasure record) is still tampering
    deleted = ledger.batches["b-1"][-2]
    ledger.service.erase_record_content(deleted)
    found = ledger.mismatches()
    assert {(x.kind, x.record_id, x.is_tampering) for x in found} == {
        (MismatchKind.ERASED, erased, False),
        (MismatchKind.CONTENT_MISSING, deleted, True),
    }
    # and so is an erased_by that points at a record that is not its erasure record
    with sessions.begin() as s:
        s.execute(update(m.Record).where(m.Record.record_id == deleted).values(erased_by=erased))
    (forged,) = [x for x in ledger.mismatches() if x.record_id == deleted]
    assert forged.kind is MismatchKind.CONTENT_MISSING
    assert "not an erasure record" in (forged.index_value or "")


def test_replay_mirrors_anchored_checkpoints_and_reset_clears_them(
    index_db: IndexDatabase,
) -> None:
    per_block: list[list[common_pb2.Envelope]] = [[envelope("cfg", header_type=common_pb2.CONFIG)]]
    per_block.append([envelope("tx1", batch_writes("b1", "tx1", ["r1", "r2", "r3"]))])
    writes = [
        ("\x00tlog\x00key\x00", b"credit-ledger.example/ledger/ledger+abcd1234+AAAA"),
        ("\x00tlog\x00head\x00", checkpoint_value(3, 0, "tx-cp")),
        (f"\x00tlog\x00{3:020d}\x00", checkpoint_value(3, 0, "tx-cp")),
    ]
    per_block.append([envelope("tx-cp", writes)])
    source = ListSource(make_chain(per_block, {}))
    _replay(index_db, source)
    _replay(index_db, source, from_block=0)  # again: idempotent
    sessions = index_db.session_factory
    with sessions() as s:
        rows = [tuple(r) for r in s.execute(select(ChainCheckpoint.__table__))]
    assert rows == [
        (3, b"\x12" * 32, 0, NOTE.encode(), "tx-cp", 2, 0, "PlatformMSP", TS),
    ]
    _replay(index_db, source, reset=True, to_block=0)
    with sessions() as s:
        assert s.scalars(select(ChainCheckpoint)).all() == []
