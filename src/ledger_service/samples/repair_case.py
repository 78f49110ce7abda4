"""A sample credit-repair case (信用修复; docs/regulation.md "Credit repair") for the demo
and the tests: a court record that a judgment went unfulfilled (negative information under
the ``judicial_record`` rule); the enterprise fulfils it and applies for repair — submitted,
verified, a re-score that relies on the verified repair, then approved naming that score
change. Once the approval is recorded, banks no longer see the court record.

Three requests, as the repair desk would send them over days, so "as of" each step has an
answer. Ids are keyed hashes under the writer's key, like the stories' (:mod:`.data`).
"""

from __future__ import annotations

import datetime as dt

from credit_ledger_verify.records import (
    CreditRepairRecord,
    DataUpdateRecord,
    Record,
    ScoreChangeRecord,
)

from ledger_service.samples.data import EPOCH, SampleWriter, enterprise_code

__all__ = ["REPAIR_ROLES", "repair_case"]

#: The roles of the case's records, in the order written.
REPAIR_ROLES = ("court", "repair-submitted", "repair-verified", "score-repaired", "repair-approved")


def repair_case(writer: SampleWriter, n: int, *, prefix: str = "") -> list[list[Record]]:
    """Enterprise ``n``'s repair case, as three requests (court record and submission;
    verification and re-score; approval). The story's tax record must already exist."""
    subject = enterprise_code(n)
    t = EPOCH + dt.timedelta(days=n % 300, minutes=n // 300, hours=100)
    common = {"subject": subject, "actor": writer.actor}
    rid = {role: writer.record_id(prefix, n, role) for role in REPAIR_ROLES}
    action = "fulfilled_judgment"
    court = DataUpdateRecord(
        record_id=rid["court"],
        occurred_at=t,
        source="people's-court",
        payload={
            "dataset": "judicial",
            "fields_changed": {"case_type": "contract_dispute", "judgment_unfulfilled": True},
            "source_reference": f"PC-2026-{n:07d}",
        },
        **common,
    )
    submitted = CreditRepairRecord(
        record_id=rid["repair-submitted"],
        occurred_at=t + dt.timedelta(days=3),
        source="credit-repair-desk",
        parents=[court.record_id],
        payload={"action": action, "status": "submitted", "affected_records": [court.record_id]},
        **common,
    )
    verified = CreditRepairRecord(
        record_id=rid["repair-verified"],
        occurred_at=t + dt.timedelta(days=5),
        source="credit-repair-desk",
        supersedes=submitted.record_id,
        payload={"action": action, "status": "verified"},
        **common,
    )
    rescored = ScoreChangeRecord(
        record_id=rid["score-repaired"],
        occurred_at=t + dt.timedelta(days=6),
        source="scoring-engine",
        parents=[writer.record_id(prefix, n, "tax"), verified.record_id],
        payload={
            "model_id": "sme-credit",
            "model_version": "4.1.0",
            "score_before": "640",
            "score_after": "702",
            "grade_before": "BB",
            "grade_after": "BBB",
            "reason_codes": ["JUDGMENT_FULFILLED"],
        },
        **common,
    )
    approved = CreditRepairRecord(
        record_id=rid["repair-approved"],
        occurred_at=t + dt.timedelta(days=7),
        source="credit-repair-desk",
        supersedes=verified.record_id,
        payload={
            "action": action,
            "status": "approved",
            "resulting_score_change": rescored.record_id,
        },
        **common,
    )
    sign = writer.sign
    return [[sign(court), sign(submitted)], [sign(verified), sign(rescored)], [sign(approved)]]
