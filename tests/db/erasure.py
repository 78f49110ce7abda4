"""Erase a record WITH its erasure record (as the workflows do, without their duty checks):
for tests that need lawfully erased content next to content deleted behind the service's
back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from credit_ledger_verify.records import ErasurePayload, ErasureRecord
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import models as m
from ledger_service.intake import LedgerService
from ledger_service.retention.erasure import ERASURE_SOURCE, REQUEST_RULE, erasure_record_id
from ledger_service.retention.service_key import (
    SERVICE_ACTOR,
    load_or_create_service_key,
    verify_key_b64,
)
from ledger_service.signing import sign_record


def erase_lawfully(
    service: LedgerService,
    session_factory: sessionmaker[Session],
    state_dir: Path,
    record_id: str,
    *,
    when: datetime | None = None,
) -> str:
    """Erase ``record_id`` on request with an erasure record; its id."""
    key = load_or_create_service_key(state_dir)
    service.register_writer(SERVICE_ACTOR, verify_key_b64(key))
    with session_factory() as session:
        row = session.get(m.Record, record_id)
        assert row is not None
        subject = row.subject
    record = ErasureRecord(
        record_id=erasure_record_id(record_id),
        subject=subject,
        occurred_at=when or datetime.now(UTC),
        source=ERASURE_SOURCE,
        actor=SERVICE_ACTOR,
        payload=ErasurePayload.model_validate(
            {
                "erased_record": record_id,
                "basis": "request",
                "rule": REQUEST_RULE,
                "reason": "test",
            }
        ),
    )
    return service.erase_with_record(sign_record(record, key)).record_id
