"""The ledger service's exception tree.

Every error the service raises on purpose derives from :class:`LedgerError`, so callers can
catch one base class; the subclasses say which check failed and carry the values involved::

    LedgerError
    ├── ValidationError(record_id, field, message)      bad input; nothing is written
    │   ├── PayloadTooLarge(record_id, size, limit)
    │   ├── DanglingParent(record_id, field, missing_id)
    │   ├── CyclicLineage(record_id, cycle)
    │   └── IdempotencyConflict(record_id)
    ├── CanonicalizationError(path, message)          value has no RFC 8785 form
    ├── CommitmentError(message)                      bad salt / commitment input
    └── VerificationError                             evidence does not check out
        ├── SignatureError(record_id, message)
        ├── CommitmentMismatch(expected, calculated)  content + salt ≠ commitment
        ├── ProofError(message)                       malformed proof / bad preconditions
        └── RootMismatch(expected, calculated)        well-formed proof, wrong root

``ValidationError`` deliberately shares its name with pydantic's: inside this project the
name always means this class; :func:`ledger_service.records.to_validation_error` converts
pydantic's errors into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CanonicalizationError",
    "CommitmentError",
    "CommitmentMismatch",
    "CyclicLineage",
    "DanglingParent",
    "FieldProblem",
    "IdempotencyConflict",
    "LedgerError",
    "PayloadTooLarge",
    "ProofError",
    "RootMismatch",
    "SignatureError",
    "ValidationError",
    "VerificationError",
]


class LedgerError(Exception):
    """Base class of every error the ledger service raises deliberately."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a record; ``field`` is a dotted path (``payload.amount``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _record_label(record_id: str | None) -> str:
    return f'record "{record_id}"' if record_id is not None else "record"


class ValidationError(LedgerError):
    """A record (or a write request) is not acceptable; nothing was written.

    ``field`` is the dotted path of the first offending field (``""`` for the record as a
    whole); ``problems`` lists every problem found, the first one being ``(field, message)``.
    """

    def __init__(
        self,
        record_id: str | None,
        field: str,
        message: str,
        *,
        problems: Sequence[FieldProblem] = (),
    ) -> None:
        self.record_id = record_id
        self.field = field
        self.message = message
        self.problems: tuple[FieldProblem, ...] = tuple(problems) or (FieldProblem(field, message),)
        super().__init__(record_id, field, message)

    def __str__(self) -> str:
        text = f"{_record_label(self.record_id)}: {FieldProblem(self.field, self.message)}"
        extra = len(self.problems) - 1
        if extra > 0:
            text += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        return text


class PayloadTooLarge(ValidationError):
    """The canonical form of a record's payload exceeds the size limit."""

    def __init__(self, record_id: str | None, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            record_id,
            "payload",
            f"canonical payload is {size} bytes, more than the limit of {limit} bytes",
        )


class DanglingParent(ValidationError):
    """A record refers (through ``field``) to a record id the ledger does not know."""

    def __init__(self, record_id: str | None, field: str, missing_id: str) -> None:
        self.missing_id = missing_id
        super().__init__(record_id, field, f"refers to unknown record {missing_id!r}")


class CyclicLineage(ValidationError):
    """Accepting the record would make the lineage graph cyclic."""

    def __init__(self, record_id: str | None, cycle: Sequence[str]) -> None:
        self.cycle: tuple[str, ...] = tuple(cycle)
        super().__init__(record_id, "parents", "lineage would be cyclic: " + " -> ".join(cycle))


class IdempotencyConflict(ValidationError):
    """The record id (idempotency key) was already used for different content."""

    def __init__(self, record_id: str) -> None:
        super().__init__(record_id, "record_id", "already used for a record with different content")


class CanonicalizationError(LedgerError):
    """A value cannot be put into RFC 8785 canonical form (float, non-string key, ...).

    ``path`` locates the value inside the object handed to ``canonicalize`` (``$`` is the root).
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(path, message)

    def __str__(self) -> str:
        return f"cannot canonicalize {self.path}: {self.message}"


class CommitmentError(LedgerError):
    """The inputs of a commitment are malformed (e.g. a salt of the wrong length)."""


class VerificationError(LedgerError):
    """Evidence (a signature, a proof, a root) does not check out."""


class SignatureError(VerificationError):
    """A record's writer signature is missing, malformed or does not verify."""

    def __init__(self, record_id: str | None, message: str) -> None:
        self.record_id = record_id
        self.message = message
        super().__init__(record_id, message)

    def __str__(self) -> str:
        return f"{_record_label(self.record_id)}: signature: {self.message}"


class CommitmentMismatch(VerificationError):
    """A record's canonical content and salt do not hash to the expected commitment."""

    def __init__(self, expected: bytes, calculated: bytes) -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(expected, calculated)

    def __str__(self) -> str:
        return (
            f"commitment mismatch: expected {self.expected.hex()}, "
            f"calculated {self.calculated.hex()}"
        )


class ProofError(VerificationError):
    """A Merkle proof or its parameters are malformed (index out of range, wrong length, ...)."""


class RootMismatch(VerificationError):
    """A well-formed proof leads to a root other than the expected one."""

    def __init__(self, expected: bytes, calculated: bytes) -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(expected, calculated)

    def __str__(self) -> str:
        return f"root mismatch: expected {self.expected.hex()}, calculated {self.calculated.hex()}"
