"""Kind-specific record payloads.

Each payload model forbids unknown fields, holds decimals as ``Decimal`` (serialised as
plain-notation strings) and never accepts floats.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from credit_ledger_verify.records.types import (
    DecimalString,
    FieldValue,
    Label,
    NonNegativeDecimalString,
    RecordId,
    field_problem,
)

__all__ = [
    "MONETARY_EVENTS",
    "OBJECTION_RESOLUTIONS",
    "REPAIR_STATUS_TRANSITIONS",
    "CreditRepairAction",
    "CreditRepairPayload",
    "DataUpdatePayload",
    "Dataset",
    "ErasureBasis",
    "ErasurePayload",
    "FinancingEventPayload",
    "FinancingEventType",
    "Money",
    "ObjectionPayload",
    "ObjectionStep",
    "RepairStatus",
    "ScoreChangePayload",
]

_PAYLOAD_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Dataset(StrEnum):
    """Government or partner data sets a data update can come from."""

    TAX = "tax"
    SOCIAL_INSURANCE = "social_insurance"
    JUDICIAL = "judicial"
    CUSTOMS = "customs"
    ENVIRONMENTAL = "environmental"
    UTILITIES = "utilities"
    IP_PATENTS = "ip_patents"
    OTHER = "other"


class FinancingEventType(StrEnum):
    """Steps in a loan's life."""

    APPLICATION = "application"
    APPROVAL = "approval"
    REJECTION = "rejection"
    CREDIT_LINE = "credit_line"
    DISBURSEMENT = "disbursement"
    FUND_USE = "fund_use"
    REPAYMENT = "repayment"
    OVERDUE = "overdue"
    DEFAULT = "default"
    SETTLEMENT = "settlement"


#: Financing events that move or grant money and so must state an amount.
MONETARY_EVENTS = frozenset(
    {FinancingEventType.CREDIT_LINE, FinancingEventType.DISBURSEMENT, FinancingEventType.REPAYMENT}
)


class CreditRepairAction(StrEnum):
    """What an enterprise did to repair its credit."""

    BACK_PAID_SOCIAL_INSURANCE = "back_paid_social_insurance"
    TAX_CREDIT_REPAIR = "tax_credit_repair"
    FULFILLED_JUDGMENT = "fulfilled_judgment"
    CREDIT_COMMITMENT = "credit_commitment"
    TRAINING = "training"
    OBJECTION_CORRECTION = "objection_correction"


class RepairStatus(StrEnum):
    """Status of a credit-repair action: submitted → verified → approved | rejected."""

    SUBMITTED = "submitted"
    VERIFIED = "verified"
    APPROVED = "approved"
    REJECTED = "rejected"


#: Allowed status changes between successive records of one repair (the later record
#: supersedes the earlier). Approved and rejected are final.
REPAIR_STATUS_TRANSITIONS: dict[RepairStatus, frozenset[RepairStatus]] = {
    RepairStatus.SUBMITTED: frozenset({RepairStatus.VERIFIED, RepairStatus.REJECTED}),
    RepairStatus.VERIFIED: frozenset({RepairStatus.APPROVED, RepairStatus.REJECTED}),
    RepairStatus.APPROVED: frozenset(),
    RepairStatus.REJECTED: frozenset(),
}

_FIELD_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def _check_field_names(fields: dict[str, object]) -> dict[str, object]:
    for name in fields:
        if not _FIELD_NAME.fullmatch(name) or name != name.strip():
            raise ValueError(
                f"field name {name!r} must be 1-128 printable characters without "
                "surrounding whitespace"
            )
    return fields


def _check_unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} appears more than once")
        seen.add(value)
    return values


UniqueRecordIds = Annotated[list[RecordId], AfterValidator(_check_unique)]
UniqueLabels = Annotated[list[Label], AfterValidator(_check_unique)]


class DataUpdatePayload(BaseModel):
    """Government/partner data about the subject changed."""

    model_config = _PAYLOAD_CONFIG

    dataset: Dataset
    fields_changed: Annotated[
        dict[StrictStr, FieldValue], AfterValidator(_check_field_names), Field(min_length=1)
    ]
    """Field name → new value (strings, booleans, safe integers; decimals as strings)."""
    source_reference: Label
    """Where the data came from: the provider's document/batch/query reference."""


class ScoreChangePayload(BaseModel):
    """A credit model re-scored the subject; ``parents`` are the inputs used."""

    model_config = _PAYLOAD_CONFIG

    model_id: Label
    model_version: Label
    score_before: DecimalString | None = None
    """``None`` for the subject's first score."""
    score_after: DecimalString
    grade_before: Label | None = None
    grade_after: Label
    dimension_scores: dict[Label, DecimalString] = Field(default_factory=dict)
    reason_codes: UniqueLabels = Field(default_factory=list)

    @model_validator(mode="after")
    def _before_values_come_together(self) -> Self:
        if (self.score_before is None) != (self.grade_before is None):
            missing = "grade_before" if self.grade_before is None else "score_before"
            raise field_problem(
                missing,
                "is required when the other 'before' value is given "
                "(both are absent only for a first score)",
            )
        return self


def _check_currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be 3 upper-case letters (ISO 4217)")
    return value


class Money(BaseModel):
    """An amount of money: a non-negative decimal and its ISO 4217 currency code."""

    model_config = _PAYLOAD_CONFIG

    value: NonNegativeDecimalString
    currency: Annotated[StrictStr, AfterValidator(_check_currency)] = Field(
        json_schema_extra={"pattern": "^[A-Z]{3}$"}
    )


class FinancingEventPayload(BaseModel):
    """One event in a loan's life; ``parents`` are the scores relied on and prior events."""

    model_config = _PAYLOAD_CONFIG

    loan_id: RecordId
    event: FinancingEventType
    amount: Money | None = None
    """Required for credit_line, disbursement and repayment."""
    rate: NonNegativeDecimalString | None = None
    """Annual interest rate as a fraction: ``"0.0435"`` means 4.35 %."""
    institution: Label

    @model_validator(mode="after")
    def _monetary_events_state_amount(self) -> Self:
        if self.event in MONETARY_EVENTS and self.amount is None:
            raise field_problem("amount", f"is required for a {self.event.value} event")
        return self


class CreditRepairPayload(BaseModel):
    """A credit-repair action and its status."""

    model_config = _PAYLOAD_CONFIG

    action: CreditRepairAction
    status: RepairStatus
    affected_records: UniqueRecordIds = Field(default_factory=list)
    """Records the repair concerns (e.g. the judicial data update it answers)."""
    resulting_score_change: RecordId | None = None
    """The score_change record that followed approval, if any."""

    @model_validator(mode="after")
    def _score_change_only_after_approval(self) -> Self:
        if self.resulting_score_change is not None and self.status is not RepairStatus.APPROVED:
            raise field_problem(
                "resulting_score_change",
                f"may only be set on an approved repair, not a {self.status.value} one",
            )
        return self


class ObjectionStep(StrEnum):
    """A step of an objection case (征信业管理条例 Art. 25): the subject objects to a record
    (``opened``); the case is answered by exactly one resolution."""

    OPENED = "opened"
    CORRECTED = "corrected"
    """The record was wrong: ``correction`` names the record that supersedes it."""
    UPHELD = "upheld"
    """The record stands as it is (checked and confirmed, or the objection withdrawn)."""
    REJECTED = "rejected"
    """The objection is rejected as unfounded; ``reason`` says why."""


#: The steps that close a case.
OBJECTION_RESOLUTIONS = frozenset(
    {ObjectionStep.CORRECTED, ObjectionStep.UPHELD, ObjectionStep.REJECTED}
)

_REASON_MAX = 4000


def _check_reason(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if len(value) > _REASON_MAX:
        raise ValueError(f"must be at most {_REASON_MAX} characters, got {len(value)}")
    return value


Reason = Annotated[
    StrictStr,
    AfterValidator(_check_reason),
    Field(json_schema_extra={"minLength": 1, "maxLength": _REASON_MAX}),
]


class ObjectionPayload(BaseModel):
    """One step of an objection case. The opening record sets the envelope's ``disputes``
    to the record objected to; every later step names the case by its opening record."""

    model_config = _PAYLOAD_CONFIG

    step: ObjectionStep
    case: RecordId | None = None
    """The case's opening record; required on a resolution, absent on ``opened``."""
    reason: Reason
    """The objection's grounds (``opened``) or the written answer (a resolution)."""
    correction: RecordId | None = None
    """For ``corrected`` only: the record that supersedes the disputed one."""

    @model_validator(mode="after")
    def _fields_fit_the_step(self) -> Self:
        if self.step is ObjectionStep.OPENED:
            if self.case is not None:
                raise field_problem("case", "must be absent on an opened step (it opens the case)")
        elif self.case is None:
            raise field_problem("case", f"is required on a {self.step.value} step")
        if self.step is ObjectionStep.CORRECTED:
            if self.correction is None:
                raise field_problem("correction", "is required on a corrected step")
        elif self.correction is not None:
            raise field_problem(
                "correction", f"may only be set on a corrected step, not a {self.step.value} one"
            )
        return self


class ErasureBasis(StrEnum):
    """Why a record's content was erased."""

    EXPIRY = "expiry"
    """Its retention period ended (征信业管理条例 Art. 16: 5 years after the conduct ended)."""
    REQUEST = "request"
    """The subject asked for it (PIPL Art. 47) and no retention duty stood in the way."""


_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _check_rule_name(value: str) -> str:
    if not _RULE_NAME.fullmatch(value):
        raise ValueError("must be a rule name: 1-64 of a-z, 0-9 and _, starting with a letter")
    return value


class ErasurePayload(BaseModel):
    """The service erased (crypto-shredded) another record's content and salt; its
    commitment stays on chain. Signed by the service's own key, anchored like any record."""

    model_config = _PAYLOAD_CONFIG

    erased_record: RecordId
    """The record whose content and salt were deleted."""
    basis: ErasureBasis
    rule: Annotated[StrictStr, AfterValidator(_check_rule_name)] = Field(
        json_schema_extra={"pattern": _RULE_NAME.pattern}
    )
    """The retention rule that expired (e.g. ``loan_overdue``) or the law of a request
    (``pipl_art47``)."""
    reason: Label | None = None
    """Why the subject asked (required for a request)."""
    conduct_ended: date | None = None
    """For expiry: the day (China time) the negative conduct ended."""
    expired_on: date | None = None
    """For expiry: the first day the record was no longer kept."""

    @model_validator(mode="after")
    def _basis_fields(self) -> Self:
        if self.basis is ErasureBasis.REQUEST:
            if self.reason is None:
                raise field_problem("reason", "is required for an erasure on request")
            for name in ("conduct_ended", "expired_on"):
                if getattr(self, name) is not None:
                    raise field_problem(name, "is only for an erasure on expiry")
        else:
            for name in ("conduct_ended", "expired_on"):
                if getattr(self, name) is None:
                    raise field_problem(name, "is required for an erasure on expiry")
            assert self.conduct_ended is not None
            assert self.expired_on is not None
            if self.expired_on <= self.conduct_ended:
                raise field_problem("expired_on", "must be after conduct_ended")
        return self
