"""Intake stage 3: the write plan, decided inside the write transaction against the index.

* a known ``record_id`` with byte-identical canonical content is an idempotent replay (status
  ``"existing"``, nothing written, no second anchoring); with other content it is an
  :class:`~ledger_service.errors.IdempotencyConflict`;
* referenced records must exist (:class:`~ledger_service.errors.DanglingParent`). A correction
  (``supersedes``) must point at a record of the same kind and subject that is not already
  superseded (corrections form a chain, never a fork), and a credit-repair correction must
  follow the repair status machine; an objection (``disputes``) must concern the same subject;
  objection cases follow their own rules (:mod:`.objections`).

Since every referenced record must already exist when a record is accepted, and accepted
records never change their references, every edge points from a newer record to an older one:
the lineage graph stays acyclic by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from credit_ledger_verify.records import (
    REPAIR_STATUS_TRANSITIONS,
    CreditRepairPayload,
    Record,
    RecordKind,
    RepairStatus,
    parse_record,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_service.errors import DanglingParent, IdempotencyConflict, ValidationError
from ledger_service.index.bulk import select_many
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake.checks import Candidate
from ledger_service.intake.objections import check_objections
from ledger_service.intake.repairs import RepairStepRow, check_repair_cases
from ledger_service.intake.signatures import check_keys_still_active

__all__ = ["AppendResult", "WritePlan", "plan_write"]


@dataclass(frozen=True)
class AppendResult:
    """The outcome for one record of an append request."""

    record_id: str
    commitment: str
    """SHA-256(salt ‖ canonical bytes), hex."""
    status: Literal["created", "existing"]


@dataclass
class WritePlan:
    """Per request position: the result already known (a replay) or ``None`` (to insert)."""

    results: list[AppendResult | None]
    new: list[Candidate] = field(default_factory=list)
    #: the new records that are steps of credit-repair cases (:mod:`.repairs`)
    repair_steps: list[RepairStepRow] = field(default_factory=list)


def plan_write(session: Session, candidates: list[Candidate]) -> WritePlan:
    """Inside the write transaction: which candidates are new, which are idempotent replays,
    and whether the new ones' references hold against the index.

    Raises:
        SignatureError: a key used to verify was revoked meanwhile.
        IdempotencyConflict: a known record id with other content.
        DanglingParent, ValidationError: a reference that does not hold.
        RepairCaseError: a credit-repair record that does not fit its case.
    """
    plan = WritePlan(results=[None] * len(candidates))
    check_keys_still_active(session, candidates)

    stored = {
        row.record_id: row
        for row in select_many(
            session,
            select(RecordRow.record_id, RecordRow.content_sha256, RecordRow.commitment),
            RecordRow.record_id,
            [c.record.record_id for c in candidates],
        )
    }
    for candidate in candidates:
        record_id = candidate.record.record_id
        row = stored.get(record_id)
        if row is None:
            plan.new.append(candidate)
            continue
        if row.content_sha256 is None:
            raise ValidationError(
                record_id,
                "record_id",
                "was used by a record whose content has since been erased; use a new record id",
            )
        if row.content_sha256 != candidate.content_sha256:
            raise IdempotencyConflict(record_id)
        plan.results[candidate.position] = AppendResult(
            record_id, bytes(row.commitment).hex(), "existing"
        )
    if plan.new:
        _check_references(session, plan.new)
        plan.repair_steps = check_repair_cases(session, plan.new)
        check_objections(session, plan.new)
    return plan


def _check_references(session: Session, new: list[Candidate]) -> None:
    new_records = {c.record.record_id: c.record for c in new}
    referenced: set[str] = set()
    for record in new_records.values():
        referenced.update(record.parents)
        referenced.update(r for r in (record.supersedes, record.disputes) if r is not None)
    # Everything referenced that is not new in this request must be in the index (records
    # of the request that already exist included: their state is read from the index).
    targets: dict[str, _TargetInfo] = {
        row.record_id: _TargetInfo(row.kind, row.subject, row.superseded_by)
        for row in select_many(
            session,
            select(RecordRow.record_id, RecordRow.kind, RecordRow.subject, RecordRow.superseded_by),
            RecordRow.record_id,
            sorted(referenced - new_records.keys()),
        )
    }
    # Repair corrections must follow the status machine: read the superseded repairs.
    stored_repairs = sorted(
        {
            record.supersedes
            for record in new_records.values()
            if record.supersedes is not None
            and record.kind is RecordKind.CREDIT_REPAIR
            and record.supersedes in targets
            and targets[record.supersedes].kind == RecordKind.CREDIT_REPAIR.value
        }
    )
    for row in select_many(
        session,
        select(RecordRow.record_id, RecordRow.content),
        RecordRow.record_id,
        stored_repairs,
    ):
        if row.content is not None:  # an erased repair's status is unknown: not checked
            payload = parse_record(row.content).payload
            if isinstance(payload, CreditRepairPayload):
                targets[row.record_id].repair_status = payload.status.value

    # In request order, so a record sees exactly the new records before it.
    for candidate in new:
        record = candidate.record
        _check_record_references(record, targets)
        if record.supersedes is not None:
            target = targets[record.supersedes]
            if target.superseded_by is not None:
                raise ValidationError(
                    record.record_id,
                    "supersedes",
                    f"record {record.supersedes!r} is already superseded by "
                    f"{target.superseded_by!r}; correct the latest version instead",
                )
            target.superseded_by = record.record_id
        payload = record.payload
        targets[record.record_id] = _TargetInfo(
            record.kind.value,
            record.subject,
            None,
            payload.status.value if isinstance(payload, CreditRepairPayload) else None,
        )


@dataclass
class _TargetInfo:
    """What the checks need to know about a referenced record."""

    kind: str
    subject: str
    superseded_by: str | None
    repair_status: str | None = None


def _check_record_references(record: Record, targets: dict[str, _TargetInfo]) -> None:
    for i, parent in enumerate(record.parents):
        if parent not in targets:
            raise DanglingParent(record.record_id, f"parents[{i}]", parent)
    if record.supersedes is not None:
        target = targets.get(record.supersedes)
        if target is None:
            raise DanglingParent(record.record_id, "supersedes", record.supersedes)
        if target.kind != record.kind.value or target.subject != record.subject:
            raise ValidationError(
                record.record_id,
                "supersedes",
                f"a correction must be of the same kind and subject as the record it "
                f"supersedes; {record.supersedes!r} is a {target.kind} about {target.subject}",
            )
        payload = record.payload
        if target.repair_status is not None and isinstance(payload, CreditRepairPayload):
            allowed = {
                s.value for s in REPAIR_STATUS_TRANSITIONS[RepairStatus(target.repair_status)]
            }
            if payload.status.value not in allowed:
                raise ValidationError(
                    record.record_id,
                    "payload.status",
                    f"a {target.repair_status} repair can only become "
                    + (" or ".join(sorted(allowed)) if allowed else "nothing (it is final)")
                    + f", not {payload.status.value}",
                )
    if record.disputes is not None:
        target = targets.get(record.disputes)
        if target is None:
            raise DanglingParent(record.record_id, "disputes", record.disputes)
        if target.subject != record.subject:
            raise ValidationError(
                record.record_id,
                "disputes",
                f"an objection must concern the same subject; {record.disputes!r} is about "
                f"{target.subject}",
            )
