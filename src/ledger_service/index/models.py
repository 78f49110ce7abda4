"""The off-chain index: SQLAlchemy models.

The schema is created and changed only by the Alembic migrations in
``ledger_service/index/migrations`` (a test checks that models and migrations agree).

Sizing: the lineage queries must stay fast at 10 million records, so every access path
they use is an index — lineage edges both ways (``(child_id, parent_id)`` is the edge table's
primary key, ``(parent_id, child_id)`` a secondary index; on SQLite the table is
``WITHOUT ROWID`` so the primary key *is* the table), a subject's timeline
``(subject, occurred_at)``, a loan's events ``(loan_id, recorded_at)``, ``(kind, occurred_at)``,
corrections and disputes by target, records by batch ``(batch_id, leaf_index)``, and the
anchoring worker's queue (a partial index over the pending outbox rows, in ``seq`` order).

Tables:

``records``
    One row per accepted record: envelope columns for queries, ``content`` = the record's
    canonical bytes, ``salt`` and ``commitment`` = SHA-256(salt ‖ content). Crypto-shredding
    clears ``content``, ``salt`` and ``content_sha256`` and sets ``erased_at``; the commitment
    (what the chain holds) stays. ``superseded_by`` / ``disputed_by`` are denormalised status
    (the newest record pointing at this one) so "superseded" / "disputed" filters need no join.
``lineage_edges``
    ``child_id`` was derived from / relied on ``parent_id`` (one row per entry of ``parents``).
``writer_keys``
    Ed25519 public keys of writers (``actor``). Several keys per actor allow rotation; a
    revoked key no longer verifies new records.
``anchoring_outbox``
    Written in the same transaction as the record: the durable to-do list of the anchoring
    worker. ``seq`` is monotonic (AUTOINCREMENT on SQLite, an identity sequence on PostgreSQL),
    so "the oldest pending records" is an index range scan.
``batches``
    One Merkle batch = one Fabric transaction. The signed transaction envelope is stored
    before it is submitted, so a crash between "submitted" and "recorded as submitted" is
    recovered by resubmitting the same bytes (same transaction id).
``record_anchors``
    Where a record sits on chain: its batch and leaf index (tx id and block come from the
    batch).
``access_log``
    Who queried which subject or record, for what purpose, when; ``salt`` and ``commitment``
    = SHA-256(salt ‖ the entry's canonical JSON, ``credit_ledger_verify.access_entry``), written
    with the entry and anchored like a record's (its outbox row is in the same transaction).
``access_anchors``
    Where an access-log entry sits on chain: its batch and leaf index (the entries share the
    batches, and so the Merkle trees and ``PutBatch`` transactions, with the records).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ledger_service.index.types import UTCDateTime

__all__ = [
    "ID_LENGTH",
    "LABEL_LENGTH",
    "OUTBOX_PENDING",
    "AccessAnchor",
    "AccessLogEntry",
    "Base",
    "Batch",
    "BatchState",
    "LineageEdge",
    "OutboxEntry",
    "OutboxState",
    "Record",
    "RecordAnchor",
    "WriterKey",
]

#: Maximum length of record ids and subjects (``records.types.RECORD_ID_PATTERN``: 1-128).
ID_LENGTH = 128
#: Maximum length of free-text labels: actors, sources (``records.types.Label``: 1-256).
LABEL_LENGTH = 256

#: A 64-bit integer primary key that autoincrements on every backend (SQLite only
#: autoincrements ``INTEGER PRIMARY KEY``, which is 64-bit there anyway).
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for the anchoring worker
    BATCHED = "batched"  # assigned to a batch (see record_anchors)


class BatchState(StrEnum):
    PENDING = "pending"  # built, envelope not yet signed/stored
    SUBMITTED = "submitted"  # signed envelope stored and sent to the orderer
    COMMITTED = "committed"  # committed in a block as VALID
    FAILED = "failed"  # committed as invalid or permanently refused; records re-queued


class Record(Base):
    __tablename__ = "records"

    record_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(ID_LENGTH))
    occurred_at: Mapped[datetime]
    #: when the index accepted the record (service clock)
    recorded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    actor: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: canonical bytes of the whole record (envelope, payload, signature); NULL once shredded
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: SHA-256(salt ‖ content): the only thing about the record that goes on chain
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: SHA-256(content), to answer idempotent replays without loading content; NULL once shredded
    content_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    supersedes: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id")
    )
    disputes: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("records.record_id"))
    superseded_by: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id")
    )
    disputed_by: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id")
    )
    erased_at: Mapped[datetime | None]
    #: the ``erasure`` record written in the same transaction as the shredding (NULL: not
    #: erased, or erased before erasure records existed — reconcile reports that as missing)
    erased_by: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id")
    )
    #: ``payload.loan_id`` and ``payload.event`` of a financing event (NULL for other kinds):
    #: a loan's events and its decision time without reading content; kept on shredding
    loan_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    loan_event: Mapped[str | None] = mapped_column(String(32))
    #: an objection step's case (its opening record; the opening record's own id on the
    #: opening step), step, and on the opening step the last day of the answer period
    #: (China time, fixed when recorded); NULL for other kinds, kept on shredding
    case_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    case_step: Mapped[str | None] = mapped_column(String(16))
    case_deadline: Mapped[date | None]

    __table_args__ = (
        # A record is corrected at most once: corrections form a chain, never a fork.
        Index("uq_records_supersedes", "supersedes", unique=True),
        Index(None, "disputes"),
        Index(None, "subject", "occurred_at"),
        Index(None, "kind", "occurred_at"),
        Index(None, "loan_id", "recorded_at"),
        Index(None, "case_id", "recorded_at"),
        Index(None, "case_step", "case_deadline"),
        Index(None, "erased_by"),
        # The chain knows records by commitment: restore and reconcile join on it.
        Index(None, "commitment"),
        CheckConstraint("length(commitment) = 32", name="commitment_is_sha256"),
        CheckConstraint(
            "(content IS NULL) = (salt IS NULL) AND (content IS NULL) = (content_sha256 IS NULL)",
            name="content_salt_digest_shredded_together",
        ),
    )


class LineageEdge(Base):
    """``child_id`` lists ``parent_id`` among its parents."""

    __tablename__ = "lineage_edges"

    child_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )
    parent_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )

    __table_args__ = (
        Index(None, "parent_id", "child_id"),
        CheckConstraint("child_id <> parent_id", name="no_self_loop"),
        {"sqlite_with_rowid": False},
    )


class WriterKey(Base):
    __tablename__ = "writer_keys"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(LABEL_LENGTH), index=True)
    #: raw 32-byte Ed25519 verify key; one key belongs to one actor
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("length(public_key) = 32", name="public_key_is_ed25519"),
        {"sqlite_autoincrement": True},
    )


class OutboxEntry(Base):
    """One leaf waiting to be anchored: a record, or an access-log entry (exactly one)."""

    __tablename__ = "anchoring_outbox"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    record_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), unique=True
    )
    access_entry_id: Mapped[int | None] = mapped_column(
        BigIntegerKey, ForeignKey("access_log.id"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))
    enqueued_at: Mapped[datetime]
    batched_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_anchoring_outbox_pending_seq",
            "seq",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        CheckConstraint("state IN ('pending', 'batched')", name="state_is_known"),
        CheckConstraint(
            "(record_id IS NULL) <> (access_entry_id IS NULL)", name="one_leaf_per_row"
        ),
        {"sqlite_autoincrement": True},
    )


#: "Pending outbox row", with the state as a SQL literal: the partial index
#: ``ix_anchoring_outbox_pending_seq`` can then serve it even from a prepared statement
#: (PostgreSQL's generic plans cannot match a partial index against a bound parameter).
OUTBOX_PENDING = OutboxEntry.state == literal_column(f"'{OutboxState.PENDING.value}'")


class Batch(Base):
    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    #: RFC 6962 Merkle root over the batch's commitments, in leaf order
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    #: the signed Fabric transaction envelope, stored BEFORE it is submitted
    envelope: Mapped[bytes | None] = mapped_column(LargeBinary)
    tx_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: Fabric's TxValidationCode name for the transaction ("VALID", "MVCC_READ_CONFLICT", ...)
    validation_code: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    committed_at: Mapped[datetime | None]

    __table_args__ = (
        Index(None, "state", "created_at"),
        CheckConstraint(
            "state IN ('pending', 'submitted', 'committed', 'failed')", name="state_is_known"
        ),
        CheckConstraint("size > 0", name="size_is_positive"),
    )


class RecordAnchor(Base):
    __tablename__ = "record_anchors"

    record_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )
    batch_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("batches.batch_id"))
    leaf_index: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("batch_id", "leaf_index"),
        CheckConstraint("leaf_index >= 0", name="leaf_index_not_negative"),
    )


class AccessLogEntry(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    accessed_at: Mapped[datetime]
    #: who asked (authenticated principal)
    accessor: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    subject: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    record_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: what was asked, e.g. "lineage", "timeline", "evidence", "export"
    query: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: the API request that read it (``X-Request-Id``); NULL for CLI reads
    request_id: Mapped[str | None] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: SHA-256(salt ‖ canonical entry): what goes on chain, like a record's commitment
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index(None, "subject", "accessed_at"),
        Index(None, "accessor", "accessed_at"),
        # restore and reconcile join the chain's keys on it
        Index(None, "commitment"),
        CheckConstraint("length(commitment) = 32", name="commitment_is_sha256"),
        CheckConstraint("length(salt) = 32", name="salt_is_32_bytes"),
        {"sqlite_autoincrement": True},
    )


class AccessAnchor(Base):
    """Where an access-log entry sits on chain (tx and block come from the batch)."""

    __tablename__ = "access_anchors"

    entry_id: Mapped[int] = mapped_column(
        BigIntegerKey, ForeignKey("access_log.id"), primary_key=True, autoincrement=False
    )
    batch_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("batches.batch_id"))
    leaf_index: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("batch_id", "leaf_index"),
        CheckConstraint("leaf_index >= 0", name="leaf_index_not_negative"),
    )
