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
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import LABEL_LENGTH, Base

__all__ = ["GlobalLogState", "LogCheckpoint"]


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
