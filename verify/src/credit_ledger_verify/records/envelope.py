"""The record envelope shared by all kinds, and one concrete record class per kind.

``Record`` is the common base: use it in type hints and ``isinstance`` checks, and parse
untrusted input with :func:`parse_record` (or ``Record.model_validate`` /
``Record.model_validate_json``, which dispatch on ``kind`` to the concrete class). Build new
records with the concrete classes (``DataUpdateRecord(...)`` etc.).

Canonical forms (RFC 8785 over ``Record.to_json_dict()``; fields that are ``None`` are left
out so that adding an optional field later does not change old records' bytes):

* ``signing_bytes()`` — the record without ``signature``: what the writer signs;
* ``canonical_bytes()`` — the whole record with its signature: what is committed on chain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, cast

import pydantic
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from pydantic_core import PydanticCustomError

from credit_ledger_verify.canonical import add_string_member, canonicalize
from credit_ledger_verify.errors import FieldProblem, PayloadTooLarge, ValidationError
from credit_ledger_verify.records.payloads import (
    CreditRepairPayload,
    DataUpdatePayload,
    ErasurePayload,
    FinancingEventPayload,
    ObjectionPayload,
    ObjectionStep,
    ScoreChangePayload,
    UniqueRecordIds,
)
from credit_ledger_verify.records.types import (
    Label,
    RecordId,
    SignatureB64,
    UnifiedSocialCreditCode,
    UtcDatetime,
    check_signature_b64,
    field_problem,
    new_record_id,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "PAYLOAD_CLASSES",
    "RECORD_CLASSES",
    "AnyRecord",
    "CreditRepairRecord",
    "DataUpdateRecord",
    "ErasureRecord",
    "FinancingEventRecord",
    "ObjectionRecord",
    "Payload",
    "Record",
    "RecordKind",
    "ScoreChangeRecord",
    "parse_record",
    "to_validation_error",
]

#: Largest accepted payload, measured as its RFC 8785 canonical bytes.
MAX_PAYLOAD_BYTES = 64 * 1024


class RecordKind(StrEnum):
    """What a record attests."""

    DATA_UPDATE = "data_update"
    SCORE_CHANGE = "score_change"
    FINANCING_EVENT = "financing_event"
    CREDIT_REPAIR = "credit_repair"
    OBJECTION = "objection"
    ERASURE = "erasure"


Payload = (
    DataUpdatePayload
    | ScoreChangePayload
    | FinancingEventPayload
    | CreditRepairPayload
    | ObjectionPayload
    | ErasurePayload
)


def _kind_is_required(schema: dict[str, Any]) -> None:
    # The concrete classes default ``kind`` for Python callers, but on the wire it is the
    # discriminator and must be present.
    properties = schema.get("properties", {})
    if "kind" in properties:
        properties["kind"].pop("default", None)
        required = schema.setdefault("required", [])
        if "kind" not in required:
            required.insert(0, "kind")


class Record(BaseModel):
    """Common envelope of every ledger record (abstract: instantiate a concrete kind)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        json_schema_extra=_kind_is_required,
    )

    record_id: RecordId = Field(default_factory=new_record_id)
    """Client idempotency key; a ``rec-<uuid4 hex>`` id is generated if none is given."""
    kind: RecordKind
    subject: UnifiedSocialCreditCode
    """The enterprise the record is about (unified social credit code)."""
    occurred_at: UtcDatetime
    """When the fact happened (not when it was written); aware, normalised to UTC."""
    source: Label
    """System, data set or provider the fact comes from."""
    actor: Label
    """Identity of the writer."""
    parents: UniqueRecordIds = Field(default_factory=list)
    """Records this one was derived from or relied on: the lineage edges."""
    supersedes: RecordId | None = None
    """For a correction: the record it replaces (history is never edited)."""
    disputes: RecordId | None = None
    """For an objection: the record it flags as disputed."""
    payload: Payload
    signature: SignatureB64 | None = None
    """Base64 Ed25519 signature of ``signing_bytes()`` by the writer's key."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if cls is Record:
            raise TypeError(
                "Record is the abstract envelope: build a DataUpdateRecord, ScoreChangeRecord, "
                "FinancingEventRecord, CreditRepairRecord or ObjectionRecord, or parse input with "
                "parse_record() / Record.model_validate()"
            )
        return super().__new__(cls)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj``; on ``Record`` itself, dispatch on ``kind`` to the concrete class."""
        if cls is Record:
            return cast(Self, _ANY_RECORD.validate_python(obj, *args, **kwargs))
        return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate JSON text; on ``Record`` itself, dispatch on ``kind`` to the concrete class."""
        if cls is Record:
            return cast(Self, _ANY_RECORD.validate_json(json_data, *args, **kwargs))
        return super().model_validate_json(json_data, *args, **kwargs)

    @field_validator("payload", mode="after")
    @classmethod
    def _payload_within_size_limit(cls, payload: BaseModel) -> BaseModel:
        # pydantic's compact JSON is within a few bytes of the canonical form; only
        # canonicalise (slow, pure Python) when it could matter.
        if len(payload.model_dump_json(exclude_none=True)) * 2 <= MAX_PAYLOAD_BYTES:
            return payload
        size = len(canonicalize(payload.model_dump(mode="json", exclude_none=True)))
        if size > MAX_PAYLOAD_BYTES:
            raise PydanticCustomError(
                "payload_too_large",
                "canonical payload is {size} bytes, more than the limit of {limit} bytes",
                {"size": size, "limit": MAX_PAYLOAD_BYTES},
            )
        return payload

    @model_validator(mode="after")
    def _no_self_reference(self) -> Self:
        if self.record_id in self.parents:
            raise field_problem("parents", "must not contain the record's own id")
        if self.supersedes == self.record_id:
            raise field_problem("supersedes", "a record cannot supersede itself")
        if self.disputes == self.record_id:
            raise field_problem("disputes", "a record cannot dispute itself")
        return self

    def to_json_dict(self, *, include_signature: bool = True) -> dict[str, Any]:
        """Return the record as JSON-ready data (decimals and datetimes as strings, no Nones)."""
        exclude = None if include_signature else {"signature"}
        return self.model_dump(mode="json", exclude_none=True, exclude=exclude)

    def signing_bytes(self) -> bytes:
        """Canonical JSON of the record without ``signature``: the bytes the writer signs."""
        data = self.to_json_dict()
        data.pop("signature", None)  # cheaper than asking model_dump to exclude it
        return canonicalize(data)

    def canonical_bytes(self) -> bytes:
        """Canonical JSON of the whole record, signature included: the bytes committed."""
        return canonicalize(self.to_json_dict())

    def signing_and_canonical_bytes(self) -> tuple[bytes, bytes]:
        """``(signing_bytes(), canonical_bytes())`` for the price of one canonicalisation.

        The signature (a base64 string) sorts at a known place among the envelope's
        top-level keys, so the committed form is the signed form with that one member
        spliced in (:func:`credit_ledger_verify.canonical.add_string_member`, which refuses rather
        than guesses; the whole record is canonicalised again only then).
        """
        data = self.to_json_dict()
        signature = data.pop("signature", None)
        signing = canonicalize(data)
        if signature is None:
            return signing, signing
        canonical = add_string_member(signing, data, "signature", signature)
        if canonical is None:
            data["signature"] = signature
            canonical = canonicalize(data)
        return signing, canonical

    def with_signature(self, signature_b64: str) -> Self:
        """Return a copy carrying ``signature_b64`` (checked to be a well-formed Ed25519 value)."""
        try:
            check_signature_b64(signature_b64)
        except ValueError as exc:
            raise ValidationError(self.record_id, "signature", str(exc)) from exc
        return self.model_copy(update={"signature": signature_b64})

    def without_signature(self) -> Self:
        """Return a copy with no signature."""
        return self.model_copy(update={"signature": None})


class DataUpdateRecord(Record):
    """Government/partner data about the subject changed."""

    kind: Literal[RecordKind.DATA_UPDATE] = RecordKind.DATA_UPDATE
    payload: DataUpdatePayload


class ScoreChangeRecord(Record):
    """The subject was re-scored; ``parents`` are the data updates and repairs used."""

    kind: Literal[RecordKind.SCORE_CHANGE] = RecordKind.SCORE_CHANGE
    payload: ScoreChangePayload


class FinancingEventRecord(Record):
    """A loan event; ``parents`` are the scores relied on and prior events of the loan."""

    kind: Literal[RecordKind.FINANCING_EVENT] = RecordKind.FINANCING_EVENT
    payload: FinancingEventPayload


class CreditRepairRecord(Record):
    """A credit-repair action and its status."""

    kind: Literal[RecordKind.CREDIT_REPAIR] = RecordKind.CREDIT_REPAIR
    payload: CreditRepairPayload


class ObjectionRecord(Record):
    """A step of an objection case; the opening step ``disputes`` the record objected to."""

    kind: Literal[RecordKind.OBJECTION] = RecordKind.OBJECTION
    payload: ObjectionPayload

    @model_validator(mode="after")
    def _only_the_opening_disputes(self) -> Self:
        opening = self.payload.step is ObjectionStep.OPENED
        if opening and self.disputes is None:
            raise field_problem(
                "disputes", "is required on an opened objection: the record objected to"
            )
        if not opening and self.disputes is not None:
            raise field_problem(
                "disputes",
                f"must be absent on the {self.payload.step.value} step (its case names the record)",
            )
        if self.supersedes is not None:
            raise field_problem("supersedes", "an objection step never supersedes a record")
        return self


class ErasureRecord(Record):
    """The service erased another record's content (expiry or request); subject = that
    record's subject."""

    kind: Literal[RecordKind.ERASURE] = RecordKind.ERASURE
    payload: ErasurePayload


AnyRecord = Annotated[
    DataUpdateRecord
    | ScoreChangeRecord
    | FinancingEventRecord
    | CreditRepairRecord
    | ObjectionRecord
    | ErasureRecord,
    Field(discriminator="kind"),
]
"""Type of a parsed record of any kind, discriminated by ``kind``."""

_ANY_RECORD: TypeAdapter[Record] = cast(TypeAdapter[Record], TypeAdapter(AnyRecord))

RECORD_CLASSES: Mapping[RecordKind, type[Record]] = {
    RecordKind.DATA_UPDATE: DataUpdateRecord,
    RecordKind.SCORE_CHANGE: ScoreChangeRecord,
    RecordKind.FINANCING_EVENT: FinancingEventRecord,
    RecordKind.CREDIT_REPAIR: CreditRepairRecord,
    RecordKind.OBJECTION: ObjectionRecord,
    RecordKind.ERASURE: ErasureRecord,
}

PAYLOAD_CLASSES: Mapping[RecordKind, type[BaseModel]] = {
    RecordKind.DATA_UPDATE: DataUpdatePayload,
    RecordKind.SCORE_CHANGE: ScoreChangePayload,
    RecordKind.FINANCING_EVENT: FinancingEventPayload,
    RecordKind.CREDIT_REPAIR: CreditRepairPayload,
    RecordKind.OBJECTION: ObjectionPayload,
    RecordKind.ERASURE: ErasurePayload,
}

_KIND_TAGS = frozenset(kind.value for kind in RecordKind)


def parse_record(data: Mapping[str, Any] | str | bytes | bytearray) -> Record:
    """Validate untrusted input (a mapping or JSON text) into the concrete record class.

    Raises:
        ValidationError: naming the record id (when the input has one) and the field path
            of the first problem; ``PayloadTooLarge`` for an oversize payload.
    """
    try:
        if isinstance(data, (str, bytes, bytearray)):
            return _ANY_RECORD.validate_json(data)
        return _ANY_RECORD.validate_python(data)
    except pydantic.ValidationError as exc:
        raise to_validation_error(exc, _claimed_record_id(data)) from exc


def _claimed_record_id(data: object) -> str | None:
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if isinstance(data, Mapping):
        claimed = data.get("record_id")
        if isinstance(claimed, str):
            return claimed[:160]
    return None


def to_validation_error(
    exc: pydantic.ValidationError, record_id: str | None = None
) -> ValidationError:
    """Convert pydantic's error into the project's, naming ``record_id`` and field paths.

    The first problem becomes ``field``/``message``; all of them are in ``problems``.
    An oversize payload becomes :class:`PayloadTooLarge`.
    """
    problems: list[FieldProblem] = []
    for error in exc.errors(include_url=False):
        ctx = error.get("ctx") or {}
        if error["type"] == "payload_too_large":
            return PayloadTooLarge(record_id, int(ctx["size"]), int(ctx["limit"]))
        loc = list(error["loc"])
        if loc and loc[0] in _KIND_TAGS:
            loc = loc[1:]  # the discriminated union's tag, not a field
        field = _format_loc(loc)
        message = _message(error["type"], error["msg"], ctx, error.get("input"))
        if error["type"] == "field_problem":
            field = f"{field}.{ctx['field']}" if field else str(ctx["field"])
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            field = "kind"
        problems.append(FieldProblem(field, message))
    first = problems[0]
    return ValidationError(record_id, first.field, first.message, problems=problems)


_ENUM_REPR = re.compile(r"<\w+\.\w+: ('[^']*')>")
_JSON_TYPE_NAMES = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
}


def _json_type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _format_loc(loc: list[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error_type: str, msg: str, ctx: Mapping[str, Any], value: object) -> str:
    kinds = ", ".join(kind.value for kind in RecordKind)
    if error_type == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; expected one of {kinds}"
    if error_type == "union_tag_not_found":
        return f"is required (one of {kinds})"
    if error_type == "missing":
        return "is required"
    if error_type == "extra_forbidden":
        return "is not an allowed field"
    if error_type == "field_problem":
        return str(ctx["message"])
    if error_type in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a JSON object, got {_json_type_name(value)}"
    if error_type == "literal_error" and isinstance(value, str):
        expected = _ENUM_REPR.sub(r"\1", str(ctx.get("expected")))  # "<Kind.X: 'x'>" -> 'x'
        return f"must be {expected}, got {value!r}"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:] if msg[1:2].islower() else msg
