"""The writer key registry: which Ed25519 public keys may sign records for which actor.

An actor (writer identity, the record's ``actor``) may hold several keys at once, so keys can
be rotated without downtime: register the new key, switch the writer over, revoke the old
one. A key belongs to exactly one actor; a revoked key stays on file (old signatures remain
attributable) but no longer verifies new records and cannot be registered again.

These helpers work inside a caller's session/transaction; :class:`ledger_service.intake.service.
LedgerService` wraps them in transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from credit_ledger_verify.records.types import Label
from nacl.signing import VerifyKey
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import LedgerError
from ledger_service.index.models import WriterKey
from ledger_service.signing import load_verify_key

__all__ = [
    "ActiveWriterKey",
    "WriterKeyError",
    "WriterKeyInfo",
    "active_writer_keys",
    "list_writer_keys",
    "register_writer_key",
    "revoke_writer_key",
]

_ACTOR = TypeAdapter(Label)


class WriterKeyError(LedgerError):
    """A writer key cannot be registered or revoked as asked."""

    code: ClassVar[str] = "writer_key_refused"

    def __init__(self, actor: str, message: str) -> None:
        self.actor = actor
        self.message = message
        super().__init__(actor, message)

    def __str__(self) -> str:
        return f"writer {self.actor!r}: {self.message}"


@dataclass(frozen=True)
class WriterKeyInfo:
    """One registered key of a writer."""

    actor: str
    public_key: bytes
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ActiveWriterKey:
    """An unrevoked key, ready to verify signatures."""

    key_id: int
    actor: str
    verify_key: VerifyKey


def _info(row: WriterKey) -> WriterKeyInfo:
    return WriterKeyInfo(row.actor, bytes(row.public_key), row.created_at, row.revoked_at)


def _check_actor(actor: str) -> str:
    try:
        return _ACTOR.validate_python(actor)
    except PydanticValidationError as exc:
        message = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise WriterKeyError(str(actor)[:80], f"actor {message}") from exc


def _key_bytes(actor: str, public_key: bytes | str | VerifyKey) -> bytes:
    try:
        return bytes(load_verify_key(public_key))
    except (ValueError, TypeError) as exc:
        raise WriterKeyError(actor, f"unusable Ed25519 public key: {exc}") from exc


def register_writer_key(
    session: Session, actor: str, public_key: bytes | str | VerifyKey, *, now: datetime
) -> WriterKeyInfo:
    """Register ``public_key`` (32 raw bytes, base64, or a ``VerifyKey``) for ``actor``.

    Idempotent: registering a key the actor already holds returns the existing entry.

    Raises:
        WriterKeyError: the actor name is not a valid label, the key is malformed, the key
            belongs to another actor, or the key was revoked.
    """
    actor = _check_actor(actor)
    key = _key_bytes(actor, public_key)
    existing = session.scalars(select(WriterKey).where(WriterKey.public_key == key)).one_or_none()
    if existing is not None:
        if existing.actor != actor:
            raise WriterKeyError(
                actor, f"this key is already registered to writer {existing.actor!r}"
            )
        if existing.revoked_at is not None:
            raise WriterKeyError(actor, "this key was revoked and cannot be registered again")
        return _info(existing)
    row = WriterKey(actor=actor, public_key=key, created_at=now, revoked_at=None)
    session.add(row)
    session.flush()
    return _info(row)


def revoke_writer_key(
    session: Session, actor: str, public_key: bytes | str | VerifyKey, *, now: datetime
) -> WriterKeyInfo:
    """Revoke one of ``actor``'s keys (idempotent for an already revoked key).

    Raises:
        WriterKeyError: the actor holds no such key.
    """
    key = _key_bytes(actor, public_key)
    row = session.scalars(
        select(WriterKey).where(WriterKey.public_key == key, WriterKey.actor == actor)
    ).one_or_none()
    if row is None:
        raise WriterKeyError(actor, "holds no such key")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return _info(row)


def list_writer_keys(session: Session, actor: str) -> list[WriterKeyInfo]:
    """Every key of ``actor``, revoked ones included, oldest first."""
    rows = session.scalars(select(WriterKey).where(WriterKey.actor == actor).order_by(WriterKey.id))
    return [_info(row) for row in rows]


def active_writer_keys(
    session: Session, actors: Iterable[str] | None = None
) -> dict[str, list[ActiveWriterKey]]:
    """Unrevoked keys by actor, for ``actors`` (or every actor when ``None``)."""
    query = select(WriterKey.id, WriterKey.actor, WriterKey.public_key).where(
        WriterKey.revoked_at.is_(None)
    )
    if actors is not None:
        wanted = sorted(set(actors))
        if not wanted:
            return {}
        query = query.where(WriterKey.actor.in_(wanted))
    keys: dict[str, list[ActiveWriterKey]] = {}
    for key_id, actor, public_key in session.execute(query.order_by(WriterKey.id)):
        keys.setdefault(actor, []).append(ActiveWriterKey(key_id, actor, VerifyKey(public_key)))
    return keys
