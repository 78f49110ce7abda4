"""Signed test records of every kind, and row counts of the index tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index.models import Base
from ledger_service.signing import sign_record

__all__ = ["RecordFactory", "table_counts", "uscc"]

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def uscc(number: int) -> str:
    """A valid unified social credit code derived from ``number``."""
    first17 = f"91110000MA{number % 10**7:07d}"
    return first17 + uscc_check_character(first17)


SUBJECT = uscc(1)


class RecordFactory:
    """Builds records signed by ``signing_key`` and attributed to ``actor``."""

    def __init__(self, actor: str = "platform", signing_key: SigningKey | None = None) -> None:
        self.actor = actor
        self.signing_key = signing_key or SigningKey.generate()
        self._clock = 0

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def _envelope(
        self,
        record_id: str,
        subject: str,
        parents: Sequence[str],
        supersedes: str | None,
        disputes: str | None,
        occurred_at: datetime | None,
        source: str,
    ) -> dict[str, Any]:
        self._clock += 1
        return {
            "record_id": record_id,
            "subject": subject,
            "occurred_at": occurred_at or EPOCH + timedelta(minutes=self._clock),
            "source": source,
            "actor": self.actor,
            "parents": list(parents),
            "supersedes": supersedes,
            "disputes": disputes,
        }

    def sign(self, record: Record) -> Record:
        return sign_record(record.without_signature(), self.signing_key)

    def data_update(
        self,
        record_id: str,
        *,
        subject: str = SUBJECT,
        parents: Sequence[str] = (),
        supersedes: str | None = None,
        disputes: str | None = None,
        occurred_at: datetime | None = None,
        fields_changed: dict[str, Any] | None = None,
        dataset: str = "tax",
    ) -> Record:
        envelope = self._envelope(
            record_id, subject, parents, supersedes, disputes, occurred_at, "tax-bureau"
        )
        payload = {
            "dataset": dataset,
            "fields_changed": fields_changed or {"tax_paid": "1234.50"},
            "source_reference": f"ref-{record_id}",
        }
        return self.sign(DataUpdateRecord.model_validate({**envelope, "payload": payload}))

    def score_change(
        self,
        record_id: str,
        *,
        subject: str = SUBJECT,
        parents: Sequence[str] = (),
        supersedes: str | None = None,
        disputes: str | None = None,
        score_after: str = "712",
    ) -> Record:
        envelope = self._envelope(
            record_id, subject, parents, supersedes, disputes, None, "scoring-engine"
        )
        payload = {
            "model_id": "sme-credit",
            "model_version": "3.2",
            "score_before": "690",
            "grade_before": "B",
            "score_after": score_after,
            "grade_after": "A",
            "dimension_scores": {"tax": "80.5", "judicial": "70"},
            "reason_codes": ["TAX_ON_TIME"],
        }
        return self.sign(ScoreChangeRecord.model_validate({**envelope, "payload": payload}))

    def financing_event(
        self,
        record_id: str,
        *,
        subject: str = SUBJECT,
        parents: Sequence[str] = (),
        supersedes: str | None = None,
        disputes: str | None = None,
        event: str = "disbursement",
        loan_id: str = "loan-1",
        occurred_at: datetime | None = None,
    ) -> Record:
        envelope = self._envelope(
            record_id, subject, parents, supersedes, disputes, occurred_at, "core-banking"
        )
        payload = {
            "loan_id": loan_id,
            "event": event,
            "amount": {"value": "1000000.00", "currency": "CNY"},
            "rate": "0.0435",
            "institution": "Example Bank",
        }
        return self.sign(FinancingEventRecord.model_validate({**envelope, "payload": payload}))

    def credit_repair(
        self,
        record_id: str,
        *,
        subject: str = SUBJECT,
        parents: Sequence[str] = (),
        supersedes: str | None = None,
        disputes: str | None = None,
        status: str = "submitted",
        action: str = "back_paid_social_insurance",
        affected: Sequence[str] | None = None,
        resulting_score_change: str | None = None,
    ) -> Record:
        """``affected`` defaults to ``parents``."""
        envelope = self._envelope(
            record_id, subject, parents, supersedes, disputes, None, "repair-desk"
        )
        payload: dict[str, Any] = {
            "action": action,
            "status": status,
            "affected_records": list(parents if affected is None else affected),
        }
        if resulting_score_change is not None:
            payload["resulting_score_change"] = resulting_score_change
        return self.sign(CreditRepairRecord.model_validate({**envelope, "payload": payload}))

    def objection(
        self,
        record_id: str,
        *,
        step: str = "opened",
        disputes: str | None = None,
        case: str | None = None,
        correction: str | None = None,
        subject: str = SUBJECT,
        reason: str = "the figures are wrong",
    ) -> Record:
        """One step of an objection case: ``opened`` (with ``disputes``) or a resolution of
        ``case``."""
        envelope = self._envelope(record_id, subject, (), None, disputes, None, "objection-desk")
        payload: dict[str, Any] = {"step": step, "reason": reason}
        if case is not None:
            payload["case"] = case
        if correction is not None:
            payload["correction"] = correction
        return self.sign(ObjectionRecord.model_validate({**envelope, "payload": payload}))


def table_counts(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Rows per index table."""
    with session_factory() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }
