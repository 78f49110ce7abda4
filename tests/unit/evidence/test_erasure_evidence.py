"""Evidence after erasure, offline: an erased record whose erasure record is in the bundle,
verified and signed by a trusted erasure signer is reported "erased on DATE under RULE" —
neither verified content nor a failure; an untrusted or wrong key fails step 1. The mutated
shapes are data: tests/data/evidence/cases/erasure-*.json and format-erasure-*.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from ledger_service.evidence import EvidenceError, Step, StepStatus, TrustStore, Verifier
from tests.unit.evidence import synthetic


def test_an_erased_record_verifies_as_erased() -> None:
    result = Verifier(synthetic.erasure_trust_store()).verify(synthetic.erasure_bundle())
    assert result.ok, result.messages
    erased, erasure = result.records
    assert erased.status == "erased"
    assert erasure.status == "verified"
    assert erased.erasure is not None
    assert (erased.erasure.basis, erased.erasure.rule, erased.erasure.signer) == (
        "expiry",
        "loan_overdue",
        "ledger-service",
    )
    assert erased.message.startswith('record "syn-0000": erased on 2026-01-05 under loan_overdue')
    step1 = erased.step(Step.CONTENT)
    assert step1 is not None
    assert step1.status is StepStatus.PASSED
    assert erased.as_dict()["status"] == "erased"
    assert erased.as_dict()["erasure"]["erasure_record"] == erasure.record_id


def test_an_erasure_record_from_an_untrusted_signer_fails() -> None:
    result = Verifier(synthetic.erasure_trust_store(trusted=False)).verify(
        synthetic.erasure_bundle()
    )
    erased, erasure = result.records
    assert erasure.ok  # an anchored record like any other
    assert erased.status == "failed"
    assert erased.failure is not None
    assert erased.failure.step is Step.CONTENT
    assert "not trusted for erasure records" in erased.message


def test_an_erasure_record_signed_by_another_key_fails() -> None:
    store = synthetic.erasure_trust_store()
    other = SigningKey(hashlib.sha256(b"another key").digest())
    store.erasure_signers = {synthetic.ERASURE_SIGNER: (bytes(other.verify_key),)}
    (erased, _) = Verifier(store).verify(synthetic.erasure_bundle()).records
    assert "does not verify under any trusted key" in erased.message


def test_a_bundle_without_the_erasure_member_is_merely_redacted() -> None:
    """What an older verifier sees (it ignores the member): a redacted, anchored commitment."""
    bundle = synthetic.erasure_bundle()
    del bundle["records"][0]["erasure"]
    (erased, _) = Verifier(synthetic.erasure_trust_store()).verify(bundle).records
    assert erased.status == "redacted"


def test_the_trust_directory_keeps_its_erasure_signers(tmp_path: Path) -> None:
    store = synthetic.erasure_trust_store()
    store.write(tmp_path / "trust")
    manifest = json.loads((tmp_path / "trust" / "trust.json").read_text())
    assert list(manifest["erasure_signers"]) == [synthetic.ERASURE_SIGNER]
    loaded = TrustStore.load(tmp_path / "trust")
    assert loaded.erasure_signers == store.erasure_signers
    result = Verifier(loaded).verify(synthetic.erasure_bundle())
    assert result.records[0].status == "erased"


@pytest.mark.parametrize(
    "signers",
    [["not a map"], {"ledger-service": "one key"}, {"ledger-service": ["c2hvcnQ="]}],
)
def test_malformed_erasure_signers_are_refused(tmp_path: Path, signers: object) -> None:
    synthetic.trust_store().write(tmp_path)
    manifest = json.loads((tmp_path / "trust.json").read_text())
    manifest["erasure_signers"] = signers
    (tmp_path / "trust.json").write_text(json.dumps(manifest))
    with pytest.raises(EvidenceError, match="erasure_signers must map actors"):
        TrustStore.load(tmp_path)
