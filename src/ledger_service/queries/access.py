"""The access log: who asked what about which subject or record, why, and when.

Each entry is committed to when it is written, like a record: a fresh salt and
SHA-256(salt ‖ the entry's canonical JSON, :mod:`credit_ledger_verify.access_entry`), and an
anchoring outbox row in the same transaction, so the worker anchors it with the next batch
(docs/api.md "Purposes and the access log"). The entry's id is part of what is committed, so
the commitment is set after the insert has assigned it, still inside that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from credit_ledger_verify.access_entry import AccessEntry
from credit_ledger_verify.commitments import commitment, new_salt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import ValidationError
from ledger_service.index.models import (
    LABEL_LENGTH,
    AccessAnchor,
    AccessLogEntry,
    Batch,
    BatchState,
    OutboxEntry,
    OutboxState,
)
from ledger_service.index.session import write_session

__all__ = ["AccessLog", "AccessRecord", "committed_entry"]

#: Placeholder until the insert has assigned the entry id the commitment covers.
_NOT_YET = bytes(32)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccessRecord:
    """One access log entry: who asked what about which subject/record, why, and when."""

    accessed_at: datetime
    accessor: str
    subject: str | None
    record_id: str | None
    query: str
    purpose: str
    #: the entry's position in the log (newest = highest)
    entry_id: int = 0
    #: the API request that read it, if it came through the API
    request_id: str | None = None
    #: SHA-256(salt ‖ canonical entry), what the chain holds for it
    commitment: bytes = _NOT_YET
    #: the committed batch that anchors it (``None`` until then; set by :meth:`AccessLog.get`)
    anchored_in: str | None = None


def committed_entry(row: AccessLogEntry) -> AccessEntry:
    """The entry as its commitment covers it (built from the stored columns, so a changed
    column no longer matches the commitment)."""
    return AccessEntry(
        entry_id=row.id,
        accessed_at=row.accessed_at,
        accessor=row.accessor,
        query=row.query,
        purpose=row.purpose,
        subject=row.subject,
        record_id=row.record_id,
        request_id=row.request_id,
    )


class AccessLog:
    """Writes and lists access log entries in one index database."""

    def __init__(
        self, session_factory: sessionmaker[Session], *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the access log clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def log(
        self,
        *,
        accessor: str,
        query: str,
        purpose: str,
        subject: str | None = None,
        record_id: str | None = None,
    ) -> None:
        """Record that ``accessor`` asked ``query`` about a subject/record, and why.

        Raises:
            ValidationError: an empty or over-long accessor, query or purpose (``field`` names it).
        """
        self.log_answer(
            accessor=accessor, query=query, purpose=purpose, read=[(subject, record_id)]
        )

    def log_answer(
        self,
        *,
        accessor: str,
        query: str,
        purpose: str,
        read: Iterable[tuple[str | None, str | None]],
        request_id: str | None = None,
    ) -> None:
        """Record one answer that read several ``(subject, record_id)`` pairs — a lineage
        spanning enterprises logs one entry per enterprise — in one transaction, each entry
        with its commitment and a pending anchoring outbox row.

        Raises:
            ValidationError: an empty or over-long accessor, query or purpose (``field`` names it).
        """
        for name, value, limit in (
            ("accessor", accessor, LABEL_LENGTH),
            ("query", query, 64),
            ("purpose", purpose, LABEL_LENGTH),
        ):
            if not value.strip() or len(value) > limit:
                raise ValidationError(None, name, f"access log: must be 1-{limit} characters")
        now = self._now()
        with write_session(self._session_factory) as session:
            rows = [
                AccessLogEntry(
                    accessed_at=now,
                    accessor=accessor,
                    subject=subject,
                    record_id=record_id,
                    query=query,
                    purpose=purpose,
                    request_id=request_id,
                    salt=new_salt(),
                    commitment=_NOT_YET,
                )
                for subject, record_id in dict.fromkeys(read)
            ]
            session.add_all(rows)
            session.flush()  # assigns the ids the commitments cover
            for row in rows:
                row.commitment = commitment(row.salt, committed_entry(row).canonical_bytes())
            session.add_all(
                OutboxEntry(access_entry_id=row.id, state=OutboxState.PENDING, enqueued_at=now)
                for row in rows
            )

    def get(self, entry_id: int) -> AccessRecord | None:
        """One entry with where it is anchored (``anchored_in``: its batch, once committed)."""
        with self._session_factory() as session:
            found = session.execute(
                select(AccessLogEntry, Batch)
                .outerjoin(AccessAnchor, AccessAnchor.entry_id == AccessLogEntry.id)
                .outerjoin(Batch, Batch.batch_id == AccessAnchor.batch_id)
                .where(AccessLogEntry.id == entry_id)
            ).first()
        if found is None:
            return None
        entry, batch = found
        committed = batch is not None and batch.state == BatchState.COMMITTED
        return AccessRecord(
            accessed_at=entry.accessed_at,
            accessor=entry.accessor,
            subject=entry.subject,
            record_id=entry.record_id,
            query=entry.query,
            purpose=entry.purpose,
            entry_id=entry.id,
            request_id=entry.request_id,
            commitment=bytes(entry.commitment),
            anchored_in=batch.batch_id if committed else None,
        )

    def entries(
        self,
        *,
        subject: str | None = None,
        accessor: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        before_id: int | None = None,
        key_id: str | None = None,
    ) -> list[AccessRecord]:
        """Access log entries, newest first, filtered by subject / accessor / time; entries
        older than ``before_id`` only (the last id of the previous page)."""
        query = select(AccessLogEntry)
        if subject is not None:
            query = query.where(AccessLogEntry.subject == subject)
        if accessor is not None:
            query = query.where(AccessLogEntry.accessor == accessor)
        if key_id is not None:
            # the API names a caller "org/name (role key <key_id>)"
            query = query.where(
                AccessLogEntry.accessor.endswith(f" key {key_id})", autoescape=True)
            )
        if since is not None:
            query = query.where(AccessLogEntry.accessed_at >= since)
        if before_id is not None:
            query = query.where(AccessLogEntry.id < before_id)
        # ids grow with time (one writer clock): newest first is id descending
        query = query.order_by(AccessLogEntry.id.desc())
        with self._session_factory() as session:
            return [
                AccessRecord(
                    accessed_at=entry.accessed_at,
                    accessor=entry.accessor,
                    subject=entry.subject,
                    record_id=entry.record_id,
                    query=entry.query,
                    purpose=entry.purpose,
                    entry_id=entry.id,
                    request_id=entry.request_id,
                    commitment=bytes(entry.commitment),
                )
                for entry in session.scalars(query.limit(limit))
            ]
