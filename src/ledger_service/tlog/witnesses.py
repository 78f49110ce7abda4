"""Witnesses the platform knows, and the cosignatures they submit (issue 13, item 4).

An admin registers a witness by name and cosigner verifier key (``ledgerctl witness-keys
add``); a witness then submits, for a stored checkpoint, its cosignature line
(c2sp.org/tlog-cosignature). :func:`accept_cosignature` checks the line against the
witness's registered, unrevoked key and the stored note *before* storing it, so the service
never serves a cosignature that a verifier holding the same key would reject.
:func:`cosigned_note` is the stored note with every accepted cosignature of a witness still
registered appended (a revoked witness's lines are no longer served).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from credit_ledger_verify.tlog import (
    ED25519_COSIGNATURE,
    NoteSignature,
    VerifierKey,
    open_cosignature,
    parse_note,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import LedgerError, ValidationError
from ledger_service.index.log_models import LogCosignature, WitnessKeyRow
from ledger_service.tlog.checkpoints import StoredCheckpoint, read_checkpoint

__all__ = [
    "CosignatureRefused",
    "RegisteredWitness",
    "WitnessKeyError",
    "accept_cosignature",
    "active_witness_keys",
    "cosigned_note",
    "list_witnesses",
    "register_witness",
    "revoke_witness",
]

#: a signature line is ``— <name> <base64>``; bounds what the service parses and stores
MAX_LINE_CHARS = 512


class WitnessKeyError(ValidationError):
    """A witness key cannot be registered or revoked: malformed, not a cosigner key, another
    active key under the name, or no such witness."""

    code: ClassVar[str] = "witness_key_invalid"


class CosignatureRefused(ValidationError):
    """A submitted cosignature is not stored: malformed line, a witness with no registered
    (or a revoked) key, or a signature that does not verify over the stored checkpoint."""

    code: ClassVar[str] = "cosignature_refused"


@dataclass(frozen=True, slots=True)
class RegisteredWitness:
    name: str
    key: VerifierKey
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _witness(row: WitnessKeyRow) -> RegisteredWitness:
    return RegisteredWitness(
        row.name, VerifierKey.parse(row.verifier_key), row.created_at, row.revoked_at
    )


def register_witness(session: Session, verifier_key: str, now: dt.datetime) -> RegisteredWitness:
    """Register a witness's cosigner key (its name is the key's name). Registering the same
    key again is a no-op; another key while one is active is refused (revoke it first)."""
    try:
        key = VerifierKey.parse(verifier_key.strip())
    except LedgerError as exc:
        raise WitnessKeyError(None, "verifier_key", str(exc)) from None
    if key.key_type != ED25519_COSIGNATURE:
        raise WitnessKeyError(
            None,
            "verifier_key",
            f"key {key.name!r} has type 0x{key.key_type:02x}; a witness key is a cosigner key "
            "(0x04, `ledgerctl witness init` prints one)",
        )
    rows = session.scalars(select(WitnessKeyRow).where(WitnessKeyRow.name == key.name)).all()
    same = next((r for r in rows if r.key_id == key.key_id.hex()), None)
    if same is not None:
        if same.revoked_at is not None:
            raise WitnessKeyError(
                None, "verifier_key", f"this key of witness {key.name!r} was revoked"
            )
        return _witness(same)
    if any(r.revoked_at is None for r in rows):
        raise WitnessKeyError(
            None, "name", f"witness {key.name!r} has another active key; revoke it first"
        )
    row = WitnessKeyRow(
        name=key.name, key_id=key.key_id.hex(), verifier_key=key.encode(), created_at=now
    )
    session.add(row)
    session.flush()
    return _witness(row)


def revoke_witness(session: Session, name: str, now: dt.datetime) -> RegisteredWitness:
    """Revoke the witness's active key: its cosignatures are no longer accepted or served."""
    row = session.scalars(
        select(WitnessKeyRow).where(WitnessKeyRow.name == name, WitnessKeyRow.revoked_at.is_(None))
    ).first()
    if row is None:
        raise WitnessKeyError(None, "name", f"no active witness key named {name!r}")
    row.revoked_at = now
    session.flush()
    return _witness(row)


def list_witnesses(session: Session) -> list[RegisteredWitness]:
    query = select(WitnessKeyRow).order_by(WitnessKeyRow.name, WitnessKeyRow.created_at)
    return [_witness(row) for row in session.scalars(query)]


def active_witness_keys(session: Session) -> dict[tuple[str, str], VerifierKey]:
    """(name, key ID hex) -> key, of every registered witness key not revoked."""
    query = select(WitnessKeyRow).where(WitnessKeyRow.revoked_at.is_(None))
    return {(r.name, r.key_id): VerifierKey.parse(r.verifier_key) for r in session.scalars(query)}


def _parse_line(stored: StoredCheckpoint, line: str) -> NoteSignature:
    """The one signature of ``line``, parsed by the signed-note parser itself (the stored
    note with the line appended must still be a well-formed note)."""
    line = line.removesuffix("\n")
    if not line or "\n" in line or len(line) > MAX_LINE_CHARS:
        raise CosignatureRefused(
            None, "cosignature", f"must be one signature line of at most {MAX_LINE_CHARS} chars"
        )
    try:
        note = parse_note(stored.note + line.encode() + b"\n")
    except LedgerError as exc:
        raise CosignatureRefused(None, "cosignature", str(exc)) from None
    return note.signatures[-1]


def accept_cosignature(
    session: Session,
    origin: str,
    size: int,
    line: str,
    now: dt.datetime,
    *,
    submitter: str | None = None,
) -> tuple[StoredCheckpoint, str]:
    """Check ``line`` as a cosignature of the stored checkpoint of ``size`` by a registered
    witness and store it; returns the checkpoint and the witness's name.

    ``submitter``: the witness name the caller is bound to (its API key); a line signed
    under another name is refused. Submitting the same line again is a no-op.

    Raises:
        CheckpointNotFoundError: no checkpoint of that size.
        CosignatureRefused: as named in the message (nothing is stored).
    """
    stored = read_checkpoint(session, origin, size)
    signature = _parse_line(stored, line)
    if submitter is not None and signature.name != submitter:
        raise CosignatureRefused(
            None,
            "cosignature",
            f"the line is signed as witness {signature.name!r}; this key submits for "
            f"{submitter!r} only",
        )
    key_hex = signature.key_id.hex()
    row = session.get(WitnessKeyRow, (signature.name, key_hex))
    if row is None or row.revoked_at is not None:
        state = "revoked" if row is not None else "not registered"
        raise CosignatureRefused(
            None, "cosignature", f"witness {signature.name!r} key {key_hex} is {state}"
        )
    text = parse_note(stored.note).text
    opened = open_cosignature(VerifierKey.parse(row.verifier_key), text, signature)
    if opened is None:
        raise CosignatureRefused(
            None,
            "cosignature",
            f"witness {signature.name!r}'s cosignature does not verify over checkpoint {size}",
        )
    existing = session.get(LogCosignature, (origin, size, signature.name, key_hex))
    encoded = signature.line().removesuffix("\n")
    if existing is None:
        session.add(
            LogCosignature(
                origin=origin,
                size=size,
                witness=signature.name,
                key_id=key_hex,
                cosigned_at=opened.timestamp,
                line=encoded,
                received_at=now,
            )
        )
    elif opened.timestamp > existing.cosigned_at:  # the newest statement of the witness
        existing.cosigned_at, existing.line, existing.received_at = opened.timestamp, encoded, now
    session.flush()
    return stored, signature.name


def cosigned_note(session: Session, origin: str, size: int | None = None) -> StoredCheckpoint:
    """The stored checkpoint (default: the latest) with the cosignature lines of its
    still-registered witnesses that verify over it appended, ordered by witness name."""
    stored = read_checkpoint(session, origin, size)
    active = active_witness_keys(session)
    rows = session.scalars(
        select(LogCosignature)
        .where(LogCosignature.origin == origin, LogCosignature.size == stored.checkpoint.size)
        .order_by(LogCosignature.witness, LogCosignature.key_id)
    ).all()
    text = parse_note(stored.note).text
    lines = []
    for row in rows:
        key = active.get((row.witness, row.key_id))
        if key is None:
            continue
        # checked again as served: a row that no longer matches the stored note (edited, or
        # the note replaced) must not reach a verifier as a cosignature of this note
        signature = _parse_line(stored, row.line)
        if open_cosignature(key, text, signature) is not None:
            lines.append(row.line + "\n")
    return StoredCheckpoint(
        stored.checkpoint, stored.note + "".join(lines).encode(), stored.issued_at
    )
