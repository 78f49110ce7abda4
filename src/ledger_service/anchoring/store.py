"""The anchoring worker's database side: every state change of a batch, one transaction each.

Batch states (``index.models.BatchState``)::

    pending ──(signed envelope stored)──▶ submitted ──(VALID in a block)──▶ committed
       │                                     │
       └──────────(refused / invalid)────────┴──▶ failed   (its records go back to the queue)

The signed transaction is stored *before* it is sent, so after a crash the worker resubmits
exactly the bytes it may already have sent (same transaction id): Fabric commits a transaction
id at most once, and the chaincode refuses to write a record or batch id twice.

A batch's leaves are the outbox rows it claimed, in queue order: records and access-log
entries alike (each a 32-byte commitment; on chain both are record keys). Records get a
``record_anchors`` row, entries an ``access_anchors`` row, with one leaf index space per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from credit_ledger_verify.onchain import encode_put_batch
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import models as m
from ledger_service.index.leaves import batch_leaves
from ledger_service.index.session import write_session

Clock = Callable[[], dt.datetime]
T = TypeVar("T")
_UNFINISHED = (m.BatchState.PENDING, m.BatchState.SUBMITTED)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, kw_only=True)
class BatchPlan:
    """A batch as the worker needs it: what to put on chain, and where it stands."""

    batch_id: str
    root: bytes
    #: the batch's records (their leaves are among ``commitments``)
    record_ids: tuple[str, ...]
    #: every leaf's commitment, in leaf order (records and access-log entries)
    commitments: tuple[bytes, ...]
    state: str
    envelope: bytes | None = None
    tx_id: str | None = None
    #: the batch's access-log entries
    access_entry_ids: tuple[int, ...] = ()

    def chaincode_argument(self) -> bytes:
        """The PutBatch argument (credit_ledger_verify.onchain): commitments in leaf order; the
        record ids stay off chain."""
        return encode_put_batch(self.batch_id, self.root, self.commitments)

    def transient_data(self) -> dict[str, bytes]:
        """PutBatch's argument as transient data (field "batch"): the endorsers get it, but
        Fabric leaves it out of the committed transaction, whose write set already holds
        every commitment — the block stays about a third smaller."""
        return {"batch": self.chaincode_argument()}


class AnchoringStore:
    def __init__(self, *, session_factory: sessionmaker[Session], clock: Clock = _utcnow) -> None:
        self._sessions = session_factory
        self._clock = clock

    # -- forming batches ------------------------------------------------------------------------
    def pending_count(self) -> int:
        with self._sessions() as s:
            return int(
                s.scalar(select(func.count()).select_from(m.OutboxEntry).where(m.OUTBOX_PENDING))
                or 0
            )

    def pending_summary(self, limit: int) -> tuple[int, dt.datetime | None]:
        """(pending records, capped at `limit`; when the oldest was enqueued), in one query."""
        head = (
            select(m.OutboxEntry.enqueued_at)
            .where(m.OUTBOX_PENDING)
            .order_by(m.OutboxEntry.seq)
            .limit(limit)
            .subquery()
        )
        with self._sessions() as s:
            count, oldest = s.execute(select(func.count(), func.min(head.c.enqueued_at))).one()
        return int(count), oldest

    def claim_batch(self, limit: int) -> BatchPlan | None:
        """Take up to `limit` of the oldest pending leaves (records and access-log entries)
        into a new batch (one transaction)."""
        with write_session(self._sessions) as s:
            rows = s.execute(
                select(
                    m.OutboxEntry.seq,
                    m.OutboxEntry.record_id,
                    m.OutboxEntry.access_entry_id,
                    func.coalesce(m.Record.commitment, m.AccessLogEntry.commitment).label(
                        "commitment"
                    ),
                )
                .outerjoin(m.Record, m.Record.record_id == m.OutboxEntry.record_id)
                .outerjoin(m.AccessLogEntry, m.AccessLogEntry.id == m.OutboxEntry.access_entry_id)
                .where(m.OUTBOX_PENDING)
                .order_by(m.OutboxEntry.seq)
                .limit(limit)
                .with_for_update(skip_locked=True, of=m.OutboxEntry)
            ).all()
            if not rows:
                return None
            commitments = tuple(bytes(r.commitment) for r in rows)
            tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(c) for c in commitments])
            # First queue position + root prefix: unique (a seq is batched once; the root part
            # guards against a reset queue) and short — the id is repeated in every record
            # value on chain, so each byte is paid for thousands of times per batch.
            batch_id = f"b{rows[0].seq}-{tree.root.hex()[:12]}"
            # The same records, re-queued after a failed batch, form the same id again: the
            # failed batch keeps its row (and its reason), so the retry gets a suffix.
            attempt = 1
            while s.get(m.Batch, batch_id) is not None:
                attempt += 1
                batch_id = f"b{rows[0].seq}.{attempt}-{tree.root.hex()[:12]}"
            now = self._clock()
            s.add(
                m.Batch(
                    batch_id=batch_id,
                    root=tree.root,
                    size=len(rows),
                    state=m.BatchState.PENDING,
                    created_at=now,
                    submit_attempts=0,
                )
            )
            s.flush()
            record_anchors = [
                {"record_id": r.record_id, "batch_id": batch_id, "leaf_index": i}
                for i, r in enumerate(rows)
                if r.record_id is not None
            ]
            access_anchors = [
                {"entry_id": r.access_entry_id, "batch_id": batch_id, "leaf_index": i}
                for i, r in enumerate(rows)
                if r.record_id is None
            ]
            if record_anchors:
                s.execute(insert(m.RecordAnchor), record_anchors)
            if access_anchors:
                s.execute(insert(m.AccessAnchor), access_anchors)
            seqs = [r.seq for r in rows]
            for chunk in _chunks(seqs, 5000):
                s.execute(
                    update(m.OutboxEntry)
                    .where(m.OutboxEntry.seq.in_(chunk))
                    .values(state=m.OutboxState.BATCHED, batched_at=now)
                )
            return BatchPlan(
                batch_id=batch_id,
                root=tree.root,
                record_ids=tuple(a["record_id"] for a in record_anchors),
                commitments=commitments,
                state=m.BatchState.PENDING,
                access_entry_ids=tuple(a["entry_id"] for a in access_anchors),
            )

    def unfinished_batches(self) -> list[BatchPlan]:
        """Batches a previous run left pending or submitted, oldest first."""
        with self._sessions() as s:
            batch_ids = s.scalars(
                select(m.Batch.batch_id)
                .where(m.Batch.state.in_(_UNFINISHED))
                .order_by(m.Batch.created_at, m.Batch.batch_id)
            ).all()
        return [plan for b in batch_ids if (plan := self.load_plan(b)) is not None]

    def unfinished_count(self) -> int:
        with self._sessions() as s:
            return int(
                s.scalar(
                    select(func.count()).select_from(m.Batch).where(m.Batch.state.in_(_UNFINISHED))
                )
                or 0
            )

    def load_plan(self, batch_id: str) -> BatchPlan | None:
        """A batch as stored: its members in leaf order, state, and signed transaction."""
        with self._sessions() as s:
            b = s.get(m.Batch, batch_id)
            if b is None:
                return None
            members = s.execute(batch_leaves(batch_id)).all()
            return BatchPlan(
                batch_id=b.batch_id,
                root=bytes(b.root),
                record_ids=tuple(r.record_id for r in members if r.record_id is not None),
                commitments=tuple(bytes(r.commitment) for r in members),
                state=b.state,
                envelope=b.envelope,
                tx_id=b.tx_id,
                access_entry_ids=tuple(r.entry_id for r in members if r.entry_id is not None),
            )

    # -- state transitions ----------------------------------------------------------------------
    def mark_submitted(self, batch_id: str, *, envelope: bytes, tx_id: str) -> None:
        """Persist the signed transaction; called BEFORE it is sent to the orderer."""
        with write_session(self._sessions) as s:
            s.execute(
                update(m.Batch)
                .where(m.Batch.batch_id == batch_id)
                .values(
                    state=m.BatchState.SUBMITTED,
                    envelope=envelope,
                    tx_id=tx_id,
                    submitted_at=self._clock(),
                    submit_attempts=m.Batch.submit_attempts + 1,
                )
            )

    def mark_committed(self, batch_id: str, *, block_number: int) -> None:
        with write_session(self._sessions) as s:
            s.execute(
                update(m.Batch)
                .where(m.Batch.batch_id == batch_id)
                .values(
                    state=m.BatchState.COMMITTED,
                    block_number=block_number,
                    validation_code="VALID",
                    committed_at=self._clock(),
                )
            )

    def mark_failed(
        self,
        batch_id: str,
        *,
        reason: str,
        validation_code: str | None = None,
        block_number: int | None = None,
        requeue: bool = True,
    ) -> None:
        """The batch will never be on chain: record why, and (normally) put its records back
        in the queue for a new batch."""
        with write_session(self._sessions) as s:
            s.execute(
                update(m.Batch)
                .where(m.Batch.batch_id == batch_id)
                .values(
                    state=m.BatchState.FAILED,
                    failure_reason=reason[:2000],
                    validation_code=validation_code,
                    block_number=block_number,
                )
            )
            if not requeue:
                return
            record_ids = s.scalars(
                select(m.RecordAnchor.record_id).where(m.RecordAnchor.batch_id == batch_id)
            ).all()
            entry_ids = s.scalars(
                select(m.AccessAnchor.entry_id).where(m.AccessAnchor.batch_id == batch_id)
            ).all()
            s.execute(delete(m.RecordAnchor).where(m.RecordAnchor.batch_id == batch_id))
            s.execute(delete(m.AccessAnchor).where(m.AccessAnchor.batch_id == batch_id))
            for column, ids in (
                (m.OutboxEntry.record_id, list(record_ids)),
                (m.OutboxEntry.access_entry_id, list(entry_ids)),
            ):
                for chunk in _chunks(ids, 5000):
                    s.execute(
                        update(m.OutboxEntry)
                        .where(column.in_(chunk))
                        .values(state=m.OutboxState.PENDING, batched_at=None)
                    )


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
