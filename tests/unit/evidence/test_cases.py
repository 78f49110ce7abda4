"""Walks tests/data/evidence/cases/*.json (format: tests/unit/evidence/cases.py): each mutated
bundle fails at the step its file names, with its message fragment, or verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger_service.evidence import STEP_NAMES, TrustStore, Verifier
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


def test_there_are_cases_for_every_strictness_rule() -> None:
    names = {p.stem.split("-")[0] for p in CASES}
    assert {"null", "write", "encoding", "duplicate"} <= names, sorted(names)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, golden: dict[str, Any], golden_trust: TrustStore) -> None:
    case = load_case(path)
    expect = case["expect"]
    trust = synthetic.trust_store() if case.get("base") == "synthetic" else golden_trust
    result = Verifier(trust).verify(build(case, golden))
    step, message = expect["step"], expect.get("message", "")
    if step == "bundle":
        assert result.error is not None, f"{path.name}: the bundle was read"
        assert message in result.error, result.error
        return
    assert result.error is None, f"{path.name}: {result.error}"
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
