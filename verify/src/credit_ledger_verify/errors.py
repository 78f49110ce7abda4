"""The root of the project's exception tree and the part of it the offline verifier raises.

Every error the project raises derives from :class:`LedgerError`, so callers catch one base
class; each class has a stable machine-readable ``code`` (a class attribute, snake_case,
unique per class, never changed once published). Where it applies an error carries
``record_id`` (the record concerned) and ``field`` (the dotted path of the offending field);
both are ``None`` otherwise. The service (``ledger_service.errors``) re-exports these classes
and adds its own below the same root; its docstring draws the whole tree. Classes defined
outside this module are marked with their module; ``tests/unit/test_errors.py`` checks that
every subclass in this package is drawn here::

    LedgerError                                   ledger_error
    ├── ValidationError(record_id, field, msg)    invalid_input       bad input
    │   └── PayloadTooLarge                       payload_too_large
    ├── CanonicalizationError(path, message)      not_canonicalizable
    ├── CommitmentError                           bad_commitment_input
    ├── VerificationError                         verification_failed  evidence does not check out
    │   ├── CommitmentMismatch                    commitment_mismatch
    │   ├── ProofError                            bad_proof
    │   ├── RootMismatch                          root_mismatch
    │   ├── EvidenceVerificationError (evidence.model)  evidence_rejected
    │   └── CheckpointError      (tlog.errors)    checkpoint_invalid  a signed checkpoint
    │       ├── NoteFormatError  (tlog.errors)    note_malformed
    │       ├── CheckpointFormatError (tlog.errors)  checkpoint_malformed
    │       ├── CheckpointOriginError (tlog.errors)  checkpoint_origin_unexpected
    │       └── CheckpointSignatureError (tlog.errors)  checkpoint_signature_invalid
    ├── EvidenceError        (evidence.model)     evidence_unavailable  a bundle cannot be built
    │   ├── BundleFormatError (evidence.model)    bundle_format
    │   ├── BundleShapeError (evidence.bundle)    evidence_bundle_shape
    │   └── PolicyError      (evidence.policy)    evidence_policy_invalid
    ├── IdentityError        (evidence.trust)     untrusted_identity
    ├── OnChainFormatError   (onchain)            onchain_format
    ├── EnvelopeError        (fabric.envelope)    fabric_envelope_malformed
    └── NoteKeyError         (tlog.errors)        note_key_invalid

Classes outside this module that used to subclass ``ValueError`` still do (next to
``LedgerError``), so existing ``except`` clauses keep working. Private classes used for
control flow inside one module (the verifier's ``_Malformed``) derive from a public class
and never escape their module.

``ValidationError`` deliberately shares its name with pydantic's: inside this project the
name always means this class; :func:`credit_ledger_verify.records.to_validation_error`
converts pydantic's errors into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "CanonicalizationError",
    "CommitmentError",
    "CommitmentMismatch",
    "FieldProblem",
    "LedgerError",
    "PayloadTooLarge",
    "ProofError",
    "RootMismatch",
    "ValidationError",
    "VerificationError",
]


class LedgerError(Exception):
    """Base class of every error the project raises deliberately."""

    #: Stable machine-readable code, unique per class (the REST layer maps errors by it).
    code: ClassVar[str] = "ledger_error"
    #: The record the error concerns, where one does.
    record_id: str | None = None
    #: Dotted path of the offending field, where one does (``""``: the record as a whole).
    field: str | None = None


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a record; ``field`` is a dotted path (``payload.amount``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def record_label(record_id: str | None) -> str:
    return f'record "{record_id}"' if record_id is not None else "record"


class ValidationError(LedgerError):
    """A record (or a write request) is not acceptable; nothing was written.

    ``field`` is the dotted path of the first offending field (``""`` for the record as a
    whole); ``problems`` lists every problem found, the first one being ``(field, message)``.
    """

    code: ClassVar[str] = "invalid_input"
    field: str
    #: the record's position in its request, when the request held several (set by the API)
    record_index: int | None = None

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
        text = f"{record_label(self.record_id)}: {FieldProblem(self.field, self.message)}"
        extra = len(self.problems) - 1
        if extra > 0:
            text += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        return text


class PayloadTooLarge(ValidationError):
    """The canonical form of a record's payload exceeds the size limit."""

    code: ClassVar[str] = "payload_too_large"

    def __init__(self, record_id: str | None, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            record_id,
            "payload",
            f"canonical payload is {size} bytes, more than the limit of {limit} bytes",
        )


class CanonicalizationError(LedgerError):
    """A value cannot be put into RFC 8785 canonical form (float, non-string key, ...).

    ``path`` locates the value inside the object handed to ``canonicalize`` (``$`` is the root).
    """

    code: ClassVar[str] = "not_canonicalizable"

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(path, message)

    def __str__(self) -> str:
        return f"cannot canonicalize {self.path}: {self.message}"


class CommitmentError(LedgerError):
    """The inputs of a commitment are malformed (e.g. a salt of the wrong length)."""

    code: ClassVar[str] = "bad_commitment_input"


class VerificationError(LedgerError):
    """Evidence (a signature, a proof, a root) does not check out."""

    code: ClassVar[str] = "verification_failed"


class CommitmentMismatch(VerificationError):
    """A record's canonical content and salt do not hash to the expected commitment."""

    code: ClassVar[str] = "commitment_mismatch"

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

    code: ClassVar[str] = "bad_proof"


class RootMismatch(VerificationError):
    """A well-formed proof leads to a root other than the expected one."""

    code: ClassVar[str] = "root_mismatch"

    def __init__(self, expected: bytes, calculated: bytes) -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(expected, calculated)

    def __str__(self) -> str:
        return f"root mismatch: expected {self.expected.hex()}, calculated {self.calculated.hex()}"
