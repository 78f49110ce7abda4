"""Evidence bundle format (``credit-ledger-evidence/3``): names, result types and errors.

The format itself is specified in ``docs/evidence-format.md``; this module holds the pieces
that the builder and the verifier share. The on-chain layout the verifier reads is
:mod:`credit_ledger_verify.onchain`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

from credit_ledger_verify.errors import LedgerError, VerificationError
from credit_ledger_verify.evidence.lineage_result import LineageOutcome

__all__ = [
    "ACCESS_BUNDLE_FORMAT",
    "BUNDLE_FORMAT",
    "CHECKPOINT_BUNDLE_FORMAT",
    "CHECKPOINT_STEP_NAMES",
    "LINEAGE_BUNDLE_FORMAT",
    "RETIRED_FORMATS",
    "STEP_NAMES",
    "BundleFormatError",
    "CheckpointStep",
    "ErasureFinding",
    "EvidenceError",
    "EvidenceVerificationError",
    "RecordOutcome",
    "Step",
    "StepResult",
    "StepStatus",
    "VerificationResult",
    "short_hex",
]

#: The ``format`` field of every bundle. /3: a record's on-chain key is its commitment
#: (/2: its record id, binary values; /1: record id, JSON values).
BUNDLE_FORMAT = "credit-ledger-evidence/3"
#: The ``format`` of a lineage bundle: the records and blocks of a ``/3`` bundle plus a
#: required ``lineage`` section (roots, depth, as-of, loan, edges). A separate name, not an
#: optional ``/3`` section, so a verifier that knows only ``/3`` refuses it instead of
#: reporting "verified" without checking a single edge.
LINEAGE_BUNDLE_FORMAT = "credit-ledger-lineage/1"
#: The ``format`` of an access-log bundle: access-log entries (``entries``, each named by its
#: ``entry_id``, content = the entry's committed JSON, ``credit_ledger_verify.access_entry``)
#: and the blocks, checked by the same steps as records. Its own name, so a verifier that knows
#: only ``/3`` refuses it instead of finding "no records".
ACCESS_BUNDLE_FORMAT = "credit-ledger-access/1"
#: The ``format`` of the compact, checkpoint-form bundle: records proven by their inclusion in
#: the global log at an anchored checkpoint, and that checkpoint's transaction in its block
#: (docs/evidence-format.md §8). Its own version, so a ``/3`` verifier refuses it by name.
#: /5: a record's content is its JSON object (the verifier re-derives the committed RFC 8785
#: bytes), the block's data hash is derived, not carried; /4 carried both.
CHECKPOINT_BUNDLE_FORMAT = "credit-ledger-evidence/5"
#: Formats this verifier knows but refuses, and why (their on-chain layout is gone).
RETIRED_FORMATS = {
    "credit-ledger-evidence/1": "on-chain layout v1 (record keys named record ids, JSON values)",
    "credit-ledger-evidence/2": "on-chain layout v2 (record keys named record ids)",
    "credit-ledger-evidence/4": (
        "the first checkpoint form (content as escaped text, the block's data hash carried)"
    ),
}


class Step(IntEnum):
    """The verification steps, numbered as in docs/evidence-format.md."""

    FORMAT = 0
    CONTENT = 1
    MERKLE = 2
    WRITE_SET = 3
    ENDORSEMENT = 4
    BLOCK = 5
    ORDERER = 6


STEP_NAMES: dict[Step, str] = {
    Step.FORMAT: "format",
    Step.CONTENT: "content",
    Step.MERKLE: "merkle",
    Step.WRITE_SET: "write set",
    Step.ENDORSEMENT: "endorsement",
    Step.BLOCK: "block",
    Step.ORDERER: "orderer",
}


class CheckpointStep(IntEnum):
    """The steps of a checkpoint-form bundle (docs/evidence-format.md §8)."""

    FORMAT = 0
    CONTENT = 1
    INCLUSION = 2
    CHECKPOINT = 3
    ANCHOR = 4
    ENDORSEMENT = 5
    BLOCK = 6
    ORDERER = 7


CHECKPOINT_STEP_NAMES: dict[int, str] = {
    CheckpointStep.FORMAT: "format",
    CheckpointStep.CONTENT: "content",
    CheckpointStep.INCLUSION: "inclusion",
    CheckpointStep.CHECKPOINT: "checkpoint",
    CheckpointStep.ANCHOR: "anchor",
    CheckpointStep.ENDORSEMENT: "endorsement",
    CheckpointStep.BLOCK: "block",
    CheckpointStep.ORDERER: "orderer",
}


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    #: deliberately not checked (step 1 of a redacted record)
    SKIPPED = "skipped"
    #: could not be checked because something it needs is missing (another step says why)
    NOT_CHECKED = "not checked"


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step | CheckpointStep
    status: StepStatus
    detail: str = ""

    @property
    def name(self) -> str:
        # the two enums share numbers (IntEnum members hash as ints): look up by type
        if isinstance(self.step, CheckpointStep):
            return CHECKPOINT_STEP_NAMES[self.step]
        return STEP_NAMES[self.step]

    @property
    def ok(self) -> bool:
        return self.status in (StepStatus.PASSED, StepStatus.SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": int(self.step),
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ErasureFinding:
    """What a verified erasure record says about an erased record (§8)."""

    erasure_record_id: str
    #: ``expiry`` or ``request``
    basis: str
    rule: str
    #: the erasure record's ``occurred_at``: when the content was deleted
    erased_at: datetime
    #: the service actor whose trusted key signed the erasure record
    signer: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "erasure_record": self.erasure_record_id,
            "basis": self.basis,
            "rule": self.rule,
            "erased_at": _rfc3339(self.erased_at),
            "signer": self.signer,
        }


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What the verifier found for one record of a bundle."""

    record_id: str
    steps: tuple[StepResult, ...]
    redacted: bool = False
    batch_id: str | None = None
    tx_id: str | None = None
    block_number: int | None = None
    #: hex SHA-256 of the block header (Fabric's block hash), when the block could be read
    block_header_hash: str | None = None
    #: the anchoring transaction's timestamp (its channel header), when it could be decoded
    block_time: datetime | None = None
    #: set when the record is erased and its erasure record verified (step 1 says so)
    erasure: ErasureFinding | None = None

    @property
    def status(self) -> str:
        """``verified``, ``redacted`` (content not in the bundle), ``erased`` (content
        lawfully deleted: the anchored erasure record verified) or ``failed``."""
        if not self.ok:
            return "failed"
        if self.erasure is not None:
            return "erased"
        return "redacted" if self.redacted else "verified"

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failure(self) -> StepResult | None:
        """The lowest-numbered failed step (``None`` if the record verified)."""
        for s in self.steps:
            if s.status is StepStatus.FAILED:
                return s
        for s in self.steps:
            if not s.ok:
                return s
        return None

    @property
    def failures(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.status is StepStatus.FAILED)

    def step(self, step: Step | CheckpointStep) -> StepResult | None:
        for s in self.steps:
            if s.step == step and type(s.step) is type(step):
                return s
        return None

    @property
    def message(self) -> str:
        """``step N (name): record "id": why`` for the first failure, or a success line."""
        failure = self.failure
        if failure is None and self.erasure is not None:
            e = self.erasure
            return (
                f'record "{self.record_id}": erased on {e.erased_at.date().isoformat()} under '
                f"{e.rule} ({e.basis}); erasure record {e.erasure_record_id} verified, "
                "the commitment is anchored"
            )
        if failure is None:
            how = " (redacted: content not checked)" if self.redacted else ""
            return f'record "{self.record_id}": verified{how}'
        where = f"step {int(failure.step)} ({failure.name})"
        return f'{where}: record "{self.record_id}": {failure.detail}'

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "ok": self.ok,
            "redacted": self.redacted,
            "batch_id": self.batch_id,
            "tx_id": self.tx_id,
            "block_number": self.block_number,
            "block_header_hash": self.block_header_hash,
            "block_time": None if self.block_time is None else _rfc3339(self.block_time),
            "status": self.status,
            "erasure": None if self.erasure is None else self.erasure.as_dict(),
            "message": self.message,
            "steps": [s.as_dict() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of verifying one bundle: a bundle-level ``error`` (unreadable bundle) or one
    :class:`RecordOutcome` per record entry, in bundle order."""

    records: tuple[RecordOutcome, ...] = ()
    error: str | None = None
    source: str | None = field(default=None, compare=False)
    #: the lineage checks of a lineage bundle (``None`` for an evidence bundle)
    lineage: LineageOutcome | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and bool(self.records)
            and all(r.ok for r in self.records)
            and (self.lineage is None or self.lineage.ok)
        )

    @property
    def failed(self) -> tuple[RecordOutcome, ...]:
        return tuple(r for r in self.records if not r.ok)

    @property
    def messages(self) -> list[str]:
        """One line per problem (empty when the bundle verified)."""
        prefix = f"{self.source}: " if self.source else ""
        if self.error is not None:
            return [f"{prefix}{self.error}"]
        if not self.records:
            return [f"{prefix}bundle holds no records"]
        lines = [prefix + r.message for r in self.records if not r.ok]
        if self.lineage is not None:
            lines.extend(prefix + p.message for p in self.lineage.problems)
        return lines

    def raise_for_failure(self) -> None:
        """Raise :class:`EvidenceVerificationError` unless every record verified."""
        if not self.ok:
            raise EvidenceVerificationError(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "error": self.error,
            "records": [r.as_dict() for r in self.records],
            "lineage": None if self.lineage is None else self.lineage.as_dict(),
        }


class EvidenceError(LedgerError):
    """A bundle cannot be built (unknown or unanchored record, erased content, a block that
    does not hold the transaction the index names, ...)."""

    code: ClassVar[str] = "evidence_unavailable"


class BundleFormatError(EvidenceError):
    """Bundle bytes that are not a v3 evidence bundle at all (not JSON, wrong format tag)."""

    code: ClassVar[str] = "bundle_format"


class EvidenceVerificationError(VerificationError):
    """Raised by :meth:`VerificationResult.raise_for_failure`; carries the result."""

    code: ClassVar[str] = "evidence_rejected"

    def __init__(self, result: VerificationResult) -> None:
        self.result = result
        super().__init__(result)

    def __str__(self) -> str:
        lines = self.result.messages
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        return (lines[0] if lines else "verification failed") + more


def _rfc3339(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def short_hex(value: str | bytes, length: int = 16) -> str:
    """First ``length`` hex digits of a value, with ``..`` when cut (for messages)."""
    text = value.hex() if isinstance(value, bytes) else value
    return text if len(text) <= length else text[:length] + ".."
