"""Walks tests/data/evidence/cases/*.json (format: tests/unit/evidence/cases.py): each mutated
bundle fails at the step its file names, with its message fragment, or verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger_service.evidence import STEP_NAMES, TrustStore, VerificationResult, Verifier
from tests.unit.evidence import synthetic
from tests.unit.evidence.cases import build, load_case

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence"
CASES = sorted((DATA / "cases").glob("*.json"))


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "bundle.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def golden_trust() -> TrustStore:
    return TrustStore.load(DATA / "trust")


@pytest.fixture(scope="module")
def lineage() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lineage" / "bundle.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def lineage_trust() -> TrustStore:
    return TrustStore.load(DATA / "lineage" / "trust")


def test_there_are_cases_for_every_strictness_rule() -> None:
    names = {p.stem.split("-")[0] for p in CASES}
    assert {"null", "write", "encoding", "duplicate", "lineage", "erasure"} <= names, sorted(names)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(
    path: Path,
    golden: dict[str, Any],
    golden_trust: TrustStore,
    lineage: dict[str, Any],
    lineage_trust: TrustStore,
) -> None:
    case = load_case(path)
    expect = case["expect"]
    base = case.get("base", "golden")
    trust = {
        "synthetic": synthetic.trust_store(),
        "erasure": synthetic.erasure_trust_store(),
        "lineage": lineage_trust,
    }.get(base, golden_trust)
    result = Verifier(trust).verify(build(case, golden, lineage))
    step, message = expect["step"], expect.get("message", "")
    if step == "bundle":
        assert result.error is not None, f"{path.name}: the bundle was read"
        assert message in result.error, result.error
        return
    assert result.error is None, f"{path.name}: {result.error}"
    if base == "lineage":
        assert result.lineage is not None, path.name
        assert result.lineage.ok == (step != "lineage"), result.messages
    if step == "lineage":
        _expect_lineage(path, expect, result)
        return
    which = expect.get("record", 0)
    outcomes = result.records if which == "all" else (result.records[which],)
    assert outcomes
    for outcome in outcomes:
        if step == "verified":
            assert outcome.ok, outcome.message
            continue
        failure = outcome.failure
        assert failure is not None, f"{path.name}: record {outcome.record_id} verified"
        assert STEP_NAMES[failure.step] == step, outcome.message
        assert message in outcome.message, outcome.message
        if "failed_steps" in expect:
            assert [STEP_NAMES[s.step] for s in outcome.failures] == expect["failed_steps"]


def _expect_lineage(path: Path, expect: dict[str, Any], result: VerificationResult) -> None:
    """The named lineage check failed with the message; the named records failed at their
    steps and every other record verified (a lineage mutation spoils no one else)."""
    assert result.lineage is not None
    found = [p.message for p in result.lineage.problems if p.check.value == expect["check"]]
    assert any(expect["message"] in m for m in found), (path.name, result.messages)
    failing = {int(i): s for i, s in expect.get("failed_records", {}).items()}
    for index, outcome in enumerate(result.records):
        if index in failing:
            assert outcome.failure is not None, f"{path.name}: record {index} verified"
            assert STEP_NAMES[outcome.failure.step] == failing[index], outcome.message
        else:
            assert outcome.ok, f"{path.name}: {outcome.message}"
