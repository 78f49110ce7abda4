"""Record reads: a stored record with its anchor facts (record → batch → tx → block), pending
records. The read side's queries (lineage: upstream, downstream, timeline, as-of) go in this
package next to this module, built on the same functions.

:func:`stored_records` works inside a caller's session (the evidence builder reads in its own
session); :class:`RecordQueries` opens sessions itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credit_ledger_verify.records import Record, parse_record
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import RecordErased
from ledger_service.index.bulk import chunks, select_in
from ledger_service.index.models import (
    OUTBOX_PENDING,
    Batch,
    LineageEdge,
    OutboxEntry,
    RecordAnchor,
)
from ledger_service.index.models import Record as RecordRow

__all__ = ["AnchorInfo", "PendingRecord", "RecordQueries", "StoredRecord", "stored_records"]


@dataclass(frozen=True)
class AnchorInfo:
    """Where a record sits on chain (tx/block come from its batch)."""

    batch_id: str
    leaf_index: int
    batch_state: str
    batch_root: bytes
    batch_size: int
    tx_id: str | None
    block_number: int | None
    validation_code: str | None
    committed_at: datetime | None
    failure_reason: str | None
    """Why the batch failed (``batch_state`` ``failed``)."""

    @classmethod
    def of(cls, batch: Any, leaf_index: int) -> AnchorInfo:
        """From anything with the ``batches`` columns as attributes (a ``Batch`` row object,
        or a result row selecting them under their own names)."""
        return cls(
            batch_id=batch.batch_id,
            leaf_index=leaf_index,
            batch_state=batch.state,
            batch_root=bytes(batch.root),
            batch_size=batch.size,
            tx_id=batch.tx_id,
            block_number=batch.block_number,
            validation_code=batch.validation_code,
            committed_at=batch.committed_at,
            failure_reason=batch.failure_reason,
        )


@dataclass(frozen=True)
class StoredRecord:
    """A record as the index holds it."""

    record_id: str
    kind: str
    subject: str
    occurred_at: datetime
    recorded_at: datetime
    source: str
    actor: str
    parents: tuple[str, ...]
    supersedes: str | None
    disputes: str | None
    superseded_by: str | None
    disputed_by: str | None
    content: bytes | None
    """Canonical bytes of the whole record; ``None`` once crypto-shredded."""
    salt: bytes | None
    commitment: bytes
    erased_at: datetime | None
    anchor: AnchorInfo | None
    """``None`` until the record is assigned to a batch."""
    erased_by: str | None = None
    """The erasure record written with the erasure (``None``: not erased, or erased without
    one — which reconcile reports as missing content)."""

    @property
    def erased(self) -> bool:
        return self.content is None

    def record(self) -> Record:
        """The record, parsed back from its canonical content.

        Raises:
            RecordErased: if the content was erased.
        """
        if self.content is None:
            raise RecordErased(self.record_id)
        return parse_record(self.content)


@dataclass(frozen=True)
class PendingRecord:
    """A record waiting in the anchoring outbox."""

    seq: int
    record_id: str
    commitment: bytes


class RecordQueries:
    """Record reads over one index database."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def pending_records(self, limit: int) -> list[PendingRecord]:
        """The oldest ``limit`` records waiting for anchoring, in intake order."""
        if limit <= 0:
            return []
        with self._session_factory() as session:
            rows = session.execute(
                select(OutboxEntry.seq, OutboxEntry.record_id, RecordRow.commitment)
                .join(RecordRow, RecordRow.record_id == OutboxEntry.record_id)
                .where(OUTBOX_PENDING)
                .order_by(OutboxEntry.seq)
                .limit(limit)
            )
            return [PendingRecord(row.seq, row.record_id, bytes(row.commitment)) for row in rows]

    def get_record(self, record_id: str) -> StoredRecord | None:
        """The stored record with salt, commitment and anchoring facts, or ``None``."""
        return self.get_records([record_id]).get(record_id)

    def get_records(self, record_ids: Iterable[str]) -> dict[str, StoredRecord]:
        """Stored records by id (ids not in the index are absent from the result)."""
        with self._session_factory() as session:
            return stored_records(session, record_ids)


def stored_records(session: Session, record_ids: Iterable[str]) -> dict[str, StoredRecord]:
    """Stored records by id, read in ``session`` (ids not in the index are absent)."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return {}
    parents: dict[str, list[str]] = {}
    for edge in select_in(
        session,
        select(LineageEdge.child_id, LineageEdge.parent_id),
        LineageEdge.child_id,
        wanted,
    ):
        parents.setdefault(edge.child_id, []).append(edge.parent_id)
    query = (
        select(RecordRow, RecordAnchor, Batch)
        .outerjoin(RecordAnchor, RecordAnchor.record_id == RecordRow.record_id)
        .outerjoin(Batch, Batch.batch_id == RecordAnchor.batch_id)
    )
    found: dict[str, StoredRecord] = {}
    for chunk in chunks(wanted):
        for row, anchor, batch in session.execute(query.where(RecordRow.record_id.in_(chunk))):
            found[row.record_id] = _stored(row, anchor, batch, parents)
    return found


def _stored(
    row: RecordRow,
    anchor: RecordAnchor | None,
    batch: Batch | None,
    parents: dict[str, list[str]],
) -> StoredRecord:
    anchor_info = None
    if anchor is not None and batch is not None:
        anchor_info = AnchorInfo.of(batch, anchor.leaf_index)
    return StoredRecord(
        record_id=row.record_id,
        kind=row.kind,
        subject=row.subject,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        source=row.source,
        actor=row.actor,
        parents=tuple(sorted(parents.get(row.record_id, []))),
        supersedes=row.supersedes,
        disputes=row.disputes,
        superseded_by=row.superseded_by,
        disputed_by=row.disputed_by,
        content=None if row.content is None else bytes(row.content),
        salt=None if row.salt is None else bytes(row.salt),
        commitment=bytes(row.commitment),
        erased_at=row.erased_at,
        anchor=anchor_info,
        erased_by=row.erased_by,
    )
