"""One loan with a lineage of about a thousand nodes, for the web view's large-graph features
(collapse, critical path) and their benchmark (``scripts/bench_web.py``).

The shape, depth from the loan's events (the walk starts at every event of the loan, depth 0:
the application, the approval — the decision — and, after it, the disbursement): ``scores``
score changes the approval relied on (1) → per score, ``updates_per_score`` raw data updates
from six sources and ``repairs_per_score`` corrections (2) → the credit repair each correction
answers (3) → the raw updates that repair concerns (4). With the defaults: 2 + 20 × (45 + 2 +
2) = 1,002 records by the decision. :func:`large_lineage` returns those and, apart, what was
recorded after the decision: the disbursement, five new data updates, a re-score relying on
them and a repayment relying on the re-score (8 records, none on the decision's critical
path).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_ledger_verify.records import (
    CreditRepairRecord,
    DataUpdateRecord,
    FinancingEventRecord,
    Record,
    ScoreChangeRecord,
)

from ledger_service.samples.data import SampleWriter, enterprise_code

__all__ = ["LARGE_LOAN_NUMBER", "large_lineage", "large_loan_id"]

#: The enterprise number of the large loan (far from the demo's small numbers).
LARGE_LOAN_NUMBER = 9_000_001
#: dataset -> the source that sends it
SOURCES = {
    "tax": "tax-bureau",
    "social_insurance": "social-insurance-agency",
    "judicial": "court",
    "customs": "customs-office",
    "utilities": "power-grid",
    "environmental": "ecology-bureau",
}
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def large_loan_id(n: int = LARGE_LOAN_NUMBER) -> str:
    return f"loan-{n:07d}"


class _Builder:
    def __init__(self, writer: SampleWriter, n: int, prefix: str) -> None:
        self.writer, self.n, self.prefix = writer, n, prefix
        self.count = 0

    def envelope(self, role: str, source: str, parents: list[str]) -> dict[str, Any]:
        self.count += 1  # one minute apart, in the order built: parents before children
        return {
            "record_id": self.writer.record_id(self.prefix, self.n, role),
            "subject": enterprise_code(self.n),
            "occurred_at": START + dt.timedelta(minutes=self.count),
            "source": source,
            "actor": self.writer.actor,
            "parents": parents,
        }

    def update(
        self, role: str, dataset: str, parents: list[str], supersedes: str | None = None
    ) -> Record:
        payload = {
            "dataset": dataset,
            "fields_changed": {f"{dataset}_indicator": self.count},
            "source_reference": f"{dataset.upper()}-{self.n:07d}-{self.count}",
        }
        envelope = self.envelope(role, SOURCES[dataset], parents)
        return self.writer.sign(
            DataUpdateRecord.model_validate(
                {**envelope, "supersedes": supersedes, "payload": payload}
            )
        )

    def repair(self, role: str, concerns: list[str]) -> Record:
        payload = {
            "action": "back_paid_social_insurance",
            # a verified repair statement, not a repair case: a case's submission may only
            # concern negative records (intake.repairs), and these updates are not
            "status": "verified",
            "affected_records": concerns,
        }
        envelope = self.envelope(role, "repair-desk", concerns)
        return self.writer.sign(CreditRepairRecord.model_validate({**envelope, "payload": payload}))

    def score(self, role: str, parents: list[str], k: int) -> Record:
        payload = {
            "model_id": "sme-credit",
            "model_version": "3.2",
            "score_before": str(600 + k),
            "grade_before": "B",
            "score_after": str(610 + k),
            "grade_after": "B",
            "dimension_scores": {"tax": "80.5", "judicial": "70"},
            "reason_codes": ["MANY_SOURCES"],
        }
        envelope = self.envelope(role, "scoring-engine", parents)
        return self.writer.sign(ScoreChangeRecord.model_validate({**envelope, "payload": payload}))

    def event(self, role: str, event: str, parents: list[str]) -> Record:
        payload = {
            "loan_id": large_loan_id(self.n),
            "event": event,
            "amount": {"value": "5000000.00", "currency": "CNY"},
            "rate": "0.0435",
            "institution": "Example Bank",
        }
        envelope = self.envelope(role, "core-banking", parents)
        return self.writer.sign(
            FinancingEventRecord.model_validate({**envelope, "payload": payload})
        )


def large_lineage(
    writer: SampleWriter,
    *,
    n: int = LARGE_LOAN_NUMBER,
    scores: int = 20,
    updates_per_score: int = 45,
    repairs_per_score: int = 2,
    prefix: str = "",
) -> tuple[list[Record], list[Record]]:
    """(records up to and including the decision, records after it), parents first."""
    if updates_per_score < 3 * repairs_per_score:
        raise ValueError("updates_per_score must be at least 3 × repairs_per_score")
    b = _Builder(writer, n, prefix)
    datasets = list(SOURCES)
    before: list[Record] = []
    score_ids: list[str] = []
    for k in range(scores):
        raw = [
            b.update(f"u{k}-{i}", datasets[(k + i) % len(datasets)], [])
            for i in range(updates_per_score)
        ]
        before += raw
        relied = [r.record_id for r in raw[3 * repairs_per_score :]]
        for j in range(repairs_per_score):
            concerned = raw[3 * j : 3 * j + 3]
            repair = b.repair(f"r{k}-{j}", [r.record_id for r in concerned])
            fixed = concerned[0]
            dataset = fixed.payload.dataset.value  # type: ignore[union-attr]
            correction = b.update(f"c{k}-{j}", dataset, [repair.record_id], fixed.record_id)
            before += [repair, correction]
            relied.append(correction.record_id)
        score = b.score(f"s{k}", relied, k)
        before.append(score)
        score_ids.append(score.record_id)
    apply = b.event("apply", "application", [])
    approve = b.event("approve", "approval", [apply.record_id, *score_ids])
    # after the decision: the disbursement, and a repayment relying on a re-score of new data
    # (in the lineage "now", off the decision's critical path)
    disburse = b.event("disburse", "disbursement", [approve.record_id])
    fresh = [b.update(f"later-{i}", datasets[i], []) for i in range(5)]
    rescore = b.score("later-score", [r.record_id for r in fresh], scores)
    repay = b.event("repay", "repayment", [disburse.record_id, rescore.record_id])
    return [*before, apply, approve], [disburse, *fresh, rescore, repay]
