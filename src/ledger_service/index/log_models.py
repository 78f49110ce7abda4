"""The global transparency log's persisted state and its signed checkpoints (issue 13).

``global_log_state``
    One row per log origin: the log's size, the hashes of its right edge (the roots of the
    perfect subtrees that make up the tree, largest first, concatenated) and the commit
    position ``(block_number, tx_index, leaf_index)`` of its last leaf. Appending the
    leaves mirrored after that position and folding the right edge gives the new root
    without reading the older leaves again (:mod:`ledger_service.tlog.global_log`). It is a
    cache: the chain mirror alone determines it.
``log_checkpoints``
    Every checkpoint the platform signed: origin, size, root and the signed note as
    issued. One checkpoint per (origin, size): a second root for a size would be a fork.
``witness_keys``
    The witnesses an admin registered: name, cosigner verifier key (c2sp.org/signed-note
    encoding, type 0x04) and when it was revoked. A cosignature counts only from a key
    registered and not revoked.
``log_cosignatures``
    Every cosignature a witness submitted for a stored checkpoint, checked against its key
    before it was stored: the signature line as received and its timestamp. Served appended
    to the checkpoint's note (api/routes/checkpoints.py).
``log_subtrees`` (migration 0013)
    The root of every perfect subtree of at least ``2**SUBTREE_MIN_LEVEL`` leaves, written
    as :func:`~ledger_service.tlog.global_log.advance` appends, with the commit position of
    its last leaf. A root at an older size or a consistency proof then reads O(log N) rows
    plus at most two partial tiles of fewer than ``2**SUBTREE_MIN_LEVEL`` leaves from the
    mirror, instead of every leaf. A cache like ``global_log_state`` (cleared with it).
``checkpoint_anchors`` (migration 0013)
    The checkpointer's intents: one row per ``AnchorCheckpoint`` transaction, stored with
    its signed envelope BEFORE it is sent (state ``submitted``), settled against the chain
    (``committed`` with its block, or ``failed`` with the reason) — exactly once across
    crashes (:mod:`ledger_service.anchoring.checkpointer`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import ID_LENGTH, LABEL_LENGTH, Base

__all__ = [
    "SUBTREE_MIN_LEVEL",
    "CheckpointAnchor",
    "GlobalLogState",
    "LogCheckpoint",
    "LogCosignature",
    "LogSubtree",
    "WitnessKeyRow",
]

#: Subtrees below 2**8 = 256 leaves are not stored: recomputing one reads at most 255 leaves.
SUBTREE_MIN_LEVEL = 8


class GlobalLogState(Base):
    __tablename__ = "global_log_state"

    origin: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    #: the right edge's subtree roots, 32 bytes each, largest subtree first
    right_edge: Mapped[bytes] = mapped_column(LargeBinary)
    #: commit position of the last leaf (all NULL while the log is empty)
    last_block: Mapped[int | None] = mapped_column(BigInteger)
    last_tx_index: Mapped[int | None] = mapped_column(Integer)
    last_leaf_index: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoints"

    origin: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: the signed note (C2SP tlog-checkpoint) exactly as issued
    note: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("length(root) = 32", name="root_is_sha256"),)


class WitnessKeyRow(Base):
    __tablename__ = "witness_keys"

    name: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    #: the key ID (8 hex) of the note key, so a rotated key is another row
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: ``name+keyid+base64(0x04 ‖ public key)``
    verifier_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LogCosignature(Base):
    __tablename__ = "log_cosignatures"

    origin: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    witness: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: the cosignature's own timestamp (POSIX seconds, signed by the witness)
    cosigned_at: Mapped[int] = mapped_column(BigInteger)
    #: the signature line as received (``— <name> <base64>``, no newline)
    line: Mapped[str] = mapped_column(String(512))
    received_at: Mapped[datetime]


class LogSubtree(Base):
    __tablename__ = "log_subtrees"

    origin: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    #: the subtree covers leaves [node_index * 2**level, (node_index + 1) * 2**level)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: commit position of the subtree's last leaf (where the next tile starts in the mirror)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_tx_index: Mapped[int] = mapped_column(Integer)
    last_leaf_index: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("length(hash) = 32", name="hash_is_sha256"),)


class CheckpointAnchor(Base):
    __tablename__ = "checkpoint_anchors"

    tx_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    origin: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    size: Mapped[int] = mapped_column(BigInteger)
    prev_size: Mapped[int] = mapped_column(BigInteger)
    #: the signed transaction exactly as sent (a resubmission sends these bytes again)
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    #: submitted | committed | failed
    state: Mapped[str] = mapped_column(String(16))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]

    __table_args__ = (
        Index(None, "origin", "state"),
        CheckConstraint("state IN ('submitted', 'committed', 'failed')", name="state_known"),
    )
