"""Step 3 on a synthetic, properly signed transaction (tests/unit/evidence/synthetic.py): the
verdict never depends on the order of the write set, and a write set naming a key twice is
refused for every record of the transaction."""

from __future__ import annotations

import random

import pytest

from ledger_service.evidence import STEP_NAMES, Step, VerificationResult, Verifier
from tests.unit.evidence import synthetic

COUNT = 40  # more records than the old verifier's 16 binary-search look-ups


def verdicts(result: VerificationResult) -> list[tuple[bool, str | None]]:
    assert result.error is None, result.error
    return [
        (r.ok, None if r.failure is None else STEP_NAMES[r.failure.step]) for r in result.records
    ]


def test_the_synthetic_bundle_verifies_every_step() -> None:
    result = Verifier(synthetic.trust_store()).verify(synthetic.bundle(COUNT))
    assert result.ok, result.messages
    assert len(result.records) == COUNT
    assert all(r.step(Step.CONTENT).status.value == "skipped" for r in result.records)  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", range(6))
def test_verdict_does_not_depend_on_write_set_order(seed: int) -> None:
    sorted_result = Verifier(synthetic.trust_store()).verify(synthetic.bundle(COUNT))

    def shuffle(writes: synthetic.Writes) -> synthetic.Writes:
        out = list(writes)
        random.Random(seed).shuffle(out)
        assert out != writes
        return out

    shuffled = Verifier(synthetic.trust_store()).verify(synthetic.bundle(COUNT, shuffle))
    assert verdicts(shuffled) == verdicts(sorted_result) == [(True, None)] * COUNT


@pytest.mark.parametrize("index", [0, 1, 17, COUNT])
def test_a_repeated_key_refuses_every_record(index: int) -> None:
    """The repeat carries another value and comes first: last-wins and first-wins readers
    would disagree, so the transaction is refused whatever its order."""

    def repeat(writes: synthetic.Writes) -> synthetic.Writes:
        key, _ = writes[index]
        return [(key, b"\x00" * 40), *writes]

    result = Verifier(synthetic.trust_store()).verify(synthetic.bundle(COUNT, repeat))
    assert verdicts(result) == [(False, "write set")] * COUNT
    for outcome in result.records:
        assert "more than once" in outcome.message
    shuffled = Verifier(synthetic.trust_store()).verify(
        synthetic.bundle(COUNT, lambda w: repeat(w)[::-1])
    )
    assert verdicts(shuffled) == verdicts(result)
