"""Replay the channel's blocks into the chain mirror (and optionally restore the index from it).

::

    with target.gateway() as gw:
        result = replay(sessions, DeliverBlockStream(gw, channel),
                        channel=channel, chaincode=chaincode, restore=True)

* The range: from ``from_block`` if given, else right after the mirror's last block
  (``chain_sync``), else block 0 — up to the chain height read once at the start
  (``qscc GetChainInfo``); blocks committed later are left for the next run.
* The blocks come over ONE Deliver stream
  (:class:`~ledger_service.fabric.blocks.DeliverBlockStream`).
* Every block is checked to follow the previous one (number, previous-hash link, data
  hash); a resumed replay also checks the link to the last block already mirrored, so a
  mirror of a recreated channel is refused instead of being silently mixed.
* Rows are buffered and written per block *range* (``flush_records`` / ``flush_blocks`` /
  ``flush_seconds``, whichever comes first) in one transaction together with the new
  checkpoint: an interrupted replay keeps every range it finished and resumes right after.
* With ``restore=True`` each range also fills the index's own missing anchoring facts for
  the batches in it (see :mod:`.restore`), and at the end a whole-index pass covers records
  of blocks mirrored earlier; envelopes not seen in this replay are fetched per batch with
  ``qscc GetTransactionByID``.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from ledger_service.chainsync.mirror import (
    MirrorGapError,
    SyncState,
    clear_mirror,
    read_sync_state,
    write_range,
)
from ledger_service.chainsync.parse import (
    BlockRows,
    ChainBatchRow,
    ChainCheckpointRow,
    ChainIntegrityError,
    ChainRecordRow,
    extract_block,
)
from ledger_service.chainsync.restore import (
    RestoreStats,
    missing_envelopes,
    restore_index_facts,
    store_envelopes,
)
from ledger_service.fabric.blocks import BlockStream
from ledger_service.index.session import write_session

__all__ = ["ReplayProgress", "ReplayResult", "replay"]

#: anomalies kept in the result (the count is always exact)
MAX_ANOMALIES = 1000


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """Reported after every block."""

    block_number: int
    first_block: int
    last_block: int
    blocks: int
    records: int
    batches: int
    #: the last block whose range is committed to the database (``None``: none yet)
    committed_block: int | None


@dataclass
class ReplayResult:
    channel: str
    chaincode: str
    #: the chain height read at the start (blocks 0..height-1 existed)
    height: int
    #: the replayed range, inclusive (``None``/``None`` when there was nothing to replay)
    first_block: int | None = None
    last_block: int | None = None
    blocks: int = 0
    transactions: int = 0
    skipped_transactions: int = 0
    batches: int = 0
    records: int = 0
    checkpoints: int = 0
    anomaly_count: int = 0
    anomalies: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: where the time went: decoding blocks, waiting for the next block from the peer,
    #: waiting for the writer to take a range (main thread); writing the mirror and
    #: restoring the index's facts (writer thread, overlapping the decoding)
    parse_seconds: float = 0.0
    wait_block_seconds: float = 0.0
    wait_writer_seconds: float = 0.0
    write_seconds: float = 0.0
    restore_seconds: float = 0.0
    restore: RestoreStats | None = None
    sync: SyncState | None = None

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Buffer:
    first: int | None = None
    last: int = -1
    last_hash: bytes = b""
    blocks: int = 0
    batches: list[ChainBatchRow] = field(default_factory=list)
    records: list[ChainRecordRow] = field(default_factory=list)
    checkpoints: list[ChainCheckpointRow] = field(default_factory=list)
    envelopes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, rows: BlockRows) -> None:
        if self.first is None:
            self.first = rows.number
        self.last = rows.number
        self.last_hash = rows.header_hash
        self.blocks += 1
        self.batches.extend(rows.batches)
        self.records.extend(rows.records)
        self.checkpoints.extend(rows.checkpoints)
        tx_of = {b.batch_id: b.tx_id for b in rows.batches}
        for batch_id, envelope in rows.envelopes.items():
            self.envelopes[batch_id] = (tx_of[batch_id], envelope)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def replay(
    sessions: sessionmaker[Session],
    source: BlockStream,
    *,
    channel: str,
    chaincode: str,
    from_block: int | None = None,
    to_block: int | None = None,
    reset: bool = False,
    restore: bool = False,
    requeue: bool = True,
    flush_records: int = 50_000,
    flush_blocks: int = 2_000,
    flush_seconds: float = 5.0,
    on_progress: Callable[[ReplayProgress], None] | None = None,
    clock: Callable[[], dt.datetime] = _utcnow,
) -> ReplayResult:
    """Replay blocks into the mirror tables of the index behind ``sessions``.

    Args:
        from_block: replay from this block (default: resume after ``chain_sync``, or 0).
            It may go back (a replay is idempotent) but not beyond the mirror's end + 1; an
            empty mirror may start anywhere (it then covers the channel from that block on).
        to_block: stop after this block (default: the last block at the start).
        reset: empty the mirror first (a full replay from block 0 then rebuilds it).
        restore: also fill the index's missing anchoring facts (``ledgerctl index rebuild``).
        requeue: with ``restore``, queue index records that are neither anchored nor on chain
            (only when the mirror then covers the whole channel from block 0).
        on_progress: called after every block; an exception from it aborts the replay
            (every range committed so far stays).

    Raises:
        MirrorGapError: ``from_block`` lies beyond the mirror's end + 1, or the mirror holds
            another chaincode.
        ChainIntegrityError: the blocks do not link up (or the mirror is ahead of the chain,
            or does not link to the chain's blocks: a recreated channel).
    """
    t0 = time.monotonic()
    height = source.height()
    result = ReplayResult(channel=channel, chaincode=chaincode, height=height)
    with write_session(sessions) as s:
        conn = s.connection()
        if reset:
            clear_mirror(conn, channel)
        state = read_sync_state(conn, channel)
    if state is not None and state.chaincode != chaincode:
        raise MirrorGapError(
            f"the mirror of channel {channel!r} holds chaincode {state.chaincode!r}, not "
            f"{chaincode!r}; reset it first"
        )
    if state is not None and state.last_block >= height:
        raise ChainIntegrityError(
            f"the mirror reaches block {state.last_block} but the channel has only {height} "
            "blocks: was the channel recreated? (reset the mirror)"
        )
    resume_at = state.last_block + 1 if state is not None else 0
    start = resume_at if from_block is None else from_block
    if start < 0:
        raise ValueError(f"from_block must be >= 0, got {start}")
    if state is not None and start > resume_at:
        raise MirrorGapError(
            f"the mirror ends at block {resume_at - 1}; replaying from block {start} would "
            f"leave a gap (use a start block <= {resume_at})"
        )
    stop = height - 1 if to_block is None else min(to_block, height - 1)
    if state is not None and start < state.first_block and stop < state.first_block - 1:
        raise MirrorGapError(
            f"the mirror starts at block {state.first_block}; replaying blocks {start}..{stop} "
            "would leave a gap before it"
        )
    link = state.last_block_hash if state is not None and start == resume_at else None

    if start <= stop:
        _replay_range(
            sessions,
            source,
            start,
            stop,
            link,
            result,
            restore,
            flush_records,
            flush_blocks,
            flush_seconds,
            on_progress,
            clock,
        )

    if restore:
        r0 = time.monotonic()
        result.restore = result.restore or RestoreStats()
        with write_session(sessions) as s:
            conn = s.connection()
            final = read_sync_state(conn, channel)
            whole = final is not None and final.first_block == 0 and final.last_block == height - 1
            covered_now = result.first_block == 0 and result.last_block == height - 1
            if not covered_now:
                result.restore.add(restore_index_facts(conn, requeue=False, now=clock()))
            if requeue and whole:
                requeued = restore_index_facts(conn, batch_ids=[], requeue=True, now=clock())
                result.restore.add(requeued)
            wanted = missing_envelopes(conn)
        if wanted:
            fetched = {bid: (tx, source.envelope(tx)) for bid, tx in wanted}
            with write_session(sessions) as s:
                result.restore.envelopes_stored += store_envelopes(s.connection(), fetched)
        result.restore_seconds += time.monotonic() - r0

    with sessions() as s:
        result.sync = read_sync_state(s.connection(), channel)
    result.seconds = time.monotonic() - t0
    return result


class _RangeWriter:
    """Writes block ranges on a background thread while the caller decodes the next ones.

    At most one range waits while another is written (so memory stays bounded and the
    replay cannot run far ahead of the database). Ranges are written in order, each in its
    own transaction with its checkpoint. :meth:`close` waits for everything handed over;
    after a failure, the ranges already committed stay committed.
    """

    def __init__(self, write: Callable[[_Buffer], None]) -> None:
        self._write = write
        self._queue: queue.Queue[_Buffer | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mirror-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain: nothing after a failed range may be written
            try:
                self._write(item)
            except BaseException as exc:  # handed to the caller
                self._error = exc

    def submit(self, buffer: _Buffer) -> None:
        self._raise()
        self._queue.put(buffer)

    def close(self) -> None:
        """Wait until every range handed over is written; re-raise a write failure."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def _replay_range(
    sessions: sessionmaker[Session],
    source: BlockStream,
    start: int,
    stop: int,
    link: bytes | None,
    result: ReplayResult,
    restore: bool,
    flush_records: int,
    flush_blocks: int,
    flush_seconds: float,
    on_progress: Callable[[ReplayProgress], None] | None,
    clock: Callable[[], dt.datetime],
) -> None:
    committed: int | None = None

    def write(buffer: _Buffer) -> None:
        nonlocal committed
        assert buffer.first is not None
        w0 = time.monotonic()
        with write_session(sessions) as s:
            conn = s.connection()
            write_range(
                conn,
                channel=result.channel,
                chaincode=result.chaincode,
                first=buffer.first,
                last=buffer.last,
                last_hash=buffer.last_hash,
                batches=buffer.batches,
                records=buffer.records,
                now=clock(),
                replay_start=start,
                checkpoints=buffer.checkpoints,
            )
            w1 = time.monotonic()
            if restore:
                ids = [b.batch_id for b in buffer.batches]
                stats = restore_index_facts(conn, batch_ids=ids, now=clock())
                need = {bid for bid, _ in missing_envelopes(conn, ids)}
                stats.envelopes_stored = store_envelopes(
                    conn, {bid: env for bid, env in buffer.envelopes.items() if bid in need}
                )
                if result.restore is None:
                    result.restore = RestoreStats()
                result.restore.add(stats)
        w2 = time.monotonic()
        result.write_seconds += w1 - w0
        result.restore_seconds += w2 - w1
        committed = buffer.last
        if result.first_block is None:
            result.first_block = buffer.first
        result.last_block = buffer.last

    writer = _RangeWriter(write)
    buffer = _Buffer()
    expected = start
    blocks = iter(source.blocks(start, stop))
    try:
        while True:
            b0 = time.monotonic()
            block = next(blocks, None)
            p0 = time.monotonic()
            result.wait_block_seconds += p0 - b0
            if block is None:
                break
            number = block.header.number
            if number != expected:
                raise ChainIntegrityError(
                    f"expected block {expected}, the peer sent block {number}"
                )
            if link is not None and block.header.previous_hash != link:
                raise ChainIntegrityError(
                    f"block {number} does not link to block {number - 1} "
                    + (
                        "as mirrored (was the channel recreated? reset the mirror)"
                        if number == start
                        else "(previous-hash mismatch)"
                    )
                )
            rows = extract_block(block, result.chaincode, keep_envelopes=restore)
            result.parse_seconds += time.monotonic() - p0
            link = rows.header_hash
            expected = number + 1
            buffer.add(rows)
            result.blocks += 1
            result.transactions += rows.valid_transactions
            result.skipped_transactions += rows.skipped_transactions
            result.batches += len(rows.batches)
            result.records += len(rows.records)
            result.checkpoints += len(rows.checkpoints)
            if rows.anomalies:
                result.anomaly_count += len(rows.anomalies)
                room = MAX_ANOMALIES - len(result.anomalies)
                result.anomalies.extend(rows.anomalies[: max(room, 0)])
            if (
                number >= stop
                or len(buffer.records) >= flush_records
                or buffer.blocks >= flush_blocks
                or time.monotonic() - buffer.started >= flush_seconds
            ):
                s0 = time.monotonic()
                writer.submit(buffer)
                result.wait_writer_seconds += time.monotonic() - s0
                buffer = _Buffer()
            if on_progress is not None:
                on_progress(
                    ReplayProgress(
                        block_number=number,
                        first_block=start,
                        last_block=stop,
                        blocks=result.blocks,
                        records=result.records,
                        batches=result.batches,
                        committed_block=committed,
                    )
                )
            if number >= stop:
                break
    finally:
        # On any exit — also an exception or interrupt — finish the ranges already handed
        # over (each is one transaction; the checkpoint then names the last one written).
        s0 = time.monotonic()
        try:
            writer.close()
        finally:
            result.wait_writer_seconds += time.monotonic() - s0
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
    if expected <= stop:
        raise ChainIntegrityError(f"the block stream ended at block {expected - 1}, before {stop}")
