"""Realistic signed sample records: the demo, the benchmarks and the tests share them.

One *story* per enterprise: tax and social-insurance data updates; a score derived from them;
a loan applied for, approved and disbursed on that score; a credit repair (back-paid social
insurance) that is verified, and the score change it caused.

Record ids carry no business meaning: each is a keyed hash (HMAC-SHA256 under the writer's
secret key) of the run prefix, the enterprise number and the record's role in the story. The
same writer key gives the same ids (a re-run replays the same records idempotently); a new
key gives new ids (no collision with ids a channel already holds); and nobody without the key
can tell from an id which enterprise, role or story it belongs to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from credit_ledger_verify.records import (
    CreditRepairRecord,
    DataUpdateRecord,
    FinancingEventRecord,
    ObjectionRecord,
    Record,
    ScoreChangeRecord,
    uscc_check_character,
)
from nacl.signing import SigningKey

from ledger_service.signing import sign_record

EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
RECORDS_PER_STORY = 9


def enterprise_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character) for enterprise n."""
    first17 = f"91310000MA{n % 10**7:07d}"
    return first17 + uscc_check_character(first17)


@dataclass
class SampleWriter:
    """A platform writer identity with its Ed25519 key."""

    actor: str = "platform-writer-1"
    signing_key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def sign(self, record: Record) -> Record:
        return sign_record(record, self.signing_key)

    def record_id(self, prefix: str, n: int, role: str) -> str:
        """A random-looking id for enterprise ``n``'s ``role`` record: 32 hex digits of a keyed
        hash, after ``prefix-`` when a prefix is given (a run tag; keep it meaningless)."""
        message = f"{prefix}\x00{n}\x00{role}".encode()
        token = hmac.new(bytes(self.signing_key), message, hashlib.sha256).hexdigest()[:32]
        return f"{prefix}-{token}" if prefix else token


#: The roles of a story's records, in story order.
STORY_ROLES = (
    "tax", "si", "score1", "loan-apply", "loan-approve", "loan-disburse", "repair", "si-2", "score2"
)  # fmt: skip


def ordered_record_ids(prefix: str) -> Callable[[int, str], str]:
    """Ids in creation order (``<prefix>-<ordinal>``), as a platform's sequence or ULID ids
    would be — kind to the index's B-trees, which is what the benchmarks measure against
    earlier runs. The ordinal is the sample's own counter; the demo and the tests use the
    writer's keyed-hash ids instead (:meth:`SampleWriter.record_id`)."""
    position = {role: i for i, role in enumerate(STORY_ROLES)}

    def record_id(n: int, role: str) -> str:
        return f"{prefix}-{n * RECORDS_PER_STORY + position[role]:010d}"

    return record_id


def enterprise_story(
    writer: SampleWriter,
    n: int,
    *,
    prefix: str = "",
    record_ids: Callable[[int, str], str] | None = None,
) -> list[Record]:
    """The nine records of enterprise n's story, parents before children.

    ``record_ids(n, role)`` overrides the writer's meaningless ids — the privacy scan uses it
    to write ids that *do* embed the subject, as a careless client would, and shows that none
    of it reaches the chain.
    """
    subject = enterprise_code(n)
    t = EPOCH + dt.timedelta(days=n % 300, minutes=n // 300)

    def rid(role: str) -> str:
        return record_ids(n, role) if record_ids else writer.record_id(prefix, n, role)

    def at(hours: int) -> dt.datetime:
        return t + dt.timedelta(hours=hours)

    common = {"subject": subject, "actor": writer.actor}
    tax = DataUpdateRecord(
        record_id=rid("tax"),
        occurred_at=at(0),
        source="state-tax-bureau",
        payload={
            "dataset": "tax",
            "fields_changed": {"vat_paid_2025": "482300.00", "tax_credit_grade": "A"},
            "source_reference": f"STB-2025-{n:07d}",
        },
        **common,
    )
    social = DataUpdateRecord(
        record_id=rid("si"),
        occurred_at=at(1),
        source="social-insurance-agency",
        payload={
            "dataset": "social_insurance",
            "fields_changed": {"insured_employees": 38, "arrears_months": 2},
            "source_reference": f"SIA-{n:07d}",
        },
        **common,
    )
    score = ScoreChangeRecord(
        record_id=rid("score1"),
        occurred_at=at(2),
        source="scoring-engine",
        parents=[tax.record_id, social.record_id],
        payload={
            "model_id": "sme-credit",
            "model_version": "4.1.0",
            "score_before": "640",
            "score_after": "688",
            "grade_before": "BB",
            "grade_after": "BBB",
            "dimension_scores": {"tax": "82.5", "social_insurance": "61.0"},
            "reason_codes": ["TAX_ON_TIME", "SI_ARREARS"],
        },
        **common,
    )
    application = FinancingEventRecord(
        record_id=rid("loan-apply"),
        occurred_at=at(3),
        source="lending-platform",
        parents=[score.record_id],
        payload={
            "loan_id": f"loan-{n:07d}",
            "event": "application",
            "amount": {"value": "1500000.00", "currency": "CNY"},
            "institution": "Example Commercial Bank",
        },
        **common,
    )
    approval = FinancingEventRecord(
        record_id=rid("loan-approve"),
        occurred_at=at(26),
        source="bank-credit-system",
        parents=[score.record_id, application.record_id],
        payload={
            "loan_id": f"loan-{n:07d}",
            "event": "approval",
            "amount": {"value": "1200000.00", "currency": "CNY"},
            "rate": "0.0395",
            "institution": "Example Commercial Bank",
        },
        **common,
    )
    disbursement = FinancingEventRecord(
        record_id=rid("loan-disburse"),
        occurred_at=at(50),
        source="bank-core-banking",
        parents=[approval.record_id],
        payload={
            "loan_id": f"loan-{n:07d}",
            "event": "disbursement",
            "amount": {"value": "1200000.00", "currency": "CNY"},
            "rate": "0.0395",
            "institution": "Example Commercial Bank",
        },
        **common,
    )
    repair = CreditRepairRecord(
        record_id=rid("repair"),
        occurred_at=at(72),
        source="credit-repair-desk",
        parents=[social.record_id],
        payload={
            "action": "back_paid_social_insurance",
            "status": "verified",
            "affected_records": [social.record_id],
        },
        **common,
    )
    social_fixed = DataUpdateRecord(
        record_id=rid("si-2"),
        occurred_at=at(73),
        source="social-insurance-agency",
        parents=[repair.record_id],
        payload={
            "dataset": "social_insurance",
            "fields_changed": {"arrears_months": 0},
            "source_reference": f"SIA-{n:07d}-R",
        },
        **common,
    )
    score2 = ScoreChangeRecord(
        record_id=rid("score2"),
        occurred_at=at(74),
        source="scoring-engine",
        parents=[tax.record_id, social_fixed.record_id, repair.record_id],
        payload={
            "model_id": "sme-credit",
            "model_version": "4.1.0",
            "score_before": "688",
            "score_after": "721",
            "grade_before": "BBB",
            "grade_after": "A",
            "dimension_scores": {"tax": "82.5", "social_insurance": "88.0"},
            "reason_codes": ["TAX_ON_TIME", "SI_REPAIRED"],
        },
        **common,
    )
    story = [tax, social, score, application, approval, disbursement, repair, social_fixed, score2]
    return [writer.sign(r) for r in story]


def after_the_decision(writer: SampleWriter, n: int, *, prefix: str = "") -> list[Record]:
    """What happens to enterprise n's data after its loan was approved: the tax bureau
    corrects the tax data the first score used, and the enterprise objects to the social
    insurance data (an objection case, open until answered) — so "what did the bank rely on,
    and what changed since" has an answer. Write these in a later request than the story
    (they are recorded after the decision)."""
    subject = enterprise_code(n)
    t = EPOCH + dt.timedelta(days=n % 300, minutes=n // 300)
    common = {"subject": subject, "actor": writer.actor}
    correction = DataUpdateRecord(
        record_id=writer.record_id(prefix, n, "tax-corrected"),
        occurred_at=t + dt.timedelta(hours=90),
        source="state-tax-bureau",
        supersedes=writer.record_id(prefix, n, "tax"),
        payload={
            "dataset": "tax",
            "fields_changed": {"vat_paid_2025": "428300.00", "tax_credit_grade": "B"},
            "source_reference": f"STB-2025-{n:07d}-C1",
        },
        **common,
    )
    # An objection case (征信业管理条例 Art. 25): open until a resolution names it.
    objection = ObjectionRecord(
        record_id=writer.record_id(prefix, n, "si-objection"),
        occurred_at=t + dt.timedelta(hours=91),
        source="enterprise-objection",
        disputes=writer.record_id(prefix, n, "si"),
        payload={
            "step": "opened",
            "reason": "arrears_months was 0 in the period reported; receipts attached (OBJ-"
            f"{n:07d})",
        },
        **common,
    )
    return [writer.sign(correction), writer.sign(objection)]


def stories(
    writer: SampleWriter,
    count: int,
    *,
    prefix: str = "",
    start: int = 0,
    record_ids: Callable[[int, str], str] | None = None,
) -> Iterator[Record]:
    """`count` records (whole stories, the last one cut short), parents always first."""
    n = start
    emitted = 0
    while emitted < count:
        for record in enterprise_story(writer, n, prefix=prefix, record_ids=record_ids):
            if emitted == count:
                return
            yield record
            emitted += 1
        n += 1


def expired_overdue(writer: SampleWriter, n: int, *, prefix: str = "") -> list[Record]:
    """Enterprise n's earlier loan, long settled: tax data (2019-01-05) the approval
    (2019-01-10) relied on, an overdue (2019-06-01), the repayment that ended it (2019-09-15)
    and the settlement (2019-10-01). The overdue is negative information whose 5 years ran
    out on 2024-09-16 (rule ``loan_overdue``), so a retention run erases it; the loan's
    records were kept until 2024-10-02, so the tax data may now be erased on request."""
    subject = enterprise_code(n)
    common = {"subject": subject, "actor": writer.actor}
    loan = writer.record_id(prefix, n, "old-loan")

    def on(month: int, day: int) -> dt.datetime:
        return dt.datetime(2019, month, day, 4, tzinfo=dt.UTC)  # noon in China

    def event(role: str, when: dt.datetime, parents: list[str], **payload: object) -> Record:
        return writer.sign(
            FinancingEventRecord(
                record_id=writer.record_id(prefix, n, role),
                occurred_at=when,
                source="core-banking",
                parents=parents,
                payload={"loan_id": loan, "institution": "Example Bank", **payload},
                **common,
            )
        )

    info = writer.sign(
        DataUpdateRecord(
            record_id=writer.record_id(prefix, n, "old-tax"),
            occurred_at=on(1, 5),
            source="state-tax-bureau",
            payload={
                "dataset": "tax",
                "fields_changed": {"vat_paid_2018": "301200.00"},
                "source_reference": f"STB-2018-{n:07d}",
            },
            **common,
        )
    )
    money = {"value": "120000.00", "currency": "CNY"}
    approval = event("old-approval", on(1, 10), [info.record_id], event="approval")
    overdue = event("old-overdue", on(6, 1), [approval.record_id], event="overdue")
    repaid = event("old-repayment", on(9, 15), [overdue.record_id], event="repayment", amount=money)
    settled = event("old-settlement", on(10, 1), [repaid.record_id], event="settlement")
    return [info, approval, overdue, repaid, settled]
