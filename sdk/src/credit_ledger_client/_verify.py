"""Offline verification of a downloaded bundle, by the bank's verifier package."""

from __future__ import annotations

from pathlib import Path

from credit_ledger_verify import (
    CheckpointPolicy,
    EndorsementPolicy,
    TrustStore,
    VerificationResult,
    verify_bundle,
)
from credit_ledger_verify.cli import load_checkpoint_policy

from credit_ledger_client._models import EvidenceBundle

__all__ = ["verify_evidence"]


def verify_evidence(
    bundle: EvidenceBundle | bytes,
    trust: TrustStore | str | Path,
    *,
    policy: EndorsementPolicy | None = None,
    checkpoint_policy: CheckpointPolicy | None = None,
) -> VerificationResult:
    """Verify an evidence or lineage bundle offline against the trust directory (the
    network's org CA certificates, ``ledgerctl trust export``): no service, no network.
    A compact (checkpoint-form) bundle also needs the log key: ``checkpoint_policy``, or by
    default the trust directory's ``log.vkey``.

    Returns the verifier's result (``result.ok``; each record's steps); call
    ``result.raise_for_failure()`` to raise ``EvidenceVerificationError`` instead.
    """
    content = bundle.content if isinstance(bundle, EvidenceBundle) else bundle
    if checkpoint_policy is None and not isinstance(trust, TrustStore):
        checkpoint_policy = load_checkpoint_policy(None, trust_dir=str(trust))
    return verify_bundle(content, trust, policy=policy, checkpoint_policy=checkpoint_policy)
