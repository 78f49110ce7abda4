"""The shape of a checkpoint-form bundle (``credit-ledger-evidence/5``), parsed before any
cryptography (docs/evidence-format.md §8).

Exact fields everywhere (an unknown, missing, ``null`` or mistyped field is refused by its
dotted name); the strict JSON rules of :func:`.bundle.load_json` (UTF-8 without BOM, no
duplicate keys, no NaN) apply first. A problem with the top level, the checkpoint or the
anchor raises :class:`BundleShapeError` (one bundle-level error); a malformed record entry
becomes a :class:`MalformedRecord` (that record fails step 0, the others go on).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import pybase64

from credit_ledger_verify.evidence.bundle import BundleShapeError, MalformedRecord
from credit_ledger_verify.evidence.model import CHECKPOINT_BUNDLE_FORMAT
from credit_ledger_verify.merkle import HASH_SIZE

__all__ = ["CheckpointAnchor", "CheckpointBundle", "LogRecordEntry", "parse_checkpoint_bundle"]

FORM = "checkpoint"
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TOP = {"format", "form", "created_at", "records", "checkpoint", "anchor"}
_ANCHOR = {"block_number", "previous_hash", "tx_index", "cas", "packed"}
_RECORD = {"record_id", "content", "salt", "commitment", "log"}
_LOG = {"leaf_index", "proof"}
#: an RFC 6962 inclusion proof of a tree below 2^64 leaves has at most 64 hashes
_MAX_PROOF_HASHES = 64
_MAX_PACKED_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class LogRecordEntry:
    """A well-formed record entry of the checkpoint form (``content``/``salt`` ``None`` and
    ``commitment`` set: redacted). ``content`` is the record as a JSON object: its committed
    bytes are its RFC 8785 canonical form, re-derived in step 1; a full entry's
    ``record_id`` is the content's (not carried beside it)."""

    record_id: str
    content: Mapping[str, Any] | None
    salt: bytes | None
    commitment: bytes | None
    leaf_index: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class CheckpointAnchor:
    """Where the checkpoint was anchored: its transaction's block (header fields and the
    packed data/metadata, still compressed) and the transaction's position in it. The
    header's data hash is not carried: it is the hash of the unpacked data, and the orderer's
    signature over the header made with it is what binds the data."""

    block_number: int
    previous_hash: bytes
    tx_index: int
    #: the MSPs whose CA certificates (from the verifier's trust store) prime the unpacking
    cas: tuple[str, ...]
    packed: bytes


@dataclass(frozen=True, slots=True)
class CheckpointBundle:
    records: tuple[LogRecordEntry | MalformedRecord, ...]
    #: the signed checkpoint note (log signature and any witness cosignatures), as text
    checkpoint: str
    anchor: CheckpointAnchor


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _fields(obj: Mapping[str, Any], allowed: set[str], required: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise BundleShapeError(f"{where}: unknown field {unknown[0]!r}", field=unknown[0])
    for name in sorted(required):
        if name not in obj:
            raise BundleShapeError(f"{where}: missing field {name!r}", field=name)
    for name, value in obj.items():
        if value is None:
            raise BundleShapeError(f"{where}: {name!r} is null", field=name)


def _b64(value: object, what: str, limit: int) -> bytes:
    if isinstance(value, bytes):  # the CBOR serialisation carries binary fields as bytes
        if len(value) > limit * 3 // 4:
            raise ValueError(f"{what} must be at most {limit * 3 // 4} bytes")
        return value
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{what} must be base64 text of at most {limit} characters")
    try:
        return pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not valid base64: {exc}") from None


def _hash32(value: object, what: str) -> bytes:
    """A 32-byte value as this form writes binary: standard base64 with padding."""
    raw = _b64(value, what, 44)
    if len(raw) != HASH_SIZE:
        raise ValueError(f"{what} must be base64 of {HASH_SIZE} bytes, got {len(raw)}")
    return raw


def parse_checkpoint_bundle(obj: Mapping[str, Any]) -> CheckpointBundle:
    """A ``credit-ledger-evidence/5`` bundle's shape (the ``format`` is already checked).

    Raises:
        BundleShapeError: the top level, the checkpoint or the anchor is malformed.
    """
    _fields(obj, _TOP, _TOP - {"created_at"}, "bundle")
    if obj["form"] != FORM:
        raise BundleShapeError(
            f"{CHECKPOINT_BUNDLE_FORMAT} bundle form {obj['form']!r} is unknown; this verifier "
            f"knows the form {FORM!r} (the batch form is credit-ledger-evidence/3)",
            field="form",
        )
    if "created_at" in obj and not isinstance(obj["created_at"], str):
        raise BundleShapeError("bundle field 'created_at' must be a string", field="created_at")
    note = obj["checkpoint"]
    if not isinstance(note, str) or not note:
        raise BundleShapeError(
            "'checkpoint' must be the signed checkpoint note (text)", field="checkpoint"
        )
    records = obj["records"]
    if not isinstance(records, list) or not records:
        raise BundleShapeError("'records' must be a non-empty list", field="records")
    return CheckpointBundle(
        records=tuple(_record(i, r) for i, r in enumerate(records)),
        checkpoint=note,
        anchor=_anchor(obj["anchor"]),
    )


def _anchor(raw: object) -> CheckpointAnchor:
    if not isinstance(raw, Mapping):
        raise BundleShapeError("'anchor' must be an object", field="anchor")
    _fields(raw, _ANCHOR, _ANCHOR, "anchor")
    number, index = raw["block_number"], raw["tx_index"]
    if not _is_int(number) or number < 0:
        raise BundleShapeError(
            "anchor.block_number must be a non-negative integer", field="block_number"
        )
    if not _is_int(index) or index < 0:
        raise BundleShapeError("anchor.tx_index must be a non-negative integer", field="tx_index")
    try:
        previous_hash = _hash32(raw["previous_hash"], "anchor.previous_hash")
    except ValueError as exc:
        raise BundleShapeError(str(exc), field="previous_hash") from None
    cas = raw["cas"]
    if (
        not isinstance(cas, list)
        or not all(isinstance(m, str) and _ID.fullmatch(m) for m in cas)
        or len(set(cas)) != len(cas)
    ):
        raise BundleShapeError("anchor.cas must be a list of distinct MSP ids", field="cas")
    try:
        packed = _b64(raw["packed"], "anchor.packed", _MAX_PACKED_CHARS)
    except ValueError as exc:
        raise BundleShapeError(str(exc), field="packed") from None
    return CheckpointAnchor(number, previous_hash, index, tuple(cas), packed)


def _record(position: int, raw: object) -> LogRecordEntry | MalformedRecord:
    label = raw.get("record_id") if isinstance(raw, Mapping) else None
    content = raw.get("content") if isinstance(raw, Mapping) else None
    if label is None and isinstance(content, Mapping):
        label = content.get("record_id")
    rid = label if isinstance(label, str) else f"records[{position}]"
    try:
        return _record_entry(raw)
    except ValueError as exc:
        return MalformedRecord(record_id=rid, reason=str(exc))


def _record_entry(raw: object) -> LogRecordEntry:
    if not isinstance(raw, Mapping):
        raise ValueError("a record entry must be a JSON object")
    unknown = sorted(set(raw) - _RECORD)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    nulls = sorted(k for k, v in raw.items() if v is None)
    if nulls:
        raise ValueError(f"{nulls[0]} is null: leave a field out, never set it to null")
    content, salt, commitment = raw.get("content"), raw.get("salt"), raw.get("commitment")
    if content is not None or salt is not None:
        # full: the commitment is SHA-256(salt ‖ content), computed, so it is not carried;
        # nor is the record id: the content names its record (one reading only)
        if content is None or salt is None or commitment is not None:
            raise ValueError(
                "a record carries content and salt (full) or only its commitment (redacted)"
            )
        if not isinstance(content, Mapping):
            raise ValueError(
                "content must be a JSON object (the record; its RFC 8785 form is committed)"
            )
        if "record_id" in raw:
            raise ValueError(
                "a full record is named by its content's record_id; record_id is carried by "
                "redacted entries only"
            )
        rid = content.get("record_id")
        what = "content.record_id"
        salt_bytes: bytes | None = _hash32(salt, "salt")
        commitment_bytes = None
    else:
        rid, what = raw.get("record_id"), "record_id"
        salt_bytes, commitment_bytes = None, _hash32(commitment, "a redacted record's commitment")
    if not isinstance(rid, str) or _ID.fullmatch(rid) is None:
        raise ValueError(f"{what} must be a record id ([A-Za-z0-9._:-], 1-128 characters)")
    log = raw.get("log")
    if not isinstance(log, Mapping) or set(log) != _LOG:
        raise ValueError("log must be an object {leaf_index, proof}")
    leaf_index = log["leaf_index"]
    if not _is_int(leaf_index) or leaf_index < 0:
        raise ValueError("log.leaf_index must be a non-negative integer")
    proof = _b64(log["proof"], "log.proof", 4 * _MAX_PROOF_HASHES * HASH_SIZE // 3 + 4)
    if len(proof) % HASH_SIZE:
        raise ValueError(f"log.proof must be whole {HASH_SIZE}-byte hashes, got {len(proof)} bytes")
    return LogRecordEntry(
        record_id=rid,
        content=content,
        salt=salt_bytes,
        commitment=commitment_bytes,
        leaf_index=leaf_index,
        proof=tuple(proof[i : i + HASH_SIZE] for i in range(0, len(proof), HASH_SIZE)),
    )
