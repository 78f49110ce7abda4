"""Restore the index's anchoring facts from the chain mirror (set-based SQL, no row loops).

What the chain knows, and so what a replay can put back into an index that has the record
rows (e.g. restored from a backup taken without — or before — the anchoring state):

* ``batches`` — one row per chain batch that holds at least one of the index's records:
  batch id, root, size, tx id, block number, state ``committed``, validation code ``VALID``,
  and the signed transaction envelope (from the block itself). ``created_at`` /
  ``submitted_at`` / ``committed_at`` become the transaction's timestamp (the worker's own
  clock readings are not on chain), ``submit_attempts`` 0. The envelope is stored the way
  the worker stores it: a ``gateway.PreparedTransaction`` (tx id + the signed envelope
  exactly as committed in the block). A batch the index still has as
  ``pending`` / ``submitted`` while the chain has it committed (same root and size, same or
  no tx id) is moved to ``committed`` with the chain's tx id and block.
* ``record_anchors`` — batch and leaf index of every index record the chain holds (matched
  on its commitment, the chain's key), where the index has no anchor for it (and that leaf
  of that batch is free).
* ``anchoring_outbox`` — anchored records are marked ``batched`` (a missing outbox row is
  created); with ``requeue``, records that are in the index but neither anchored nor on the
  chain get a ``pending`` outbox row, so the worker anchors them (only done when the mirror
  covers the whole channel, from block 0).
* access-log entries, anchored in the same batches, the same way: ``access_anchors`` by
  commitment, their outbox rows ``batched`` (or created), and with ``requeue`` the entries
  neither anchored nor on chain queued again. A batch counts as the index's when it holds a
  record *or* an access-log entry of the index.

Stop the anchoring worker of this index while rebuilding an index restored from a backup:
a batch the backup has as ``pending`` may be committed here while a running worker would
endorse it again (the chaincode then refuses it and the worker marks it failed). Against a
running worker on an intact index a rebuild is harmless (it finds nothing to fill).

What it never touches: existing facts that contradict the chain (a different batch, leaf,
tx id, root…: that is tampering or a bug, reported by reconcile, not silently "fixed"), and
anything that only lives off chain — record content, salts, envelopes of the records,
lineage, writer keys, access log. The chain holds only salted commitments, so a lost
payload or salt cannot be recovered from it (that is the point of crypto-shredding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fabric_protos.gateway import gateway_pb2
from sqlalchemy import (
    Connection,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)

from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainRecord

__all__ = ["RestoreStats", "missing_envelopes", "restore_index_facts", "store_envelopes"]

_r: Table = m.Record.__table__  # type: ignore[assignment]
_a: Table = m.RecordAnchor.__table__  # type: ignore[assignment]
_b: Table = m.Batch.__table__  # type: ignore[assignment]
_o: Table = m.OutboxEntry.__table__  # type: ignore[assignment]
_cb: Table = ChainBatch.__table__  # type: ignore[assignment]
_cr: Table = ChainRecord.__table__  # type: ignore[assignment]
_log: Table = m.AccessLogEntry.__table__  # type: ignore[assignment]
_aa: Table = m.AccessAnchor.__table__  # type: ignore[assignment]

_COMMITTED = m.BatchState.COMMITTED.value
_IN_FLIGHT = (m.BatchState.PENDING.value, m.BatchState.SUBMITTED.value)


@dataclass
class RestoreStats:
    batches_committed: int = 0  # pending/submitted → committed
    batches_inserted: int = 0
    envelopes_stored: int = 0
    anchors_inserted: int = 0
    outbox_marked_batched: int = 0
    outbox_inserted: int = 0
    requeued: int = 0

    def add(self, other: RestoreStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def changed(self) -> int:
        return sum(getattr(self, name) for name in self.__dataclass_fields__)


def _rowcount(conn: Connection, statement: Any) -> int:
    """Rows changed by one INSERT .. SELECT / UPDATE (psycopg needs ``preserve_rowcount``)."""
    return int(conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount)


def _in(column: Any, batch_ids: Sequence[str] | None) -> Any:
    return column.in_(batch_ids) if batch_ids is not None else true()


def restore_index_facts(
    conn: Connection,
    *,
    batch_ids: Sequence[str] | None = None,
    requeue: bool = False,
    now: dt.datetime | None = None,
) -> RestoreStats:
    """Fill the index's missing anchoring facts from the mirror, in ``conn``'s transaction.

    ``batch_ids`` limits the work to those chain batches (a replay calls this for every block
    range it writes); ``None`` considers the whole mirror. ``requeue`` also queues index
    records the chain does not have (only meaningful when the mirror covers the channel).
    """
    stats = RestoreStats()
    now = now or dt.datetime.now(dt.UTC)
    if batch_ids is not None and not batch_ids and not requeue:
        return stats

    # 1. batches the index still has in flight, but the chain has committed
    stats.batches_committed = _rowcount(
        conn,
        update(_b)
        .where(
            _b.c.batch_id == _cb.c.batch_id,
            _in(_cb.c.batch_id, batch_ids),
            _b.c.state.in_(_IN_FLIGHT),
            _b.c.root == _cb.c.root,
            _b.c.size == _cb.c.size,
            or_(_b.c.tx_id.is_(None), _b.c.tx_id == _cb.c.tx_id),
        )
        .values(
            state=_COMMITTED,
            tx_id=_cb.c.tx_id,
            block_number=_cb.c.block_number,
            validation_code="VALID",
            failure_reason=None,
            committed_at=func.coalesce(_b.c.committed_at, _cb.c.tx_timestamp),
        )
        .execution_options(synchronize_session=False),
    )

    # 2. chain batches holding index records that the index has no row for
    index_has_a_record = or_(
        exists().where(_cr.c.batch_id == _cb.c.batch_id, _r.c.commitment == _cr.c.commitment),
        exists().where(_cr.c.batch_id == _cb.c.batch_id, _log.c.commitment == _cr.c.commitment),
    )
    new_batches = select(
        _cb.c.batch_id,
        _cb.c.root,
        _cb.c.size,
        literal(_COMMITTED),
        _cb.c.tx_id,
        _cb.c.block_number,
        literal("VALID"),
        literal(0),
        _cb.c.tx_timestamp,
        _cb.c.tx_timestamp,
        _cb.c.tx_timestamp,
    ).where(
        _in(_cb.c.batch_id, batch_ids),
        ~exists().where(_b.c.batch_id == _cb.c.batch_id),
        ~exists().where(_b.c.tx_id == _cb.c.tx_id),
        index_has_a_record,
    )
    stats.batches_inserted = _rowcount(
        conn,
        insert(_b).from_select(
            [
                "batch_id",
                "root",
                "size",
                "state",
                "tx_id",
                "block_number",
                "validation_code",
                "submit_attempts",
                "created_at",
                "submitted_at",
                "committed_at",
            ],
            new_batches,
        ),
    )

    # 3. anchors of index records the chain holds, where the index has none
    new_anchors = (
        select(_r.c.record_id, _cr.c.batch_id, _cr.c.leaf_index)
        .join(_r, _r.c.commitment == _cr.c.commitment)
        .join(_b, and_(_b.c.batch_id == _cr.c.batch_id, _b.c.state == _COMMITTED))
        .where(
            _in(_cr.c.batch_id, batch_ids),
            ~exists().where(_a.c.record_id == _r.c.record_id),
            ~exists().where(_a.c.batch_id == _cr.c.batch_id, _a.c.leaf_index == _cr.c.leaf_index),
        )
    )
    stats.anchors_inserted = _rowcount(
        conn, insert(_a).from_select(["record_id", "batch_id", "leaf_index"], new_anchors)
    )

    # 4. the outbox of anchored records says "batched"
    anchored_committed = (
        select(_a.c.record_id)
        .join(_b, _b.c.batch_id == _a.c.batch_id)
        .where(_b.c.state == _COMMITTED, _in(_a.c.batch_id, batch_ids))
    )
    stats.outbox_marked_batched = _rowcount(
        conn,
        update(_o)
        .where(_o.c.state == m.OutboxState.PENDING.value, _o.c.record_id.in_(anchored_committed))
        .values(state=m.OutboxState.BATCHED.value, batched_at=func.coalesce(_o.c.batched_at, now))
        .execution_options(synchronize_session=False),
    )
    missing_outbox = (
        select(
            _r.c.record_id,
            literal(m.OutboxState.BATCHED.value),
            _r.c.recorded_at,
            _b.c.committed_at,
        )
        .join(_a, _a.c.record_id == _r.c.record_id)
        .join(_b, _b.c.batch_id == _a.c.batch_id)
        .where(
            _b.c.state == _COMMITTED,
            _in(_a.c.batch_id, batch_ids),
            ~exists().where(_o.c.record_id == _r.c.record_id),
        )
        .order_by(_r.c.recorded_at, _r.c.record_id)
    )
    stats.outbox_inserted = _rowcount(
        conn,
        insert(_o).from_select(["record_id", "state", "enqueued_at", "batched_at"], missing_outbox),
    )

    # 5. records nobody will ever anchor: no outbox row, no anchor, not on chain → queue them
    if requeue:
        orphans = (
            select(_r.c.record_id, literal(m.OutboxState.PENDING.value), _r.c.recorded_at)
            .where(
                ~exists().where(_o.c.record_id == _r.c.record_id),
                ~exists().where(_a.c.record_id == _r.c.record_id),
                ~exists().where(_cr.c.commitment == _r.c.commitment),
            )
            .order_by(_r.c.recorded_at, _r.c.record_id)
        )
        stats.requeued = _rowcount(
            conn, insert(_o).from_select(["record_id", "state", "enqueued_at"], orphans)
        )
    _restore_access_entries(conn, stats, batch_ids=batch_ids, requeue=requeue, now=now)
    return stats


def _restore_access_entries(
    conn: Connection,
    stats: RestoreStats,
    *,
    batch_ids: Sequence[str] | None,
    requeue: bool,
    now: dt.datetime,
) -> None:
    """Steps 3-5 for access-log entries (anchors, outbox, requeue); counted with the records'."""
    taken = or_(
        exists().where(_aa.c.batch_id == _cr.c.batch_id, _aa.c.leaf_index == _cr.c.leaf_index),
        exists().where(_a.c.batch_id == _cr.c.batch_id, _a.c.leaf_index == _cr.c.leaf_index),
    )
    new_anchors = (
        select(_log.c.id, _cr.c.batch_id, _cr.c.leaf_index)
        .join(_log, _log.c.commitment == _cr.c.commitment)
        .join(_b, and_(_b.c.batch_id == _cr.c.batch_id, _b.c.state == _COMMITTED))
        .where(
            _in(_cr.c.batch_id, batch_ids),
            ~exists().where(_aa.c.entry_id == _log.c.id),
            ~taken,
        )
    )
    stats.anchors_inserted += _rowcount(
        conn, insert(_aa).from_select(["entry_id", "batch_id", "leaf_index"], new_anchors)
    )
    anchored_committed = (
        select(_aa.c.entry_id)
        .join(_b, _b.c.batch_id == _aa.c.batch_id)
        .where(_b.c.state == _COMMITTED, _in(_aa.c.batch_id, batch_ids))
    )
    stats.outbox_marked_batched += _rowcount(
        conn,
        update(_o)
        .where(
            _o.c.state == m.OutboxState.PENDING.value,
            _o.c.access_entry_id.in_(anchored_committed),
        )
        .values(state=m.OutboxState.BATCHED.value, batched_at=func.coalesce(_o.c.batched_at, now))
        .execution_options(synchronize_session=False),
    )
    missing_outbox = (
        select(
            _log.c.id,
            literal(m.OutboxState.BATCHED.value),
            _log.c.accessed_at,
            _b.c.committed_at,
        )
        .join(_aa, _aa.c.entry_id == _log.c.id)
        .join(_b, _b.c.batch_id == _aa.c.batch_id)
        .where(
            _b.c.state == _COMMITTED,
            _in(_aa.c.batch_id, batch_ids),
            ~exists().where(_o.c.access_entry_id == _log.c.id),
        )
        .order_by(_log.c.id)
    )
    stats.outbox_inserted += _rowcount(
        conn,
        insert(_o).from_select(
            ["access_entry_id", "state", "enqueued_at", "batched_at"], missing_outbox
        ),
    )
    if requeue:
        orphans = (
            select(_log.c.id, literal(m.OutboxState.PENDING.value), _log.c.accessed_at)
            .where(
                ~exists().where(_o.c.access_entry_id == _log.c.id),
                ~exists().where(_aa.c.entry_id == _log.c.id),
                ~exists().where(_cr.c.commitment == _log.c.commitment),
            )
            .order_by(_log.c.id)
        )
        stats.requeued += _rowcount(
            conn, insert(_o).from_select(["access_entry_id", "state", "enqueued_at"], orphans)
        )


def missing_envelopes(
    conn: Connection, batch_ids: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """``(batch_id, tx_id)`` of committed index batches that lack their envelope and that the
    chain mirror has (same tx id)."""
    query = (
        select(_b.c.batch_id, _b.c.tx_id)
        .join(_cb, and_(_cb.c.batch_id == _b.c.batch_id, _cb.c.tx_id == _b.c.tx_id))
        .where(_b.c.state == _COMMITTED, _b.c.envelope.is_(None), _in(_b.c.batch_id, batch_ids))
        .order_by(_b.c.batch_id)
    )
    return [(row.batch_id, row.tx_id) for row in conn.execute(query)]


def prepared_transaction(tx_id: str, envelope: bytes) -> bytes:
    """What the anchoring worker stores in ``batches.envelope``: a serialized
    ``gateway.PreparedTransaction`` (tx id + signed envelope), which
    ``Gateway.new_transaction`` accepts for a resubmission."""
    prepared = gateway_pb2.PreparedTransaction(transaction_id=tx_id)
    prepared.envelope.ParseFromString(envelope)
    return bytes(prepared.SerializeToString())


def store_envelopes(conn: Connection, envelopes: Mapping[str, tuple[str, bytes]]) -> int:
    """Set ``batches.envelope`` where it is NULL: ``{batch_id: (tx_id, raw envelope)}``, the
    envelope as committed in the block (stored as :func:`prepared_transaction`)."""
    stored = 0
    for batch_id, (tx_id, raw) in envelopes.items():
        envelope = prepared_transaction(tx_id, raw)
        stored += _rowcount(
            conn,
            update(_b)
            .where(
                _b.c.batch_id == batch_id,
                _b.c.tx_id == tx_id,
                _b.c.state == _COMMITTED,
                _b.c.envelope.is_(None),
            )
            .values(envelope=envelope),
        )
    return stored
