"""A loan whose lineage has every edge kind: the sample story of one enterprise, then a
correction of its social-insurance data (``supersedes``), an objection to its first score
(``disputes``), a re-score relying on both, and a repayment of the loan relying on the
re-score. The lineage-bundle tests and their offline test data
(``scripts/regen_lineage_data.py``) build theirs with it; erasing the ``repair`` record's
content then gives a node that cannot back its edges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from credit_ledger_verify.records import (
    CreditRepairRecord,
    DataUpdateRecord,
    FinancingEventRecord,
    Record,
    ScoreChangeRecord,
)

from ledger_service.samples.data import SampleWriter, enterprise_code, enterprise_story

__all__ = ["LINEAGE_ROLES", "lineage_story"]

#: Roles of the records :func:`lineage_story` adds after the enterprise story.
LINEAGE_ROLES = ("si-fix", "objection", "score3", "loan-repay")


def lineage_story(
    writer: SampleWriter,
    n: int,
    *,
    prefix: str,
    record_ids: Callable[[int, str], str] | None = None,
) -> dict[str, Record]:
    """Role -> signed record, parents first (``data.STORY_ROLES`` then :data:`LINEAGE_ROLES`);
    the loan is ``loan-<n>`` as in the story. ``record_ids(n, role)`` overrides the writer's
    keyed-hash ids (as in :func:`~ledger_service.samples.data.enterprise_story`)."""
    story = enterprise_story(writer, n, prefix=prefix, record_ids=record_ids)
    roles = ("tax", "si", "score1", "loan-apply", "loan-approve", "loan-disburse", "repair")
    by_role: dict[str, Record] = dict(zip(roles, story, strict=False))
    by_role["si-2"], by_role["score2"] = story[7], story[8]
    later = story[-1].occurred_at + dt.timedelta(hours=1)
    common = {"subject": enterprise_code(n), "actor": writer.actor}

    def rid(role: str) -> str:
        return record_ids(n, role) if record_ids else writer.record_id(prefix, n, role)

    fix = DataUpdateRecord(
        record_id=rid("si-fix"),
        occurred_at=later,
        source="social-insurance-agency",
        parents=[by_role["repair"].record_id],
        supersedes=by_role["si"].record_id,
        payload={
            "dataset": "social_insurance",
            "fields_changed": {"insured_employees": 38, "arrears_months": 0},
            "source_reference": f"SIA-{n:07d}-C",
        },
        **common,
    )
    objection = CreditRepairRecord(
        record_id=rid("objection"),
        occurred_at=later + dt.timedelta(hours=1),
        source="credit-repair-desk",
        parents=[by_role["score1"].record_id],
        disputes=by_role["score1"].record_id,
        payload={
            "action": "objection_correction",
            "status": "submitted",
            "affected_records": [by_role["score1"].record_id],
        },
        **common,
    )
    score3 = ScoreChangeRecord(
        record_id=rid("score3"),
        occurred_at=later + dt.timedelta(hours=2),
        source="scoring-engine",
        parents=[by_role["tax"].record_id, fix.record_id, objection.record_id],
        payload={
            "model_id": "sme-credit",
            "model_version": "4.1.0",
            "score_before": "721",
            "score_after": "730",
            "grade_before": "A",
            "grade_after": "A",
            "dimension_scores": {"tax": "82.5", "social_insurance": "90.0"},
            "reason_codes": ["TAX_ON_TIME", "SI_CORRECTED"],
        },
        **common,
    )
    repayment = FinancingEventRecord(
        record_id=rid("loan-repay"),
        occurred_at=later + dt.timedelta(days=30),
        source="bank-core-banking",
        parents=[by_role["loan-disburse"].record_id, score3.record_id],
        payload={
            "loan_id": f"loan-{n:07d}",
            "event": "repayment",
            "amount": {"value": "100000.00", "currency": "CNY"},
            "institution": "Example Commercial Bank",
        },
        **common,
    )
    for role, record in zip(LINEAGE_ROLES, (fix, objection, score3, repayment), strict=True):
        by_role[role] = writer.sign(record)
    return by_role
