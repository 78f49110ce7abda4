"""The append pipeline's orchestration, writer admin and erasure.

Intake (:meth:`LedgerService.append`) checks a whole request before writing anything, then
writes the new records, their lineage edges and their anchoring-outbox entries in ONE
database transaction and returns only after it committed. A request with any bad record
writes nothing. The stages, in order (the first failure is raised, naming the record and the
field):

1. :mod:`.checks` — request size, unique ids, lineage order within the request;
2. :mod:`.signatures` — the writer's registered key and signature;
3. :mod:`.plan` — inside the write transaction: idempotent replays, references against the
   index (corrections, objections, the repair status machine);
4. :mod:`.insert` — salts, commitments and the bulk inserts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from credit_ledger_verify.records import ErasurePayload, Record, RecordKind
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import RecordErased, UnknownRecord, ValidationError
from ledger_service.index.models import Record as RecordRow
from ledger_service.index.session import write_session
from ledger_service.intake.checks import (
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_REQUEST_BYTES,
    Candidate,
    prepare,
)
from ledger_service.intake.insert import insert_new
from ledger_service.intake.plan import AppendResult, plan_write
from ledger_service.intake.signatures import SignatureVerifier
from ledger_service.intake.writers import (
    WriterKeyInfo,
    list_writer_keys,
    register_writer_key,
    revoke_writer_key,
)
from ledger_service.regulation.deadlines import DEFAULT_OBJECTION_DAYS

__all__ = ["LedgerService", "utc_now"]

log = logging.getLogger(__name__)

# A concurrent writer inserting the same record id (PostgreSQL) surfaces as a unique
# violation, or as a deadlock when two requests overlap in different orders; the request is
# then re-checked against the new state.
_WRITE_ATTEMPTS = 3
# SQLSTATEs of transient conflicts between concurrent transactions (PostgreSQL).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerService:
    """Record intake, writer admin and erasure over one index database."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        max_records: int = DEFAULT_MAX_RECORDS,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        verify_threads: int = 1,
        objection_days: int = DEFAULT_OBJECTION_DAYS,
    ) -> None:
        """``verify_threads`` > 1 verifies the signatures of a large request on that many
        threads at once (libsodium releases the GIL): fewer seconds per request when cores
        are free, the same CPU per record, the same results and errors. 1 (the default)
        verifies in the calling thread only."""
        self._signatures = SignatureVerifier(session_factory, threads=verify_threads)
        self._session_factory = session_factory
        self._clock = clock
        self.max_records = max_records
        self.max_request_bytes = max_request_bytes
        #: days an objection recorded now has for its answer (fixed on the case)
        self.objection_days = objection_days

    @property
    def verify_threads(self) -> int:
        return self._signatures.threads

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the service clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    # ------------------------------------------------------------------ writers

    def register_writer(self, actor: str, public_key: bytes | str) -> WriterKeyInfo:
        """Register an Ed25519 public key (32 raw bytes or base64) for ``actor``; idempotent.

        Raises:
            WriterKeyError: see :func:`ledger_service.intake.writers.register_writer_key`.
        """
        with write_session(self._session_factory) as session:
            return register_writer_key(session, actor, public_key, now=self._now())

    def revoke_writer(self, actor: str, public_key: bytes | str) -> WriterKeyInfo:
        """Revoke one of ``actor``'s keys: it no longer verifies new records."""
        with write_session(self._session_factory) as session:
            return revoke_writer_key(session, actor, public_key, now=self._now())

    def writer_keys(self, actor: str) -> list[WriterKeyInfo]:
        """All keys of ``actor``, revoked ones included."""
        with self._session_factory() as session:
            return list_writer_keys(session, actor)

    # ------------------------------------------------------------------ intake

    def append(self, records: Sequence[Record]) -> list[AppendResult]:
        """Durably accept ``records`` (all or nothing); one result per record, in order.

        Returns after the database transaction committed. See the module docstring for the
        stages.

        Raises:
            RequestTooLarge: too many records or bytes.
            ValidationError: (or a subclass: ``DanglingParent``, ``CyclicLineage``,
                ``IdempotencyConflict``) naming the first bad record and field.
            SignatureError: a record is unsigned or its signature does not verify.
        """
        records = list(records)
        if not records:
            return []
        for record in records:
            if record.kind is RecordKind.ERASURE:
                raise ValidationError(
                    record.record_id,
                    "kind",
                    "erasure records are written only by the service itself, together with "
                    "the erasure (ledgerctl retention run, ledgerctl erase)",
                )
        candidates = prepare(
            records, max_records=self.max_records, max_request_bytes=self.max_request_bytes
        )
        self._signatures.verify(candidates)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                return self._write(candidates)
            except DBAPIError as exc:
                if attempt == _WRITE_ATTEMPTS or not _is_write_conflict(exc):
                    raise
                log.info("append: concurrent write conflict (%s), re-checking", type(exc).__name__)
        raise AssertionError("unreachable")

    def _write(self, candidates: list[Candidate]) -> list[AppendResult]:
        with write_session(self._session_factory) as session:
            now = self._now()
            plan = plan_write(session, candidates)
            if plan.new:
                insert_new(
                    session, plan.new, now, plan.results, plan.repair_steps, self.objection_days
                )
        results = [r for r in plan.results if r is not None]
        assert len(results) == len(candidates)
        return results

    # ------------------------------------------------------------------ erasure

    def erase_record_content(self, record_id: str) -> None:
        """Crypto-shred a record WITHOUT an erasure record: delete its content, salt and
        content digest from the index. Low-level (tests and fixtures that need erased
        content); the workflows use :meth:`erase_with_record`, and reconcile reports content
        shredded this way as missing (docs/regulation.md). Idempotent.

        Raises:
            UnknownRecord: no such record.
        """
        with write_session(self._session_factory) as session:
            row = session.get(RecordRow, record_id)
            if row is None:
                raise UnknownRecord(record_id)
            if row.content is None:
                return
            _shred(row, self._now(), erased_by=None)

    def erase_with_record(
        self,
        erasure: Record,
        *,
        precondition: Callable[[Session, RecordRow], None] | None = None,
    ) -> AppendResult:
        """Write ``erasure`` (an ``erasure`` record signed by a registered writer key) AND
        shred the record it names, in ONE database transaction: both or neither.
        ``precondition(session, row)`` runs inside that transaction with the row locked
        (PostgreSQL: ``FOR UPDATE``; SQLite: the write lock) and may raise to refuse. The
        erased row keeps its commitment, lineage and envelope columns; ``erased_by`` names
        the erasure record. Nothing else is touched.

        Raises:
            ValidationError: ``erasure`` is not an erasure record, or names a record of
                another subject, or an erasure record.
            UnknownRecord: the named record does not exist.
            RecordErased: it is already erased (a rerun erases nothing twice).
            SignatureError: the erasure record is unsigned or its key is not registered.
        """
        payload = erasure.payload
        if erasure.kind is not RecordKind.ERASURE or not isinstance(payload, ErasurePayload):
            raise ValidationError(erasure.record_id, "kind", "must be an erasure record")
        candidates = prepare(
            [erasure], max_records=self.max_records, max_request_bytes=self.max_request_bytes
        )
        self._signatures.verify(candidates)
        target_id = payload.erased_record
        with write_session(self._session_factory) as session:
            now = self._now()
            row = session.get(RecordRow, target_id, with_for_update=True)
            if row is None:
                raise UnknownRecord(target_id)
            if row.content is None:
                raise RecordErased(target_id)
            if row.kind == RecordKind.ERASURE.value:
                raise ValidationError(
                    erasure.record_id,
                    "payload.erased_record",
                    f"{target_id!r} is an erasure record: it is the proof of an erasure and "
                    "is never erased itself",
                )
            if row.subject != erasure.subject:
                raise ValidationError(
                    erasure.record_id,
                    "subject",
                    f"must be the erased record's subject {row.subject!r}",
                )
            if precondition is not None:
                precondition(session, row)
            plan = plan_write(session, candidates)
            if not plan.new:  # the erasure record exists but its target was not shredded
                raise ValidationError(
                    erasure.record_id,
                    "record_id",
                    "an erasure record with this id already exists",
                )
            insert_new(session, plan.new, now, plan.results)
            _shred(row, now, erased_by=erasure.record_id)
        result = plan.results[0]
        assert result is not None
        return result


def _shred(row: RecordRow, now: datetime, *, erased_by: str | None) -> None:
    row.content = None
    row.salt = None
    row.content_sha256 = None
    row.erased_at = now
    row.erased_by = erased_by


def _is_write_conflict(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES
