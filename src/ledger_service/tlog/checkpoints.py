"""Signed checkpoints of the global log: the log key, issuing, storing, proving.

The log key is an Ed25519 note key named after the log's origin, generated once into
``<state dir>/tlog/log.key`` (mode 0600, created exclusively; never in the repository or a
log line — :class:`SignerKey`'s repr hides the seed). Each issued checkpoint is stored in
``log_checkpoints`` as the exact signed note; one per size.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from credit_ledger_verify.tlog import (
    AddCheckpointRequest,
    Checkpoint,
    SignerKey,
    VerifierKey,
    log_origin,
    sign_checkpoint,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import LedgerError
from ledger_service.index.log_models import LogCheckpoint
from ledger_service.tlog.global_log import GlobalLogDivergedError, LogView, advance

__all__ = [
    "LOG_DOMAIN",
    "CheckpointNotFoundError",
    "LogKeyError",
    "StoredCheckpoint",
    "issue_checkpoint",
    "load_or_create_log_key",
    "log_key_path",
    "platform_origin",
    "prove_consistency",
    "read_checkpoint",
    "read_log_verifier",
]

#: The first part of the origin line (docs/transparency.md).
LOG_DOMAIN = "credit-ledger.example"


class LogKeyError(LedgerError):
    """The log key file is unusable: wrong permissions, malformed, or another log's key."""

    code: ClassVar[str] = "log_key_invalid"


class CheckpointNotFoundError(LedgerError):
    """No stored checkpoint of the requested size."""

    code: ClassVar[str] = "checkpoint_not_found"


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    checkpoint: Checkpoint
    note: bytes
    issued_at: dt.datetime


def platform_origin(channel: str, chaincode: str) -> str:
    """The global log's origin for the ledger on ``channel`` / ``chaincode``."""
    return log_origin(LOG_DOMAIN, channel, chaincode)


def log_key_path(state_dir: Path) -> Path:
    return state_dir / "tlog" / "log.key"


def load_or_create_log_key(state_dir: Path, origin: str) -> SignerKey:
    """The platform's log key for ``origin``, generated on first use (mode 0600).

    Raises:
        LogKeyError: the file is readable by others, malformed, or names another origin.
    """
    path = log_key_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: two concurrent first uses cannot both write a key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path, origin)
    key = SignerKey.generate(origin)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.encode() + "\n")
    return key


def read_log_verifier(state_dir: Path, origin: str) -> VerifierKey | None:
    """The log key's verifier (public) half, or ``None`` if no key was ever generated.

    Raises:
        LogKeyError: as :func:`load_or_create_log_key`.
    """
    path = log_key_path(state_dir)
    if not path.exists():
        return None
    return _read_key(path, origin).verifier


def _read_key(path: Path, origin: str) -> SignerKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise LogKeyError(f"log key {path} has mode {mode:o}; it must be 0600")
    try:
        key = SignerKey.parse(path.read_text(encoding="ascii").strip())
    except (LedgerError, ValueError, UnicodeDecodeError) as exc:
        raise LogKeyError(f"log key {path} is malformed: {exc}") from None
    if key.name != origin:
        raise LogKeyError(f"log key {path} is for origin {key.name!r}, not {origin!r}")
    return key


def issue_checkpoint(session: Session, key: SignerKey, now: dt.datetime) -> StoredCheckpoint:
    """Advance the global log to the mirror's end, sign its head and store the checkpoint.

    If a checkpoint of that size is already stored (nothing new was mirrored), it is returned
    as it was issued rather than signed again. The caller commits (a write session).
    """
    head = advance(session, key.name, now)
    existing = session.get(LogCheckpoint, (key.name, head.size))
    if existing is not None:
        if bytes(existing.root) != head.root:  # the log never signs two roots for one size
            raise GlobalLogDivergedError(
                f"stored checkpoint of size {head.size} has another root than the log's"
            )
        return _stored(existing)
    checkpoint = Checkpoint(key.name, head.size, head.root)
    note = sign_checkpoint(checkpoint, key)
    row = LogCheckpoint(origin=key.name, size=head.size, root=head.root, note=note, issued_at=now)
    session.add(row)
    session.flush()
    return StoredCheckpoint(checkpoint, note, now)


def read_checkpoint(session: Session, origin: str, size: int | None = None) -> StoredCheckpoint:
    """The stored checkpoint of ``size`` (default: the largest)."""
    query = select(LogCheckpoint).where(LogCheckpoint.origin == origin)
    if size is None:
        row = session.scalars(query.order_by(LogCheckpoint.size.desc()).limit(1)).first()
    else:
        row = session.scalars(query.where(LogCheckpoint.size == size)).first()
    if row is None:
        what = "no checkpoint issued yet" if size is None else f"no checkpoint of size {size}"
        raise CheckpointNotFoundError(f"{what} for {origin}")
    return _stored(row)


def prove_consistency(
    session: Session, origin: str, old_size: int, new_size: int
) -> AddCheckpointRequest:
    """A tlog-witness ``add-checkpoint`` body: the proof from the stored checkpoint of
    ``old_size`` to the stored one of ``new_size``, then the latter's signed note."""
    if old_size > new_size:
        raise CheckpointNotFoundError(f"old size {old_size} is above new size {new_size}")
    old = read_checkpoint(session, origin, old_size) if old_size else None
    new = read_checkpoint(session, origin, new_size)
    view = LogView(session, origin)
    if view.root_at(new_size) != new.checkpoint.root or (
        old is not None and view.root_at(old_size) != old.checkpoint.root
    ):
        raise GlobalLogDivergedError(
            "a stored checkpoint's root differs from the global log's stored subtrees"
        )
    proof = view.consistency_proof(old_size, new_size)
    return AddCheckpointRequest(old_size, tuple(proof), new.note)


def _stored(row: LogCheckpoint) -> StoredCheckpoint:
    checkpoint = Checkpoint(row.origin, row.size, bytes(row.root))
    return StoredCheckpoint(checkpoint, bytes(row.note), row.issued_at)
