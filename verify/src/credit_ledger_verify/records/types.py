"""Constrained field types shared by the record envelope and the payloads.

Each type checks its value with a message phrased for the person who sent it; the
messages surface verbatim in :class:`credit_ledger_verify.errors.ValidationError`.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from credit_ledger_verify.canonical import MAX_SAFE_INTEGER
from credit_ledger_verify.records.uscc import USCC_PATTERN, uscc_problem

__all__ = [
    "RECORD_ID_PATTERN",
    "DecimalString",
    "FieldValue",
    "Label",
    "NonNegativeDecimalString",
    "RecordId",
    "SignatureB64",
    "UnifiedSocialCreditCode",
    "UtcDatetime",
    "check_signature_b64",
    "field_problem",
    "format_rfc3339_utc",
    "new_record_id",
]

RECORD_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
_RECORD_ID = re.compile(RECORD_ID_PATTERN)

# Plain decimal notation only: exponents would give one amount several spellings.
DECIMAL_PATTERN = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)
_MAX_DECIMAL_CHARS = 64

_LABEL_MAX = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ED25519_SIGNATURE_BYTES = 64


def new_record_id() -> str:
    """Return a fresh record id (``rec-`` + a random UUID4, hex) for callers that supply none."""
    return f"rec-{uuid.uuid4().hex}"


def _check_record_id(value: Any) -> Any:
    if isinstance(value, str) and not _RECORD_ID.fullmatch(value):
        raise ValueError("must be 1-128 characters from A-Z a-z 0-9 . _ : -")
    return value


RecordId = Annotated[
    StrictStr,
    AfterValidator(_check_record_id),
    WithJsonSchema({"type": "string", "pattern": RECORD_ID_PATTERN}),
]
"""A record id: the client's idempotency key, ``^[A-Za-z0-9._:-]{1,128}$``."""


# A label with none of the problems _check_label names (printable, no whitespace at either
# end; ``\s`` and ``str.strip`` agree on what whitespace is): one match instead of four checks.
_PLAIN_LABEL = re.compile(r"[^\x00-\x1f\x7f\s](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?")


def _check_label(value: str) -> str:
    if len(value) <= _LABEL_MAX and _PLAIN_LABEL.fullmatch(value):
        return value
    if not value:
        raise ValueError("must not be empty")
    if len(value) > _LABEL_MAX:
        raise ValueError(f"must be at most {_LABEL_MAX} characters, got {len(value)}")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Label = Annotated[
    StrictStr,
    AfterValidator(_check_label),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": _LABEL_MAX, "pattern": r"^\S(.*\S)?$"}
    ),
]
"""Free text naming something (a system, a model, an institution): 1-256 printable characters."""


def _check_uscc(value: str) -> str:
    problem = uscc_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


UnifiedSocialCreditCode = Annotated[
    StrictStr,
    AfterValidator(_check_uscc),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": USCC_PATTERN,
            "description": "GB 32100-2015 unified social credit code, check character verified",
        }
    ),
]


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"floats are not allowed ({value!r}); send decimals as strings")
    if isinstance(value, bool):
        raise ValueError("must be a decimal string, not a boolean")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite decimal")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if len(value) > _MAX_DECIMAL_CHARS or not _DECIMAL.fullmatch(value):
            raise ValueError(
                f"must be a decimal string in plain notation like '1234.50' "
                f"(at most {_MAX_DECIMAL_CHARS} characters)"
            )
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the pattern rules this out
            raise ValueError("must be a decimal string") from exc
    raise ValueError(f"must be a decimal string, got {type(value).__name__}")


def _format_decimal(value: Decimal) -> str:
    # Fixed-point keeps the sender's scale ("1.50" stays "1.50") and never uses exponents.
    return format(value, "f")


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(_format_decimal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "maxLength": _MAX_DECIMAL_CHARS}),
]
"""A ``Decimal`` that travels as a plain-notation string (``"-12.50"``); floats are refused."""


def _check_non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


NonNegativeDecimalString = Annotated[
    DecimalString,
    AfterValidator(_check_non_negative),
    WithJsonSchema(
        {"type": "string", "pattern": DECIMAL_PATTERN.replace("^-?", "^"), "maxLength": 64}
    ),
]


def _field_value(value: Any) -> str | bool | int:
    # One validator instead of a str | bool | int union: a union would report one error per
    # member ("payload.fields_changed.x.str: ..."), burying the one useful message.
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integers beyond ±(2**53 - 1) must be sent as decimal strings")
        return value
    if isinstance(value, float):
        raise ValueError(f"floats are not allowed ({value!r}); send decimals as strings")
    raise ValueError(
        "must be a string, boolean or integer (decimals as strings), "
        f"got {'null' if value is None else type(value).__name__}"
    )


FieldValue = Annotated[
    str | bool | int,
    PlainValidator(_field_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "boolean"},
                {"type": "integer", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
            ]
        }
    ),
]
"""A changed field's new value: string (decimals as strings), boolean or safe integer."""


def format_rfc3339_utc(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds") + "Z"


def _parse_utc_datetime(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Epoch numbers are ambiguous (seconds? milliseconds?); insist on RFC 3339.
        raise ValueError("must be an RFC 3339 date-time string with a time zone, not a number")
    return value


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone (e.g. '2024-05-01T08:00:00Z' or '+08:00')")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("cannot be expressed in UTC (out of range)") from exc


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_parse_utc_datetime),
    AfterValidator(_to_utc),
    PlainSerializer(format_rfc3339_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A time-zone-aware instant, normalised to UTC, serialised as RFC 3339 with ``Z``."""


def check_signature_b64(value: str) -> str:
    """Return ``value`` if it is canonical base64 of 64 bytes, else raise ``ValueError``."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be standard base64") from exc
    if len(raw) != ED25519_SIGNATURE_BYTES:
        raise ValueError(f"must encode {ED25519_SIGNATURE_BYTES} bytes (Ed25519), got {len(raw)}")
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError("must be canonical padded base64")
    return value


SignatureB64 = Annotated[
    StrictStr,
    AfterValidator(check_signature_b64),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[A-Za-z0-9+/]{86}==$",
            "description": "base64 Ed25519 signature over Record.signing_bytes()",
        }
    ),
]


def field_problem(field: str, message: str) -> PydanticCustomError:
    """Build the error a model-level validator raises to blame one of its fields.

    Pydantic locates model-validator errors at the model itself; ``ctx["field"]`` lets
    :func:`credit_ledger_verify.records.to_validation_error` point at the field instead.
    """
    return PydanticCustomError("field_problem", "{message}", {"field": field, "message": message})
