"""Evidence bundles: build them from the index and the chain, verify them offline.

* :func:`build_bundle` — a v1 bundle (docs/evidence-format.md) for one or many records;
* :class:`Verifier` / :func:`verify_bundle` — offline verification against a trust
  directory of org CA certificates (:class:`TrustStore`), step by step.
"""

from fabric_gateway.blocks import block_header_bytes

from ledger_service.evidence.builder import (
    build_bundle,
    encode_bundle,
    upstream_record_ids,
)
from ledger_service.evidence.bundle import BundleShapeError
from ledger_service.evidence.model import (
    BUNDLE_FORMAT,
    STEP_NAMES,
    BundleFormatError,
    EvidenceError,
    EvidenceVerificationError,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
)
from ledger_service.evidence.policy import EndorsementPolicy, EndorsementRule, PolicyError
from ledger_service.evidence.trust import (
    TRUST_FORMAT,
    TRUST_MANIFEST,
    IdentityError,
    MspRole,
    MspTrust,
    TrustedIdentity,
    TrustStore,
)
from ledger_service.evidence.verifier import Verifier, VerifierStats, verify_bundle

__all__ = [
    "BUNDLE_FORMAT",
    "STEP_NAMES",
    "TRUST_FORMAT",
    "TRUST_MANIFEST",
    "BundleFormatError",
    "BundleShapeError",
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
    "build_bundle",
    "encode_bundle",
    "upstream_record_ids",
    "verify_bundle",
]
