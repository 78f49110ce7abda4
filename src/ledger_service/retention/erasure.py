"""Erasure with an anchored erasure record: on expiry (the retention run) and on request
(PIPL Art. 47, refused while a retention duty holds).

Each erasure is ONE index transaction (:meth:`LedgerService.erase_with_record`): the
``erasure`` record, signed by the service's own key (:mod:`.service_key`), is accepted like
any record (so the anchoring worker anchors it in a batch) and the erased record's content
and salt are deleted, ``erased_by`` naming the erasure record. A crash leaves both or
neither, and a rerun finds the record erased and writes nothing twice.

The erasure record's id is derived from the erased record's id (``erasure-`` + 40 hex of
SHA-256), so one record has at most one erasure record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pydantic
from credit_ledger_verify.records import (
    ErasureBasis,
    ErasurePayload,
    ErasureRecord,
    to_validation_error,
)
from nacl.signing import SigningKey
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError, RecordErased, UnknownRecord
from ledger_service.index import models as m
from ledger_service.intake import LedgerService
from ledger_service.intake.plan import AppendResult
from ledger_service.regulation.rules import CHINA_TIME, Assessment
from ledger_service.retention.duties import HeldDuty, duties_holding
from ledger_service.retention.service_key import (
    SERVICE_ACTOR,
    load_or_create_service_key,
    verify_key_b64,
)
from ledger_service.signing import sign_record

__all__ = [
    "ERASURE_SOURCE",
    "REQUEST_RULE",
    "ErasureDone",
    "ErasureRefused",
    "Erasures",
    "erasure_record_id",
]

#: The ``source`` of every erasure record.
ERASURE_SOURCE = "ledger-service/retention"
#: The ``rule`` of an erasure on request.
REQUEST_RULE = "pipl_art47"


class ErasureRefused(LedgerError):
    """Erasure on request refused: a retention duty still keeps the record
    (:data:`ledger_service.retention.duties.DUTIES`). Nothing was written."""

    code: ClassVar[str] = "erasure_refused"

    def __init__(self, record_id: str, held: list[HeldDuty]) -> None:
        self.record_id = record_id
        self.held = held
        super().__init__(record_id, held)

    def problem_members(self) -> dict[str, Any]:
        """The API's problem detail names every duty (docs/api.md)."""
        return {"duties": [h.as_dict() for h in self.held]}

    def __str__(self) -> str:
        duties = "; ".join(f"{h.duty.name.value} ({h.duty.law}): {h.detail}" for h in self.held)
        return f'record "{self.record_id}" cannot be erased yet: {duties}'


def erasure_record_id(record_id: str) -> str:
    """The id of the (only) erasure record of ``record_id``."""
    return "erasure-" + hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class ErasureDone:
    """One erasure made: the erased record, its erasure record (and that one's commitment),
    basis and rule."""

    record_id: str
    erasure_record_id: str
    commitment: str
    basis: ErasureBasis
    rule: str


class Erasures:
    """The two erasure workflows over one index, signing with the service key in
    ``state_dir`` (registered as a writer key of :data:`SERVICE_ACTOR` on first use)."""

    def __init__(
        self,
        intake: LedgerService,
        session_factory: sessionmaker[Session],
        state_dir: Path,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._intake = intake
        self._session_factory = session_factory
        self._state_dir = state_dir
        self._clock = clock or (lambda: datetime.now(UTC))
        self._key: SigningKey | None = None

    def _signing_key(self) -> SigningKey:
        if self._key is None:
            key = load_or_create_service_key(self._state_dir)
            self._intake.register_writer(SERVICE_ACTOR, verify_key_b64(key))
            self._key = key
        return self._key

    def today(self) -> date:
        """Today in China time, by the service clock."""
        return self._clock().astimezone(CHINA_TIME).date()

    def _write(
        self,
        target_id: str,
        subject: str,
        payload: dict[str, Any],
        precondition: Callable[[Session, m.Record], None] | None = None,
    ) -> AppendResult:
        record_id = erasure_record_id(target_id)
        try:
            record = ErasureRecord(
                record_id=record_id,
                subject=subject,
                occurred_at=self._clock(),
                source=ERASURE_SOURCE,
                actor=SERVICE_ACTOR,
                payload=ErasurePayload.model_validate(payload),
            )
        except pydantic.ValidationError as exc:
            raise to_validation_error(exc, record_id) from exc
        signed = sign_record(record, self._signing_key())
        return self._intake.erase_with_record(signed, precondition=precondition)

    def erase_expired(self, expired: Assessment) -> ErasureDone:
        """Erase a record the retention run found expired (``expired.expired``)."""
        assert expired.expired
        assert expired.conduct_ended is not None
        assert expired.expires is not None
        payload = {
            "erased_record": expired.record_id,
            "basis": ErasureBasis.EXPIRY,
            "rule": expired.rule.value,
            "conduct_ended": expired.conduct_ended,
            "expired_on": expired.expires,
        }
        result = self._write(expired.record_id, expired.subject, payload)
        return ErasureDone(
            expired.record_id,
            result.record_id,
            result.commitment,
            ErasureBasis.EXPIRY,
            expired.rule.value,
        )

    def duties(self, record_id: str) -> list[HeldDuty]:
        """The retention duties that keep ``record_id`` today (empty: erasable on request).

        Raises:
            UnknownRecord, RecordErased.
        """
        with self._session_factory() as session:
            row = self._row(session, record_id)
            return duties_holding(session, row, self.today())

    @staticmethod
    def _row(session: Session, record_id: str) -> m.Record:
        row = session.get(m.Record, record_id)
        if row is None:
            raise UnknownRecord(record_id)
        if row.content is None:
            raise RecordErased(record_id)
        return row

    def erase_on_request(self, record_id: str, reason: str) -> ErasureDone:
        """PIPL Art. 47: erase ``record_id`` for ``reason`` unless a retention duty keeps it.

        Raises:
            UnknownRecord, RecordErased: nothing to erase.
            ErasureRefused: naming every duty that holds; nothing written.
            ValidationError: the reason is empty or too long (nothing written).
        """
        with self._session_factory() as session:
            row = self._row(session, record_id)
            subject = row.subject
            held = duties_holding(session, row, self.today())
        if held:
            raise ErasureRefused(record_id, held)
        payload = {
            "erased_record": record_id,
            "basis": ErasureBasis.REQUEST,
            "rule": REQUEST_RULE,
            "reason": reason,
        }
        today = self.today()

        def still_erasable(session: Session, row: m.Record) -> None:
            # again inside the write transaction: a loan may have relied on it meanwhile
            held = duties_holding(session, row, today)
            if held:
                raise ErasureRefused(record_id, held)

        result = self._write(record_id, subject, payload, still_erasable)
        return ErasureDone(
            record_id, result.record_id, result.commitment, ErasureBasis.REQUEST, REQUEST_RULE
        )
