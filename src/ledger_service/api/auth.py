"""API keys and roles (docs/api.md): who is calling, in which role, for which actors.

A token is ``clk_<key_id>_<secret>``: ``key_id`` (16 hex) finds the row, the secret (43
base64url characters, 32 random bytes) is checked against its stored SHA-256 in constant
time. Keys expire and can be revoked; every failure is the same 401 to the caller, with the
reason in the service log only for known keys (never the token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError, ValidationError
from ledger_service.index.api_models import ApiKeyRow
from ledger_service.index.models import LABEL_LENGTH
from ledger_service.index.session import write_session

__all__ = [
    "DEFAULT_KEY_LIFETIME",
    "ApiKey",
    "ApiKeys",
    "AuthenticationFailed",
    "PermissionDenied",
    "Principal",
    "Role",
]

#: How long a key lives unless told otherwise.
DEFAULT_KEY_LIFETIME = timedelta(days=90)
_TOKEN = re.compile(r"clk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


class AuthenticationFailed(LedgerError):
    """No valid API key: missing, malformed, unknown, revoked or expired (HTTP 401)."""

    code: ClassVar[str] = "unauthenticated"


class PermissionDenied(LedgerError):
    """The caller's role may not do this, or not for this record/actor (HTTP 403)."""

    code: ClassVar[str] = "forbidden"


class Role(StrEnum):
    WRITER = "writer"  # the platform: appends records as its bound actors
    VERIFIER = "verifier"  # a bank: evidence of the records it names, nothing else
    AUDITOR = "auditor"  # a regulator: reads everything, with a purpose
    ADMIN = "admin"  # operators: API keys and writer keys, no enterprise data
    WITNESS = "witness"  # a log witness: reads checkpoints, cosigns as its own name


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    key_id: str
    role: Role
    org: str
    name: str
    actors: tuple[str, ...] = ()

    @property
    def accessor(self) -> str:
        """How the access log names the caller."""
        return f"{self.org}/{self.name} ({self.role.value} key {self.key_id})"


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    role: Role
    org: str
    name: str
    actors: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


class ApiKeys:
    """Creates, checks, lists and revokes API keys in the index."""

    def __init__(
        self, session_factory: sessionmaker[Session], *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def create(
        self,
        *,
        role: Role | str,
        org: str,
        name: str,
        actors: Sequence[str] = (),
        lifetime: timedelta = DEFAULT_KEY_LIFETIME,
    ) -> tuple[ApiKey, str]:
        """A new key and its token — the only time the token exists outside the caller."""
        try:
            role = Role(role)
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise ValidationError(None, "role", f"must be one of {choices}, got {role!r}") from None
        for field, value in (("org", org), ("name", name)):
            if not value.strip() or len(value) > LABEL_LENGTH:
                raise ValidationError(None, field, f"must be 1-{LABEL_LENGTH} characters")
        if role is Role.WRITER and not actors:
            raise ValidationError(None, "actors", "a writer key must name the actors it writes as")
        if role is not Role.WRITER and actors:
            raise ValidationError(
                None, "actors", f"only writer keys are bound to actors, not {role}"
            )
        if lifetime <= timedelta(0):
            raise ValidationError(None, "lifetime", "must be positive")
        key_id = secrets.token_hex(8)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        now = self._clock()
        row = ApiKeyRow(
            key_id=key_id,
            secret_sha256=_digest(secret),
            role=role.value,
            org=org,
            name=name,
            actors=list(dict.fromkeys(actors)),
            created_at=now,
            expires_at=now + lifetime,
            revoked_at=None,
        )
        with write_session(self._session_factory) as session:
            session.add(row)
        return _key(row), f"clk_{key_id}_{secret}"

    def authenticate(self, token: str | None) -> Principal:
        """The caller behind ``token``; :class:`AuthenticationFailed` otherwise."""
        match = _TOKEN.fullmatch(token or "")
        if match is None:
            raise AuthenticationFailed("missing or malformed API key")
        key_id, secret = match.groups()
        with self._session_factory() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
        # compare even for an unknown key id, so timing does not tell which ids exist
        stored = row.secret_sha256 if row is not None else b"\0" * 32
        if not hmac.compare_digest(bytes(stored), _digest(secret)) or row is None:
            raise AuthenticationFailed("unknown API key")
        if row.revoked_at is not None:
            raise AuthenticationFailed(f"API key {key_id} was revoked")
        if row.expires_at <= self._clock():
            raise AuthenticationFailed(f"API key {key_id} expired")
        return Principal(key_id, Role(row.role), row.org, row.name, tuple(row.actors))

    def revoke(self, key_id: str) -> ApiKey:
        with write_session(self._session_factory) as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if row is None:
                raise ValidationError(None, "key_id", f"no API key {key_id!r}")
            if row.revoked_at is None:
                session.execute(
                    update(ApiKeyRow)
                    .where(ApiKeyRow.key_id == key_id)
                    .values(revoked_at=self._clock())
                )
                session.refresh(row)
            return _key(row)

    def list(self) -> list[ApiKey]:
        with self._session_factory() as session:
            return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        role=Role(row.role),
        org=row.org,
        name=row.name,
        actors=tuple(row.actors),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
