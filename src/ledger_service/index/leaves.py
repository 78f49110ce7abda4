"""A batch's leaves: records and access-log entries, one leaf index space per batch.

The anchoring outbox holds both kinds; a claimed batch gives each its position in queue
order (``record_anchors`` for records, ``access_anchors`` for entries). Whoever rebuilds a
batch's Merkle tree (the worker resuming a batch, the evidence builder) reads both through
:func:`batch_leaves`.
"""

from __future__ import annotations

from sqlalchemy import Select, literal, select, union_all

from ledger_service.index import models as m

__all__ = ["batch_leaves"]


def batch_leaves(batch_id: str) -> Select[tuple[int, str | None, int | None, bytes]]:
    """A batch's leaves in leaf order: ``(leaf_index, record_id, entry_id, commitment)``, one
    of ``record_id`` / ``entry_id`` set — records and access-log entries together."""
    records = (
        select(
            m.RecordAnchor.leaf_index,
            m.RecordAnchor.record_id,
            literal(None, m.AccessAnchor.entry_id.type).label("entry_id"),
            m.Record.commitment,
        )
        .join(m.Record, m.Record.record_id == m.RecordAnchor.record_id)
        .where(m.RecordAnchor.batch_id == batch_id)
    )
    entries = (
        select(
            m.AccessAnchor.leaf_index,
            literal(None, m.RecordAnchor.record_id.type).label("record_id"),
            m.AccessAnchor.entry_id,
            m.AccessLogEntry.commitment,
        )
        .join(m.AccessLogEntry, m.AccessLogEntry.id == m.AccessAnchor.entry_id)
        .where(m.AccessAnchor.batch_id == batch_id)
    )
    leaves = union_all(records, entries).subquery()
    return select(
        leaves.c.leaf_index, leaves.c.record_id, leaves.c.entry_id, leaves.c.commitment
    ).order_by(leaves.c.leaf_index)
