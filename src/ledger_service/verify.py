"""Public entry point of the offline evidence verifier.

    from ledger_service.verify import TrustStore, Verifier

    verifier = Verifier(TrustStore.load("trust/"))
    result = verifier.verify(open("bundle.json", "rb").read())
    for outcome in result.records:
        print(outcome.message)          # step N (name): record "id": why  |  verified
    result.raise_for_failure()          # EvidenceVerificationError unless all verified
    if result.lineage is not None:      # a lineage bundle: edges vs signed content
        for problem in result.lineage.problems:
            print(problem.message)      # lineage (check): which node / edge, why

Needs only the bundle and the trust directory (org CA certificates): no network, no index.
The format and the steps are specified in docs/evidence-format.md.
"""

from ledger_service.evidence.lineage_result import (
    EdgeOutcome,
    EdgeStatus,
    LineageCheck,
    LineageNode,
    LineageNote,
    LineageOutcome,
    LineageProblem,
)
from ledger_service.evidence.model import (
    BUNDLE_FORMAT,
    LINEAGE_BUNDLE_FORMAT,
    EvidenceVerificationError,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
)
from ledger_service.evidence.policy import EndorsementPolicy
from ledger_service.evidence.trust import MspRole, MspTrust, TrustStore
from ledger_service.evidence.verifier import Verifier, VerifierStats, verify_bundle

__all__ = [
    "BUNDLE_FORMAT",
    "LINEAGE_BUNDLE_FORMAT",
    "EdgeOutcome",
    "EdgeStatus",
    "EndorsementPolicy",
    "EvidenceVerificationError",
    "LineageCheck",
    "LineageNode",
    "LineageNote",
    "LineageOutcome",
    "LineageProblem",
    "MspRole",
    "MspTrust",
    "RecordOutcome",
    "Step",
    "StepResult",
    "StepStatus",
    "TrustStore",
    "VerificationResult",
    "Verifier",
    "VerifierStats",
    "verify_bundle",
]
