"""credit-ledger-verify: a bank's offline verifier of credit-ledger evidence and lineage
bundles — the same code the service runs (``ledger_service`` imports it from here), without
the service, its database or Fabric's gRPC client.

    from credit_ledger_verify import TrustStore, Verifier

    verifier = Verifier(TrustStore.load("trust/"))
    result = verifier.verify(open("bundle.json", "rb").read())
    for outcome in result.records:
        print(outcome.message)          # step N (name): record "id": why  |  verified
    result.raise_for_failure()          # EvidenceVerificationError unless all verified
    if result.lineage is not None:      # a lineage bundle: edges vs signed content
        for problem in result.lineage.problems:
            print(problem.message)      # lineage (check): which node / edge, why

Checkpoint-form (compact) bundles also need the transparency log's key::

    from credit_ledger_verify import CheckpointPolicy, VerifierKey
    policy = CheckpointPolicy(VerifierKey.parse(open("log.vkey").read().strip()))
    verifier = Verifier(TrustStore.load("trust/"), checkpoint_policy=policy)

Needs only the bundle and the trust directory (org CA certificates): no network, no index.
The format and the steps are specified in docs/evidence-format.md. The command line is
``credit-ledger-verify BUNDLE... --trust DIR [--log-key FILE] [--json]``. Every error raised on
purpose derives from :class:`LedgerError` (tree in :mod:`credit_ledger_verify.errors`); a bundle
that does not verify is a result, not an exception, unless ``raise_for_failure`` is called.
"""

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.evidence.lineage_result import (
    EdgeOutcome,
    EdgeStatus,
    LineageCheck,
    LineageNode,
    LineageNote,
    LineageOutcome,
    LineageProblem,
)
from credit_ledger_verify.evidence.model import (
    ACCESS_BUNDLE_FORMAT,
    BUNDLE_FORMAT,
    CHECKPOINT_BUNDLE_FORMAT,
    LINEAGE_BUNDLE_FORMAT,
    CheckpointStep,
    EvidenceError,
    EvidenceVerificationError,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
)
from credit_ledger_verify.evidence.policy import EndorsementPolicy
from credit_ledger_verify.evidence.trust import MspRole, MspTrust, TrustStore
from credit_ledger_verify.evidence.verifier import Verifier, VerifierStats, verify_bundle
from credit_ledger_verify.tlog import CheckpointPolicy, VerifierKey

__version__ = "0.1.0"

__all__ = [
    "ACCESS_BUNDLE_FORMAT",
    "BUNDLE_FORMAT",
    "CHECKPOINT_BUNDLE_FORMAT",
    "LINEAGE_BUNDLE_FORMAT",
    "CheckpointPolicy",
    "CheckpointStep",
    "EdgeOutcome",
    "EdgeStatus",
    "EndorsementPolicy",
    "EvidenceError",
    "EvidenceVerificationError",
    "LedgerError",
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
    "VerifierKey",
    "VerifierStats",
    "verify_bundle",
]
