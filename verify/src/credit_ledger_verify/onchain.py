"""The ledger chaincode's on-chain layout (format v3), both ways — the only Python owner.

Its Go twin is ``chaincode/ledger/onchain.go``; ``tests/data/onchain/*.json`` pins the two
together (both test suites walk it). Everything on chain, in the chaincode's namespace::

    \\x00rec\\x00<commitment, base64url>\\x00   uvarint leaf index (minimal) ‖ batch id
    \\x00batch\\x00<batch id>\\x00   {"batch_id","root","size","tx_id","msp","ts"} (compact JSON)
    \\x00touch\\x00<key>\\x00        <tx id>   (benchmarks; never decoded here)

A record's key is its salted commitment ``SHA-256(salt ‖ canonical)``: unlinkable to the
record's subject and to the client's record id, which never goes on chain. In the key the
commitment is unpadded base64url (RFC 4648 §5: 43 characters, canonical only — the last one
carries no stray low bits), 48 bytes in all: every key is in a peer's read set, write set and
state database, so its length is a large share of the peers' work per record. ``PutBatch``'s
argument (transient, never stored) and ``GetRecord`` keep the commitment as 64 lowercase hex:
``{"batch_id", "root", "records": [<commitment hex>, ...]}`` in leaf order.

Every decoder here is strict (exact field set, types, patterns, minimal varints, UTF-8 only,
no duplicate JSON keys, nothing trailing) and raises :class:`OnChainFormatError` carrying the
:class:`RefusalCode` the chaincode gives for the same input. Chaincode errors start with
``[code]``; :func:`parse_refusal` reads it back.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple

from credit_ledger_verify.errors import LedgerError

__all__ = [
    "BATCH_KEY_TYPE",
    "MAX_RECORDS",
    "RECORD_KEY_LENGTH",
    "RECORD_KEY_TYPE",
    "TOUCH_KEY_TYPE",
    "BatchValue",
    "OnChainFormatError",
    "PutBatchArgument",
    "RecordValue",
    "RefusalCode",
    "batch_key",
    "composite_key",
    "decode_batch_value",
    "decode_put_batch",
    "decode_record_value",
    "encode_batch_value",
    "encode_put_batch",
    "encode_record_value",
    "is_batch_id",
    "parse_composite_key",
    "parse_record_key",
    "parse_refusal",
    "parse_rfc3339",
    "record_key",
]

RECORD_KEY_TYPE = "rec"
BATCH_KEY_TYPE = "batch"
TOUCH_KEY_TYPE = "touch"
#: Most records in one batch (the chaincode's limit); leaf indexes are below it.
MAX_RECORDS = 50_000
_COMMITMENT_BYTES = 32
#: Characters of a commitment in a record key: unpadded base64url of 32 bytes.
_KEY_COMMITMENT_CHARS = 43
#: Length of a record key: ``\\x00rec\\x00`` + 43 characters + ``\\x00``.
RECORD_KEY_LENGTH = len(RECORD_KEY_TYPE) + _KEY_COMMITMENT_CHARS + 3

_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ID_BYTES = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# 32 bytes = 42 full sextets + 4 bits: the last character's 2 low bits must be zero (its
# alphabet index a multiple of 4), so each commitment has exactly one key.
_KEY_COMMITMENT = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
# RFC 3339 in UTC as Go's time.RFC3339Nano writes it: fraction optional, trailing zeros trimmed.
_RFC3339_UTC = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{0,8}[1-9]))?Z")
_RECORD_KEY_PREFIX = f"\x00{RECORD_KEY_TYPE}\x00"
_BATCH_FIELDS = ("batch_id", "root", "size", "tx_id", "msp", "ts")
_PUT_BATCH_FIELDS = ("batch_id", "root", "records")


class RefusalCode(StrEnum):
    """The stable codes that open every chaincode error message (chaincode/README.md)."""

    BAD_ARGUMENT = "bad_argument"
    NOT_WRITER = "not_writer"
    DUPLICATE_IN_BATCH = "duplicate_in_batch"
    BATCH_EXISTS = "batch_exists"
    RECORD_EXISTS = "record_exists"
    NOT_FOUND = "not_found"
    CORRUPT_VALUE = "corrupt_value"
    UNKNOWN_FUNCTION = "unknown_function"
    INTERNAL = "internal"
    # AnchorCheckpoint (onchain_tlog)
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    CHECKPOINT_GAP = "checkpoint_gap"
    CHECKPOINT_SMALLER = "checkpoint_smaller"
    CHECKPOINT_FORK = "checkpoint_fork"
    CHECKPOINT_INCONSISTENT = "checkpoint_inconsistent"
    LOG_KEY_MISMATCH = "log_key_mismatch"


class OnChainFormatError(LedgerError):
    """A key, value or PutBatch argument that does not follow the on-chain layout.

    ``refusal`` is what the chaincode answers for the same input (``bad_argument`` /
    ``duplicate_in_batch`` for an argument, ``corrupt_value`` for stored keys and values);
    ``field`` names the part that is wrong."""

    code: ClassVar[str] = "onchain_format"

    def __init__(self, refusal: RefusalCode, field: str, message: str) -> None:
        self.refusal = refusal
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


def _corrupt(field: str, message: str) -> OnChainFormatError:
    return OnChainFormatError(RefusalCode.CORRUPT_VALUE, field, message)


def _bad_argument(field: str, message: str) -> OnChainFormatError:
    return OnChainFormatError(RefusalCode.BAD_ARGUMENT, field, message)


def is_batch_id(text: str) -> bool:
    """Whether ``text`` is a valid batch id (``[A-Za-z0-9._:-]{1,128}``)."""
    return _ID.fullmatch(text) is not None


# -- keys -------------------------------------------------------------------------------------


def composite_key(object_type: str, key: str) -> str:
    """``shim.CreateCompositeKey(object_type, [key])``: ``\\x00type\\x00key\\x00``."""
    return f"\x00{object_type}\x00{key}\x00"


def parse_composite_key(key: str) -> tuple[str, str] | None:
    """``(object type, id)`` of a single-attribute composite key, or ``None`` for any other."""
    if len(key) < 4 or key[0] != "\x00" or key[-1] != "\x00":
        return None
    parts = key[1:-1].split("\x00")
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


def record_key(commitment: bytes) -> str:
    """The state key of a record: ``\\x00rec\\x00<commitment, unpadded base64url>\\x00``."""
    if len(commitment) != _COMMITMENT_BYTES:
        raise _bad_argument("commitment", f"must be 32 bytes, got {len(commitment)}")
    text = base64.urlsafe_b64encode(commitment)[:_KEY_COMMITMENT_CHARS].decode("ascii")
    return f"{_RECORD_KEY_PREFIX}{text}\x00"


def parse_record_key(key: str) -> bytes:
    """The commitment a record key names, strictly (43 canonical base64url characters)."""
    if not key.startswith(_RECORD_KEY_PREFIX) or not key.endswith("\x00"):
        raise _corrupt("record key", f"{key!r:.100} is not \\x00rec\\x00<commitment>\\x00")
    text = key[len(_RECORD_KEY_PREFIX) : -1]
    if _KEY_COMMITMENT.fullmatch(text) is None:
        raise _corrupt(
            "record key",
            f"commitment {text!r:.80} is not 43 canonical base64url characters (RFC 4648 §5, "
            "no padding)",
        )
    return base64.urlsafe_b64decode(text + "=")


def batch_key(batch_id: str) -> str:
    """The state key of a batch: ``\\x00batch\\x00<batch id>\\x00``."""
    if not is_batch_id(batch_id):
        raise _bad_argument("batch_id", f"{batch_id!r:.80} must match [A-Za-z0-9._:-]{{1,128}}")
    return composite_key(BATCH_KEY_TYPE, batch_id)


# -- record values ----------------------------------------------------------------------------


class RecordValue(NamedTuple):
    leaf_index: int
    batch_id: str


def encode_record_value(leaf_index: int, batch_id: str) -> bytes:
    """``uvarint leaf index (minimal) ‖ batch id (ASCII)`` — what PutBatch writes."""
    if not 0 <= leaf_index < MAX_RECORDS:
        raise _bad_argument("leaf_index", f"must be 0..{MAX_RECORDS - 1}, got {leaf_index}")
    if not is_batch_id(batch_id):
        raise _bad_argument("batch_id", f"{batch_id!r:.80} must match [A-Za-z0-9._:-]{{1,128}}")
    out = bytearray()
    n = leaf_index
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + batch_id.encode("ascii")


def decode_record_value(value: bytes) -> RecordValue:
    """Decode a record value strictly: minimal varint below ``MAX_RECORDS``, a batch id."""
    first = value[0] if value else 0x80
    if first < 0x80:  # one-byte varint: leaf index < 128, the common case kept fast
        index, pos = first, 1
    else:
        index, shift, pos = 0, 0, 0
        while True:
            if pos >= len(value) or pos >= 3:
                raise _corrupt("record value", "leaf index varint is truncated or too long")
            byte = value[pos]
            index |= (byte & 0x7F) << shift
            pos += 1
            if byte < 0x80:
                if byte == 0:
                    raise _corrupt("record value", "leaf index is not a minimal varint")
                break
            shift += 7
        if index >= MAX_RECORDS:
            raise _corrupt("record value", f"leaf index {index} is not below {MAX_RECORDS}")
    raw_id = value[pos:]
    if _ID_BYTES.fullmatch(raw_id) is None:
        raise _corrupt("record value", f"bad batch id {raw_id[:80]!r}")
    return RecordValue(index, raw_id.decode("ascii"))


# -- strict JSON --------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate field {key!r:.40}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_json(
    data: bytes, fields: tuple[str, ...], what: str, refusal: RefusalCode
) -> dict[str, Any]:
    """One JSON object with exactly ``fields``: UTF-8, no duplicate keys, nothing trailing."""
    try:
        text = bytes(data).decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise OnChainFormatError(refusal, what, f"not strict UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise OnChainFormatError(refusal, what, f"must be a JSON object, got {_kind(obj)}")
    if obj.keys() != set(fields):
        missing = [f for f in fields if f not in obj]
        unknown = sorted(k for k in obj if k not in fields)
        raise OnChainFormatError(
            refusal, what, f"wrong fields (missing: {missing}, unknown: {unknown})"
        )
    return obj


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _matching(
    obj: dict[str, Any], name: str, pattern: re.Pattern[str], refusal: RefusalCode
) -> str:
    value = obj[name]
    if not isinstance(value, str):
        raise OnChainFormatError(refusal, name, f"must be a string, got {_kind(value)}")
    if pattern.fullmatch(value) is None:
        raise OnChainFormatError(refusal, name, f"bad value {value!r:.80}")
    return value


# -- batch values -------------------------------------------------------------------------------


class BatchValue(NamedTuple):
    batch_id: str
    root: bytes
    size: int
    tx_id: str
    msp: str
    ts: datetime


def parse_rfc3339(text: str) -> datetime:
    """A Go ``time.RFC3339Nano`` UTC timestamp, to the microsecond (nanoseconds truncated)."""
    m = _RFC3339_UTC.fullmatch(text)
    if m is None:
        raise _corrupt("ts", f"{text!r:.80} is not RFC 3339 UTC (Go RFC3339Nano)")
    try:
        moment = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
    except ValueError as exc:
        raise _corrupt("ts", f"{text!r:.80}: {exc}") from None
    fraction = m.group(2)
    if fraction:
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment


def encode_batch_value(
    batch_id: str, root: bytes, size: int, tx_id: str, msp: str, ts: str
) -> bytes:
    """The batch value exactly as the chaincode writes it (compact JSON, field order fixed)."""
    value = {"batch_id": batch_id, "root": root.hex(), "size": size, "tx_id": tx_id}
    value |= {"msp": msp, "ts": ts}
    encoded = json.dumps(value, separators=(",", ":")).encode()
    decode_batch_value(encoded)  # never produce what the decoder would refuse
    return encoded


def decode_batch_value(value: bytes) -> BatchValue:
    """Decode a batch value strictly (fields ``batch_id root size tx_id msp ts``)."""
    corrupt = RefusalCode.CORRUPT_VALUE
    obj = _strict_json(value, _BATCH_FIELDS, "batch value", corrupt)
    size = obj["size"]
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_RECORDS:
        raise _corrupt("size", f"must be an integer 1..{MAX_RECORDS}, got {size!r:.40}")
    ts = obj["ts"]
    if not isinstance(ts, str):
        raise _corrupt("ts", f"must be a string, got {_kind(ts)}")
    return BatchValue(
        batch_id=_matching(obj, "batch_id", _ID, corrupt),
        root=bytes.fromhex(_matching(obj, "root", _HEX64, corrupt)),
        size=size,
        tx_id=_matching(obj, "tx_id", _ID, corrupt),
        msp=_matching(obj, "msp", _ID, corrupt),
        ts=parse_rfc3339(ts),
    )


# -- the PutBatch argument ----------------------------------------------------------------------


class PutBatchArgument(NamedTuple):
    batch_id: str
    root: bytes
    #: the records' commitments in leaf order
    commitments: tuple[bytes, ...]


def encode_put_batch(batch_id: str, root: bytes, commitments: Sequence[bytes]) -> bytes:
    """PutBatch's argument: ``{"batch_id","root","records":[<commitment hex>, ...]}``."""
    if not is_batch_id(batch_id):
        raise _bad_argument("batch_id", f"{batch_id!r:.80} must match [A-Za-z0-9._:-]{{1,128}}")
    if len(root) != _COMMITMENT_BYTES:
        raise _bad_argument("root", f"must be 32 bytes, got {len(root)}")
    if not 1 <= len(commitments) <= MAX_RECORDS:
        raise _bad_argument("records", f"must hold 1..{MAX_RECORDS}, got {len(commitments)}")
    for i, c in enumerate(commitments):
        if len(c) != _COMMITMENT_BYTES:
            raise _bad_argument(f"records[{i}]", f"must be 32 bytes, got {len(c)}")
    # Ids and hex need no JSON escaping, so the text is built directly (hot path).
    records = '","'.join(c.hex() for c in commitments)
    return f'{{"batch_id":"{batch_id}","root":"{root.hex()}","records":["{records}"]}}'.encode()


def decode_put_batch(data: bytes) -> PutBatchArgument:
    """Decode and check PutBatch's argument as the chaincode does, in the same order: batch
    id, root, number of records, then each record (hex, then not seen before)."""
    bad = RefusalCode.BAD_ARGUMENT
    obj = _strict_json(data, _PUT_BATCH_FIELDS, "PutBatch argument", bad)
    for name in _PUT_BATCH_FIELDS[:2]:
        if not isinstance(obj[name], str):
            raise _bad_argument(name, f"must be a string, got {_kind(obj[name])}")
    records = obj["records"]
    if not isinstance(records, list):
        raise _bad_argument("records", f"must be an array of strings, got {_kind(records)}")
    for i, item in enumerate(records):
        if not isinstance(item, str):
            raise _bad_argument(f"records[{i}]", f"must be a string, got {_kind(item)}")
    batch_id = _matching(obj, "batch_id", _ID, bad)
    root = bytes.fromhex(_matching(obj, "root", _HEX64, bad))
    if not 1 <= len(records) <= MAX_RECORDS:
        raise _bad_argument("records", f"must hold 1..{MAX_RECORDS} records, got {len(records)}")
    seen: dict[str, int] = {}
    for i, text in enumerate(records):
        if _HEX64.fullmatch(text) is None:
            raise _bad_argument(f"records[{i}]", f"{text!r:.80} is not 64 lowercase hex digits")
        first = seen.setdefault(text, i)
        if first != i:
            raise OnChainFormatError(
                RefusalCode.DUPLICATE_IN_BATCH,
                f"records[{i}]",
                f"commitment {text[:16]}.. repeats records[{first}]",
            )
    return PutBatchArgument(batch_id, root, tuple(bytes.fromhex(t) for t in records))


# -- refusals -----------------------------------------------------------------------------------

_REFUSAL = re.compile(r"\[([a-z_]+)\] ")


def parse_refusal(message: str) -> tuple[RefusalCode | None, str]:
    """``(code, text)`` of a chaincode error message ``[code] text``.

    The gateway wraps the chaincode's message (``... chaincode response 500, [code] text``),
    so the first bracketed known code anywhere in ``message`` counts; ``(None, message)``
    when there is none."""
    for m in _REFUSAL.finditer(message):
        try:
            code = RefusalCode(m.group(1))
        except ValueError:
            continue
        return code, message[m.end() :]
    return None, message
