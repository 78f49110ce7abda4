"""Errors of the transparency-log core (drawn in ``credit_ledger_verify.errors``).

Shape errors (a note or a checkpoint that is not well formed) are raised before any
signature is checked; ``field`` names the offending part (``"signature[2]"``, ``"size"``,
``"root"``, ``"text"``, ...) and ``line`` its 1-based line in the note where one applies.
A witness's verdicts (accept / refuse / alarm) are results, not exceptions
(:mod:`credit_ledger_verify.tlog.witness`).
"""

from __future__ import annotations

from typing import ClassVar

from credit_ledger_verify.errors import LedgerError, VerificationError

__all__ = [
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointOriginError",
    "CheckpointSignatureError",
    "NoteFormatError",
    "NoteKeyError",
]


class CheckpointError(VerificationError):
    """A signed checkpoint (or the note carrying it) does not check out."""

    code: ClassVar[str] = "checkpoint_invalid"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        self.message = message
        self.field = field
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.message}"


class NoteFormatError(CheckpointError):
    """The bytes are not a well-formed C2SP signed note (encoding, blank line, signature lines)."""

    code: ClassVar[str] = "note_malformed"


class CheckpointFormatError(CheckpointError):
    """The note text is not a well-formed C2SP checkpoint body (origin, size, root, extensions)."""

    code: ClassVar[str] = "checkpoint_malformed"


class CheckpointOriginError(CheckpointError):
    """A well-formed checkpoint names a log other than the one the verifier expects."""

    code: ClassVar[str] = "checkpoint_origin_unexpected"


class CheckpointSignatureError(CheckpointError):
    """The signatures do not satisfy the key policy: no valid log signature, a known key's
    signature that fails, or fewer valid cosignatures than required."""

    code: ClassVar[str] = "checkpoint_signature_invalid"


class NoteKeyError(LedgerError):
    """A note signer/verifier key string, or a key policy built from keys, is malformed."""

    code: ClassVar[str] = "note_key_invalid"
