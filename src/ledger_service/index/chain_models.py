"""The chain mirror: what the channel's blocks say, replayed into the index database.

These tables are written only by :mod:`ledger_service.chainsync` (replay) and hold nothing
but facts read from VALID transactions of the ledger chaincode (chaincode/README.md, "On-chain
layout"). They are never edited by the service or the anchoring worker, so comparing them with
the index's own tables (``records``, ``batches``, ``record_anchors``) detects off-chain
tampering (``ledgerctl index reconcile``), and the index's anchoring facts can be restored
from them (``ledgerctl index rebuild``).

``chain_batches``
    One row per ``\\x00batch\\x00<id>\\x00`` key: the batch value (root, size, creator MSP,
    transaction timestamp) plus where the transaction sits (block number, position in the
    block, transaction id).
``chain_records``
    One row per ``\\x00rec\\x00<commitment>\\x00`` key: the commitment (the key; the chain
    never names record ids), batch and leaf index, and the block and transaction that wrote
    it; joined to the index's ``records`` on ``commitment``. ``(batch_id, leaf_index)`` is
    indexed (lookups by batch). On SQLite the table is ``WITHOUT ROWID``: the primary key
    *is* the table, so a bulk insert maintains two b-trees instead of three. There is
    deliberately no foreign key to ``chain_batches`` (rows of one block range are
    bulk-inserted together; a replay never writes a record without its batch).
``chain_checkpoints`` (migration 0013)
    One row per ``\\x00tlog\\x00<size>\\x00`` key an ``AnchorCheckpoint`` wrote: the
    checkpoint value's fields as written (the note's bytes and the timestamp text exactly, so
    the value is reproduced byte for byte by
    :func:`credit_ledger_verify.onchain_tlog.encode_checkpoint_value`) and where the
    transaction sits.
``chain_sync``
    How far the mirror goes, per channel: it covers blocks ``first_block .. last_block``
    contiguously; ``last_block_hash`` (the header hash of ``last_block``) lets a resumed
    replay check that the next block really follows it (a recreated channel is refused).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import ID_LENGTH, LABEL_LENGTH, Base

__all__ = ["ChainBatch", "ChainCheckpoint", "ChainRecord", "ChainSync"]


class ChainBatch(Base):
    __tablename__ = "chain_batches"

    batch_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    size: Mapped[int] = mapped_column(Integer)
    tx_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    block_number: Mapped[int] = mapped_column(BigInteger)
    #: position of the transaction in its block's data
    tx_index: Mapped[int] = mapped_column(Integer)
    #: the submitter's MSP id (the batch value's ``msp``)
    creator_msp: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: the transaction timestamp (the batch value's ``ts``, to the microsecond)
    tx_timestamp: Mapped[datetime]

    __table_args__ = (
        Index(None, "block_number"),
        CheckConstraint("length(root) = 32", name="root_is_sha256"),
    )


class ChainRecord(Base):
    __tablename__ = "chain_records"

    commitment: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    leaf_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_id: Mapped[str] = mapped_column(String(ID_LENGTH))

    __table_args__ = (
        Index(None, "batch_id", "leaf_index"),
        CheckConstraint("length(commitment) = 32", name="commitment_is_sha256"),
        {"sqlite_with_rowid": False},
    )


class ChainCheckpoint(Base):
    __tablename__ = "chain_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    prev_size: Mapped[int] = mapped_column(BigInteger)
    #: the signed note exactly as anchored
    note: Mapped[bytes] = mapped_column(LargeBinary)
    tx_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    creator_msp: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: the value's ``ts`` text as written (RFC 3339, kept verbatim for byte-exact values)
    ts: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("length(root) = 32", name="root_is_sha256"),
        CheckConstraint("prev_size < size", name="extends_previous"),
    )


class ChainSync(Base):
    __tablename__ = "chain_sync"

    channel: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    #: the chaincode (= namespace) whose writes are mirrored
    chaincode: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    first_block: Mapped[int] = mapped_column(BigInteger)
    #: the last block replayed (the mirror covers first_block..last_block without a gap)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("first_block <= last_block", name="range_not_empty"),)
