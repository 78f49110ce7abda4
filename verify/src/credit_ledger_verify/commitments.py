"""Salted commitments: what goes on chain instead of a record's content.

``commitment = SHA-256(salt ‖ canonical)`` with a fresh 32-byte random salt per record,
kept off chain. Without the salt, low-entropy fields (a tax id, an amount) cannot be
brute-forced from the hash; deleting content and salt off chain ("crypto-shredding")
leaves an on-chain hash that can no longer be linked to anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from credit_ledger_verify.errors import CommitmentError, CommitmentMismatch

__all__ = ["COMMITMENT_BYTES", "SALT_BYTES", "commitment", "new_salt", "verify_commitment"]

SALT_BYTES = 32
COMMITMENT_BYTES = 32


def new_salt() -> bytes:
    """Return a fresh 32-byte salt from the OS CSPRNG."""
    return secrets.token_bytes(SALT_BYTES)


def commitment(salt: bytes, canonical: bytes) -> bytes:
    """Return SHA-256(salt ‖ canonical), the 32-byte commitment to a record.

    ``canonical`` is ``Record.canonical_bytes()``.

    Raises:
        CommitmentError: if ``salt`` is not exactly 32 bytes or ``canonical`` is empty.
    """
    if not isinstance(salt, (bytes, bytearray)):
        raise CommitmentError(f"salt must be bytes, got {type(salt).__name__}")
    if len(salt) != SALT_BYTES:
        raise CommitmentError(f"salt must be exactly {SALT_BYTES} bytes, got {len(salt)}")
    if not isinstance(canonical, (bytes, bytearray)):
        raise CommitmentError(f"canonical form must be bytes, got {type(canonical).__name__}")
    if not canonical:
        raise CommitmentError("canonical form is empty")
    return hashlib.sha256(bytes(salt) + bytes(canonical)).digest()


def verify_commitment(salt: bytes, canonical: bytes, expected: bytes) -> None:
    """Check that ``expected`` commits to ``canonical`` under ``salt``.

    Raises:
        CommitmentError: if the inputs are malformed.
        CommitmentMismatch: if they are well-formed but do not give ``expected``.
    """
    if len(expected) != COMMITMENT_BYTES:
        raise CommitmentError(
            f"commitment must be exactly {COMMITMENT_BYTES} bytes, got {len(expected)}"
        )
    calculated = commitment(salt, canonical)
    if not hmac.compare_digest(calculated, expected):
        raise CommitmentMismatch(expected, calculated)
