"""The project's one exception tree, with each class's stable machine-readable ``code``.

Every error the project raises derives from :class:`LedgerError`, so callers catch one base
class and the REST layer maps errors to responses in one place by ``code`` (a class
attribute, snake_case, unique per class, never changed once published). Where it applies an
error carries ``record_id`` (the record concerned) and ``field`` (the dotted path of the
offending field); both are ``None`` otherwise. The root and the verifier's errors live in the
offline verifier's package (``credit_ledger_verify.errors``, re-exported here; marked
``[verify]``, with their module inside that package where it is not ``errors``); the service's
own classes are marked with their module where it is not this one.
``tests/unit/test_errors.py`` checks that every subclass is drawn here::

    LedgerError                          [verify] ledger_error
    ├── ValidationError(record_id, field, msg) [verify] invalid_input  bad input; nothing written
    │   ├── PayloadTooLarge              [verify] payload_too_large
    │   ├── DanglingParent                        dangling_reference
    │   ├── CyclicLineage                         cyclic_lineage
    │   ├── IdempotencyConflict                   idempotency_conflict
    │   ├── RequestTooLarge      (intake.checks)  request_too_large
    │   ├── RepairCaseError      (intake.repairs) repair_case_invalid
    │   ├── LineageQueryError (queries.lineage.model) lineage_query_invalid
    │   ├── WitnessKeyError      (tlog.witnesses) witness_key_invalid
    │   └── CosignatureRefused   (tlog.witnesses) cosignature_refused
    ├── UnknownRecord(record_id)                  unknown_record
    │   └── UnknownRepairCase (queries.repairs)   unknown_repair_case
    ├── UnknownAccessEntry(entry_id)              unknown_access_entry
    ├── UnknownObjectionCase (queries.objections) unknown_objection_case
    ├── RecordErased(record_id)                   record_erased
    ├── CanonicalizationError(path, message) [verify] not_canonicalizable
    ├── CommitmentError                  [verify] bad_commitment_input
    ├── WriterKeyError       (intake.writers)     writer_key_refused
    ├── VerificationError                [verify] verification_failed  evidence does not check out
    │   ├── SignatureError(record_id, message)    bad_signature
    │   ├── CommitmentMismatch           [verify] commitment_mismatch
    │   ├── ProofError                   [verify] bad_proof
    │   ├── RootMismatch                 [verify] root_mismatch
    │   ├── EvidenceVerificationError [verify] (evidence.model)  evidence_rejected
    │   └── CheckpointError [verify] (tlog.errors)  checkpoint_invalid
    │       ├── NoteFormatError [verify] (tlog.errors)  note_malformed
    │       ├── CheckpointFormatError [verify] (tlog.errors)  checkpoint_malformed
    │       ├── CheckpointOriginError [verify] (tlog.errors)  checkpoint_origin_unexpected
    │       └── CheckpointSignatureError [verify] (tlog.errors)  checkpoint_signature_invalid
    ├── EvidenceError  [verify] (evidence.model)  evidence_unavailable  a bundle cannot be built
    │   ├── BundleFormatError [verify] (evidence.model)  bundle_format
    │   ├── BundleShapeError [verify] (evidence.bundle)  evidence_bundle_shape
    │   └── PolicyError  [verify] (evidence.policy)  evidence_policy_invalid
    ├── IdentityError  [verify] (evidence.trust)  untrusted_identity
    ├── OnChainFormatError   [verify] (onchain)   onchain_format
    ├── EnvelopeError  [verify] (fabric.envelope) fabric_envelope_malformed
    ├── NoteKeyError   [verify] (tlog.errors)     note_key_invalid
    ├── ChainIntegrityError  (chainsync.parse)    chain_integrity
    ├── MirrorGapError       (chainsync.mirror)   mirror_gap
    ├── NeedleTooShort       (chainsync.exposure) needle_too_short
    ├── BlockStreamError     (fabric.blocks)      block_stream
    ├── PermanentBatchError  (anchoring.worker)   batch_refused
    ├── CheckpointRefusedError (anchoring.checkpointer) checkpoint_refused  alarm unless noted
    │   ├── CheckpointForkError (anchoring.checkpointer) checkpoint_fork
    │   ├── CheckpointInconsistentError (anchoring.checkpointer) checkpoint_inconsistent
    │   ├── CheckpointSignatureRefusedError (anchoring.checkpointer) checkpoint_signature_refused
    │   ├── LogKeyMismatchError (anchoring.checkpointer) log_key_mismatch
    │   ├── CheckpointGapError (anchoring.checkpointer) checkpoint_gap  head moved: next round
    │   └── CheckpointSmallerError (anchoring.checkpointer) checkpoint_smaller  head moved
    ├── DemoNotAnchored      (samples.demo)       demo_not_anchored
    ├── IndexNotEmpty        (samples.loader)     index_not_empty
    ├── ProvReadError        (export.prov)        prov_read_failed
    ├── PictureError         (export.picture)     picture_failed
    │   └── GraphvizMissing  (export.picture)     graphviz_missing
    ├── AuthenticationFailed (api.auth)           unauthenticated      HTTP 401
    ├── PermissionDenied     (api.auth)           forbidden            HTTP 403
    ├── RateLimited          (api.limits)         rate_limited         HTTP 429
    ├── FabricUnavailable    (api.routes.evidence) fabric_unavailable  HTTP 503
    ├── FabricToolError      (ops.fabric)         fabric_tool_failed
    ├── NetworkError         (ops.network)        network_operation_failed
    ├── ProcessError         (ops.processes)      process_failed
    ├── GlobalLogDivergedError (tlog.global_log) global_log_diverged
    ├── LogKeyError          (tlog.checkpoints)   log_key_invalid
    ├── CheckpointChainError (fabric.checkpoints) checkpoint_chain
    ├── ServiceKeyError      (retention.service_key) service_key_invalid
    ├── ErasureRefused(record_id) (retention.erasure) erasure_refused  a retention duty holds
    ├── CheckpointNotFoundError (tlog.checkpoints) checkpoint_not_found
    ├── WitnessStateError    (witness.state)      witness_state_invalid
    └── WitnessAlarmed       (witness.state)      witness_alarmed

Classes outside this module that used to subclass ``ValueError``/``RuntimeError`` still do
(next to ``LedgerError``), so existing ``except`` clauses keep working. Private classes used
for control flow inside one module (the verifier's ``_Malformed``) derive from a public class
here and never escape their module.

``ValidationError`` deliberately shares its name with pydantic's: inside this project the
name always means this class; :func:`credit_ledger_verify.records.to_validation_error` converts
pydantic's errors into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from credit_ledger_verify.errors import (
    CanonicalizationError,
    CommitmentError,
    CommitmentMismatch,
    FieldProblem,
    LedgerError,
    PayloadTooLarge,
    ProofError,
    RootMismatch,
    ValidationError,
    VerificationError,
    record_label,
)

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
    "RecordErased",
    "RootMismatch",
    "SignatureError",
    "UnknownAccessEntry",
    "UnknownRecord",
    "ValidationError",
    "VerificationError",
]


class DanglingParent(ValidationError):
    """A record refers (through ``field``) to a record id the ledger does not know."""

    code: ClassVar[str] = "dangling_reference"

    def __init__(self, record_id: str | None, field: str, missing_id: str) -> None:
        self.missing_id = missing_id
        super().__init__(record_id, field, f"refers to unknown record {missing_id!r}")


class CyclicLineage(ValidationError):
    """Accepting the record would make the lineage graph cyclic."""

    code: ClassVar[str] = "cyclic_lineage"

    def __init__(self, record_id: str | None, cycle: Sequence[str]) -> None:
        self.cycle: tuple[str, ...] = tuple(cycle)
        super().__init__(record_id, "parents", "lineage would be cyclic: " + " -> ".join(cycle))


class IdempotencyConflict(ValidationError):
    """The record id (idempotency key) was already used for different content."""

    code: ClassVar[str] = "idempotency_conflict"

    def __init__(self, record_id: str) -> None:
        super().__init__(record_id, "record_id", "already used for a record with different content")


class SignatureError(VerificationError):
    """A record's writer signature is missing, malformed or does not verify."""

    code: ClassVar[str] = "bad_signature"

    def __init__(self, record_id: str | None, message: str) -> None:
        self.record_id = record_id
        self.message = message
        super().__init__(record_id, message)

    def __str__(self) -> str:
        return f"{record_label(self.record_id)}: signature: {self.message}"


class UnknownRecord(LedgerError):
    """No record with this id is in the index."""

    code: ClassVar[str] = "unknown_record"

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(record_id)

    def __str__(self) -> str:
        return f'record "{self.record_id}": not in the index'


class UnknownAccessEntry(LedgerError):
    """No access-log entry with this id exists."""

    code: ClassVar[str] = "unknown_access_entry"
    field = "entry_id"

    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id
        super().__init__(entry_id)

    def __str__(self) -> str:
        return f"access-log entry {self.entry_id}: not in the access log"


class RecordErased(LedgerError):
    """The record's content was erased (crypto-shredded); only its commitment remains."""

    code: ClassVar[str] = "record_erased"

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(record_id)

    def __str__(self) -> str:
        return f'record "{self.record_id}": content was erased'
