"""EndorsementPolicy: the rule step 4 applies, passed into the verifier."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger_service.evidence import EndorsementPolicy, PolicyError, Step, TrustStore, Verifier

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence"
ORGS = ("BankMSP", "PlatformMSP", "RegulatorMSP")


@pytest.mark.parametrize(
    ("policy", "orgs", "needed"),
    [
        (EndorsementPolicy(), ORGS, 2),
        (EndorsementPolicy.majority(), (*ORGS, "FourthMSP"), 3),
        (EndorsementPolicy.all_orgs(), ORGS, 3),
        (EndorsementPolicy.at_least(1), ORGS, 1),
    ],
)
def test_required_orgs(policy: EndorsementPolicy, orgs: tuple[str, ...], needed: int) -> None:
    assert policy.required(orgs) == needed
    assert policy.check(orgs[:needed], orgs) is None
    unmet = policy.check(orgs[: needed - 1], orgs)
    assert unmet is not None
    assert f"{policy} needs {needed}" in unmet


def test_at_least_needs_a_count() -> None:
    with pytest.raises(PolicyError, match="AT_LEAST needs a count"):
        EndorsementPolicy.at_least(0)


def test_the_verifier_applies_the_policy_it_is_given() -> None:
    bundle: dict[str, Any] = json.loads((DATA / "bundle.json").read_bytes())
    one = copy.deepcopy(bundle)
    one["records"] = one["records"][:1]
    trust = TrustStore.load(DATA / "trust")
    assert Verifier(trust).verify(one).ok  # MAJORITY by default
    strict = Verifier(trust, policy=EndorsementPolicy.at_least(4)).verify(one)
    (outcome,) = strict.records
    failure = outcome.failure
    assert failure is not None
    assert failure.step is Step.ENDORSEMENT
    assert "AT_LEAST 4 needs 4" in failure.detail
