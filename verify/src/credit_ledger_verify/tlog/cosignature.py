"""Timestamped Ed25519 cosignatures, v1 (c2sp.org/tlog-cosignature, signature type 0x04).

A cosigner (a witness) signs, over Ed25519, the message::

    cosignature/v1
    time <POSIX seconds, decimal, no leading zeros>
    <the checkpoint's whole note text, extension lines included>

and the note signature is ``key ID ‖ u64 timestamp (big-endian) ‖ 64-byte signature``. It
states: as of that time, the largest consistent tree the cosigner has seen for this origin
has this root. Extension lines are signed but carry no statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from credit_ledger_verify.tlog.note import (
    ED25519_COSIGNATURE,
    NoteSignature,
    SignerKey,
    VerifierKey,
)

__all__ = ["MAX_TIMESTAMP", "Cosignature", "cosign", "cosigned_message", "open_cosignature"]

MAX_TIMESTAMP = 2**63 - 1
_HEADER = "cosignature/v1\n"
_SIGNATURE_BYTES = 8 + 64


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: who signed, and when (POSIX seconds)."""

    name: str
    timestamp: int


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs for ``note_text`` at ``timestamp``."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise ValueError(f"timestamp must be an int, got {type(timestamp).__name__}")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is outside 0..2^63-1")
    return f"{_HEADER}time {timestamp}\n{note_text}".encode()


def cosign(key: SignerKey, note_text: str, timestamp: int) -> NoteSignature:
    """The cosignature line of ``key`` over the checkpoint ``note_text`` at ``timestamp``."""
    if key.key_type != ED25519_COSIGNATURE:
        raise ValueError(f"key {key.name!r} is not a cosigner key (type 0x04)")
    signature = key.sign(cosigned_message(note_text, timestamp))
    return NoteSignature(key.name, key.verifier.key_id, timestamp.to_bytes(8, "big") + signature)


def open_cosignature(
    key: VerifierKey, note_text: str, signature: NoteSignature
) -> Cosignature | None:
    """The cosignature if ``signature`` is ``key``'s valid cosignature of ``note_text``,
    else ``None`` (wrong length, timestamp beyond 2^63-1, or a failing signature)."""
    raw = signature.signature
    if len(raw) != _SIGNATURE_BYTES:
        return None
    timestamp = int.from_bytes(raw[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        return None
    if not key.verify(cosigned_message(note_text, timestamp), raw[8:]):
        return None
    return Cosignature(key.name, timestamp)
