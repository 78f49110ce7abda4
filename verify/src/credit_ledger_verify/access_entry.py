"""An access-log entry's committed form (``credit-ledger-access-entry/1``): encode and strict parse.

The service commits to every access-log entry the way it commits to a record: a fresh 32-byte
salt and ``SHA-256(salt ‖ content)``, where ``content`` is the RFC 8785 canonical JSON of::

    {"format": "credit-ledger-access-entry/1", "entry_id": 42,
     "accessed_at": "2026-12-01T08:00:00.123456Z", "accessor": "bank/loans (verifier key k1)",
     "query": "evidence", "purpose": "loan_review", "subject": "91310000...",
     "record_id": "r-1", "request_id": "..."}

``subject``, ``record_id`` and ``request_id`` are left out when the entry has none (never
``null``); ``accessed_at`` always has six fractional digits and ``Z``. The ``format`` member
separates the two kinds of committed content: a record's canonical JSON has no ``format``
member and an entry has no ``kind``, ``payload`` or ``signature``, so neither parses as the
other — on chain and in the Merkle trees both are just commitments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credit_ledger_verify.canonical import canonicalize
from credit_ledger_verify.errors import ValidationError

__all__ = ["ACCESS_ENTRY_FORMAT", "AccessEntry", "parse_access_entry"]

ACCESS_ENTRY_FORMAT = "credit-ledger-access-entry/1"

_REQUIRED = ("format", "entry_id", "accessed_at", "accessor", "query", "purpose")
_OPTIONAL = ("subject", "record_id", "request_id")
#: Longest text of each member (the index's column sizes).
_LIMITS = {
    "accessor": 256,
    "query": 64,
    "purpose": 256,
    "subject": 128,
    "record_id": 128,
    "request_id": 64,
}


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access-log entry, as committed."""

    entry_id: int
    accessed_at: datetime
    accessor: str
    query: str
    purpose: str
    subject: str | None = None
    record_id: str | None = None
    request_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The committed members (optional ones left out when absent)."""
        when = self.accessed_at.astimezone(UTC)
        obj: dict[str, Any] = {
            "format": ACCESS_ENTRY_FORMAT,
            "entry_id": self.entry_id,
            "accessed_at": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "accessor": self.accessor,
            "query": self.query,
            "purpose": self.purpose,
        }
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                obj[name] = value
        return obj

    def canonical_bytes(self) -> bytes:
        """What the commitment is over: RFC 8785 JSON of :meth:`as_json`."""
        if self.accessed_at.tzinfo is None:
            raise ValidationError(None, "accessed_at", "must be timezone-aware")
        return canonicalize(self.as_json())


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError(None, field, f"access entry: {message}")


def parse_access_entry(content: bytes | str) -> AccessEntry:
    """Parse committed content back into an :class:`AccessEntry`, strictly: exactly the
    members above, the right types, and ``content`` must be its own canonical form.

    Raises:
        ValidationError: naming the offending member.
    """
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise _bad("", f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise _bad("", "must be a JSON object")
    if obj.get("format") != ACCESS_ENTRY_FORMAT:
        raise _bad("format", f"must be {ACCESS_ENTRY_FORMAT!r}, got {obj.get('format')!r}")
    for name in _REQUIRED:
        if name not in obj:
            raise _bad(name, "missing")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _bad(unknown[0], "unknown member")
    entry_id = obj["entry_id"]
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or entry_id < 1:
        raise _bad("entry_id", "must be a positive integer")
    for name, limit in _LIMITS.items():
        if name in obj and (not isinstance(obj[name], str) or not 1 <= len(obj[name]) <= limit):
            raise _bad(name, f"must be a string of 1-{limit} characters")
    stamp = obj["accessed_at"]
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        raise _bad("accessed_at", "must be an RFC 3339 UTC time ending in Z")
    try:
        accessed_at = datetime.fromisoformat(stamp[:-1] + "+00:00")
    except ValueError:
        raise _bad("accessed_at", f"not a time: {stamp!r}") from None
    entry = AccessEntry(
        entry_id=entry_id,
        accessed_at=accessed_at,
        accessor=obj["accessor"],
        query=obj["query"],
        purpose=obj["purpose"],
        subject=obj.get("subject"),
        record_id=obj.get("record_id"),
        request_id=obj.get("request_id"),
    )
    if entry.canonical_bytes() != text.encode("utf-8"):
        raise _bad("", "content is not in canonical form (RFC 8785, six fractional digits)")
    return entry
