"""Evidence bundles: build them from the index and the chain, verify them offline.

* :func:`build_bundle` — a v3 bundle (docs/evidence-format.md) for one or many records;
* :func:`build_checkpoint_bundle` — a checkpoint-form (compact) bundle: records proven by
  their inclusion in the newest anchored checkpoint of the global log;
* :func:`build_access_bundle` — a ``credit-ledger-access/1`` bundle for access-log entries;
* :func:`build_lineage_bundle` (of a ``queries.lineage.lineage_of`` graph) — a lineage
  bundle: every node of a loan's or records' upstream lineage and its edges;
* :class:`Verifier` / :func:`verify_bundle` — offline verification against a trust
  directory of org CA certificates (:class:`TrustStore`), step by step.
"""

from credit_ledger_verify.evidence.bundle import BundleShapeError
from credit_ledger_verify.evidence.model import (
    ACCESS_BUNDLE_FORMAT,
    BUNDLE_FORMAT,
    CHECKPOINT_BUNDLE_FORMAT,
    CHECKPOINT_STEP_NAMES,
    LINEAGE_BUNDLE_FORMAT,
    STEP_NAMES,
    BundleFormatError,
    CheckpointStep,
    EvidenceError,
    EvidenceVerificationError,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
)
from credit_ledger_verify.evidence.policy import EndorsementPolicy, EndorsementRule, PolicyError
from credit_ledger_verify.evidence.trust import (
    TRUST_FORMAT,
    TRUST_MANIFEST,
    IdentityError,
    MspRole,
    MspTrust,
    TrustedIdentity,
    TrustStore,
)
from credit_ledger_verify.evidence.verifier import Verifier, VerifierStats, verify_bundle
from credit_ledger_verify.fabric.blocks import block_header_bytes

from ledger_service.evidence.builder import build_access_bundle, build_bundle, encode_bundle
from ledger_service.evidence.case_bundle import build_case_bundle, case_record_ids
from ledger_service.evidence.compact import build_checkpoint_bundle
from ledger_service.evidence.lineage_builder import (
    build_lineage_bundle,
    lineage_section,
)

__all__ = [
    "ACCESS_BUNDLE_FORMAT",
    "BUNDLE_FORMAT",
    "CHECKPOINT_BUNDLE_FORMAT",
    "CHECKPOINT_STEP_NAMES",
    "LINEAGE_BUNDLE_FORMAT",
    "STEP_NAMES",
    "TRUST_FORMAT",
    "TRUST_MANIFEST",
    "BundleFormatError",
    "BundleShapeError",
    "CheckpointStep",
    "EndorsementPolicy",
    "EndorsementRule",
    "EvidenceError",
    "EvidenceVerificationError",
    "IdentityError",
    "MspRole",
    "MspTrust",
    "PolicyError",
    "RecordOutcome",
    "Step",
    "StepResult",
    "StepStatus",
    "TrustStore",
    "TrustedIdentity",
    "VerificationResult",
    "Verifier",
    "VerifierStats",
    "block_header_bytes",
    "build_access_bundle",
    "build_bundle",
    "build_case_bundle",
    "build_checkpoint_bundle",
    "build_lineage_bundle",
    "case_record_ids",
    "encode_bundle",
    "lineage_section",
    "verify_bundle",
]
