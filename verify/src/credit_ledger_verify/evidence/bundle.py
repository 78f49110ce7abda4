"""The *shape* of an evidence bundle, parsed before any cryptography (docs/evidence-format.md).

Strict JSON in, typed objects out. Everything that can be wrong with a bundle without
looking inside its Fabric bytes is found here:

* the encoding: UTF-8 only — no byte order mark, no UTF-16/UTF-32 (``json.loads`` would
  guess those), no ``NaN``/``Infinity``;
* duplicate object keys anywhere in the bundle (last-wins parsing would let two verifiers
  see two different bundles);
* ``null`` in place of a value (a redacted record *leaves out* ``content`` and ``salt``);
* the fields, types and syntax of the top level, each record entry and each block entry.

A problem with the bundle as a whole raises :class:`BundleShapeError` (the verifier reports
it as the bundle-level error). A malformed record entry becomes a :class:`MalformedRecord`
(the record fails step 0, the others go on); a malformed block entry keeps its reason in
:attr:`BlockEntry.format_error` (records anchored in it fail step 5).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, TypeGuard

from credit_ledger_verify.commitments import COMMITMENT_BYTES, SALT_BYTES
from credit_ledger_verify.evidence.lineage_shape import (
    LineageSection,
    ShapeProblem,
    parse_lineage_section,
)
from credit_ledger_verify.evidence.model import (
    ACCESS_BUNDLE_FORMAT,
    BUNDLE_FORMAT,
    CHECKPOINT_BUNDLE_FORMAT,
    LINEAGE_BUNDLE_FORMAT,
    RETIRED_FORMATS,
    EvidenceError,
)

__all__ = [
    "BlockEntry",
    "Bundle",
    "BundleShapeError",
    "MalformedRecord",
    "RecordEntry",
    "load_json",
    "parse_access_entry",
    "parse_bundle",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX_RUN = re.compile(r"[0-9a-f]*")
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class BundleShapeError(EvidenceError):
    """The bundle as a whole cannot be read: encoding, JSON, duplicate keys, top level."""

    code: ClassVar[str] = "evidence_bundle_shape"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """A well-formed record entry (``content``/``salt`` ``None``: redacted), or an access-log
    entry of an access bundle (``access_entry_id`` set; ``record_id`` is then its label
    ``access-<id>``)."""

    record_id: str
    commitment: str
    content: str | None
    salt: str | None
    leaf_index: int
    tree_size: int
    proof: list[str]
    channel: str
    chaincode: str
    batch_id: str
    tx_id: str
    block_number: int
    access_entry_id: int | None = None
    #: an erased record's ``erasure.record_id``: the erasure record (another entry of the
    #: same bundle) that says it was lawfully erased (docs/evidence-format.md §8)
    erasure_record: str | None = None


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """A record entry that failed the shape step: its label and why."""

    record_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """A block entry; text fields as the bundle has them (base64 decoding is step 5's)."""

    number: int
    previous_hash: str = ""
    data_hash: str = ""
    signatures: str = ""
    transactions_filter: str = ""
    data: tuple[str, ...] = ()
    #: tx id -> position in ``data``, as the bundle's ``transactions`` list claims
    tx_indexes: Mapping[str, int] | None = None
    #: why ``transactions`` cannot be used (records anchored here fail step 5)
    transactions_error: str | None = None
    #: why the block fields cannot be used (nothing about the block can be checked)
    format_error: str | None = None

    def cache_key(self) -> bytes:
        """SHA-256 over the header and metadata fields and the number of data entries (the
        data entries themselves are compared in full on a cache hit)."""
        text = "\n".join(
            (
                str(self.number),
                self.previous_hash,
                self.data_hash,
                self.signatures,
                self.transactions_filter,
                str(len(self.data)),
            )
        )
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True, slots=True)
class Bundle:
    records: tuple[RecordEntry | MalformedRecord, ...]
    blocks: Mapping[int, BlockEntry]
    #: the ``lineage`` section of a lineage bundle (``None`` for an evidence bundle)
    lineage: LineageSection | None = None


# -- strict JSON --------------------------------------------------------------------------------


class _DuplicateKey(BundleShapeError):
    """Internal: raised from the JSON decoder's hook, reported as a BundleShapeError."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


#: built once: ``json.loads`` with hooks builds a decoder per call (~3 µs per bundle)
_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def load_json(data: bytes | bytearray | str) -> Any:
    """Parse bundle bytes (or text) as strict JSON: UTF-8 without BOM, unique keys.

    Raises:
        BundleShapeError: naming what is wrong.
    """
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        if raw.startswith(_BOMS) or raw.startswith(b"\x00\x00\xfe\xff"):
            raise BundleShapeError(
                "bundle starts with a byte order mark; it must be UTF-8 without BOM"
            )
        if b"\x00" in raw[:4]:
            raise BundleShapeError("bundle is not UTF-8 (it looks like UTF-16 or UTF-32)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleShapeError(f"bundle is not UTF-8: {exc}") from None
    else:
        text = data
        if text.startswith("\ufeff"):
            raise BundleShapeError(
                "bundle starts with a byte order mark; it must be UTF-8 without BOM"
            )
    try:
        return _STRICT_DECODER.decode(text)
    except _DuplicateKey as exc:
        raise BundleShapeError(
            f"bundle is not valid JSON: object key {exc.args[0]!r} appears twice", field=exc.args[0]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise BundleShapeError(f"bundle is not valid JSON: {exc}") from None


# -- the bundle ---------------------------------------------------------------------------------


def parse_bundle(data: bytes | bytearray | str | Mapping[str, Any]) -> Bundle:
    """The bundle's shape: strict JSON (unless already parsed), top level, record entries,
    block entries.

    Raises:
        BundleShapeError: the bundle as a whole is unreadable.
    """
    obj = data if isinstance(data, Mapping) else load_json(data)
    if not isinstance(obj, Mapping):
        raise BundleShapeError("bundle must be a JSON object")
    fmt = obj.get("format")
    if isinstance(fmt, str) and fmt in RETIRED_FORMATS:
        raise BundleShapeError(
            f"bundle format {fmt!r} is no longer supported: it is for {RETIRED_FORMATS[fmt]}; "
            f"this verifier checks {BUNDLE_FORMAT} (record keys on chain are commitments) and "
            f"the checkpoint form {CHECKPOINT_BUNDLE_FORMAT} — fetch the bundle again from the "
            "service",
            field="format",
        )
    if fmt not in (BUNDLE_FORMAT, LINEAGE_BUNDLE_FORMAT, ACCESS_BUNDLE_FORMAT):
        what = "has no format field" if fmt is None else f"has format {fmt!r}"
        raise BundleShapeError(
            f"not a {BUNDLE_FORMAT} evidence bundle, {CHECKPOINT_BUNDLE_FORMAT} "
            f"checkpoint-form bundle, {LINEAGE_BUNDLE_FORMAT} lineage bundle or "
            f"{ACCESS_BUNDLE_FORMAT} access-log bundle: it {what}",
            field="format",
        )
    lineage = _lineage(obj) if fmt == LINEAGE_BUNDLE_FORMAT else None
    if lineage is None and "lineage" in obj:
        raise BundleShapeError(
            f"a {BUNDLE_FORMAT} bundle has no 'lineage' section; a lineage bundle's format is "
            f"{LINEAGE_BUNDLE_FORMAT}",
            field="lineage",
        )
    if "created_at" in obj and not isinstance(obj["created_at"], str):
        raise BundleShapeError("bundle field 'created_at' must be a string", field="created_at")
    access = fmt == ACCESS_BUNDLE_FORMAT
    listed = "entries" if access else "records"
    if access and "records" in obj:
        raise BundleShapeError(
            f"a {ACCESS_BUNDLE_FORMAT} bundle lists access-log 'entries', not 'records'",
            field="records",
        )
    records, block_list = obj.get(listed), obj.get("blocks")
    if not isinstance(records, list):
        raise BundleShapeError(f"bundle field '{listed}' must be a list", field=listed)
    if not isinstance(block_list, list):
        raise BundleShapeError("bundle field 'blocks' must be a list", field="blocks")
    by_number: dict[int, BlockEntry] = {}
    for i, raw in enumerate(block_list):
        number = raw.get("number") if isinstance(raw, Mapping) else None
        if not _is_int(number) or number < 0:
            raise BundleShapeError(
                f"blocks[{i}]: 'number' must be a non-negative integer", field="number"
            )
        if number in by_number:
            raise BundleShapeError(f"block {number} appears twice", field="blocks")
        assert isinstance(raw, Mapping)
        by_number[number] = parse_block_entry(number, raw)
    parse = parse_access_entry if access else parse_record_entry
    entries = tuple(parse(i, r) for i, r in enumerate(records))
    if lineage is not None:
        _nodes_once(entries)
    return Bundle(records=entries, blocks=by_number, lineage=lineage)


def _lineage(obj: Mapping[str, Any]) -> LineageSection:
    if "lineage" not in obj:
        raise BundleShapeError(
            f"a {LINEAGE_BUNDLE_FORMAT} bundle must have a 'lineage' section", field="lineage"
        )
    section = parse_lineage_section(obj["lineage"])
    if isinstance(section, ShapeProblem):
        raise BundleShapeError(section.message, field=section.field)
    return section


def _nodes_once(entries: tuple[RecordEntry | MalformedRecord, ...]) -> None:
    """A lineage bundle's records are its nodes: each record id once."""
    seen: set[str] = set()
    for entry in entries:
        if entry.record_id in seen:
            raise BundleShapeError(
                f"record {entry.record_id!r} appears twice in a lineage bundle", field="records"
            )
        seen.add(entry.record_id)


def parse_block_entry(number: int, raw: Mapping[str, Any]) -> BlockEntry:
    """One block entry; a malformed one keeps the reason (it fails step 5 for its records)."""
    try:
        metadata = raw["metadata"]
        fields = (raw["previous_hash"], raw["data_hash"])
        texts = (metadata["signatures"], metadata["transactions_filter"])
        data = raw["data"]
    except (KeyError, TypeError) as exc:
        return BlockEntry(number, format_error=f"block {number}: missing field {exc}")
    for name, value in zip(("previous_hash", "data_hash"), fields, strict=True):
        if not _hex32(value):
            return BlockEntry(
                number, format_error=f"block {number}: '{name}' must be 64 lowercase hex digits"
            )
    for name, value in zip(("signatures", "transactions_filter"), texts, strict=True):
        if not isinstance(value, str):
            return BlockEntry(
                number, format_error=f"block {number}: 'metadata.{name}' must be base64 text"
            )
    if not isinstance(data, list):
        return BlockEntry(number, format_error=f"block {number}: 'data' must be a list")
    if not all(isinstance(item, str) for item in data):
        return BlockEntry(
            number, format_error=f"block {number}: every 'data' entry must be base64 text"
        )
    tx_indexes, transactions_error = _tx_indexes(number, raw.get("transactions"))
    return BlockEntry(
        number=number,
        previous_hash=fields[0],
        data_hash=fields[1],
        signatures=texts[0],
        transactions_filter=texts[1],
        data=tuple(data),
        tx_indexes=tx_indexes,
        transactions_error=transactions_error,
    )


def _tx_indexes(number: int, listed: object) -> tuple[dict[str, int] | None, str | None]:
    if not isinstance(listed, list):
        return None, f"block {number}: 'transactions' must be a list"
    out: dict[str, int] = {}
    for i, item in enumerate(listed):
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("tx_id"), str)
            or not _is_int(item.get("tx_index"))
        ):
            return None, f"block {number}: transactions[{i}] must be {{tx_id, tx_index}}"
        if item["tx_id"] in out:
            return None, f"block {number}: transaction {item['tx_id']!r} is listed twice"
        out[item["tx_id"]] = item["tx_index"]
    return out, None


def parse_record_entry(position: int, raw: object) -> RecordEntry | MalformedRecord:
    """One record entry, or what is wrong with it (step 0)."""
    label = raw.get("record_id") if isinstance(raw, Mapping) else None
    rid = label if isinstance(label, str) else f"records[{position}]"
    problem = _record_problem(raw)
    if isinstance(problem, str):
        return MalformedRecord(record_id=rid, reason=problem)
    return problem


def parse_access_entry(position: int, raw: object) -> RecordEntry | MalformedRecord:
    """One entry of an access-log bundle (``entry_id`` instead of ``record_id``; content and
    salt required), or what is wrong with it (step 0)."""
    if not isinstance(raw, Mapping):
        return MalformedRecord(f"entries[{position}]", "an access-log entry must be a JSON object")
    entry_id = raw.get("entry_id")
    if not _is_int(entry_id) or entry_id < 1:
        return MalformedRecord(f"entries[{position}]", "entry_id must be a positive integer")
    label = f"access-{entry_id}"
    if "record_id" in raw:
        return MalformedRecord(label, "an access-log entry has an entry_id, not a record_id")
    if raw.get("content") is None or raw.get("salt") is None:
        return MalformedRecord(label, "an access-log entry must carry content and salt")
    problem = _record_problem({**raw, "record_id": label})
    if isinstance(problem, str):
        return MalformedRecord(label, problem)
    return dataclasses.replace(problem, access_entry_id=entry_id)


def _record_problem(raw: object) -> RecordEntry | str:
    if not isinstance(raw, Mapping):
        return "a record entry must be a JSON object"
    rid = raw.get("record_id")
    if not isinstance(rid, str) or _ID.fullmatch(rid) is None:
        return "record_id must be a record id ([A-Za-z0-9._:-], 1-128 characters)"
    commitment = raw.get("commitment")
    if not _hex32(commitment):
        return f"commitment must be {2 * COMMITMENT_BYTES} lowercase hex digits"
    for name in ("content", "salt"):
        if name in raw and raw[name] is None:
            return (
                f"{name} is null: a redacted record leaves content and salt out, "
                "it does not set them to null"
            )
    content, salt = raw.get("content"), raw.get("salt")
    if (content is None) != (salt is None):
        return "content and salt must both be present (full) or both absent (redacted)"
    if content is not None and not isinstance(content, str):
        return "content must be a string (the record's canonical JSON)"
    if salt is not None and not _hex32(salt):
        return f"salt must be {2 * SALT_BYTES} lowercase hex digits"
    merkle, anchor = raw.get("merkle"), raw.get("anchor")
    if not isinstance(merkle, Mapping):
        return "merkle must be an object {leaf_index, tree_size, proof}"
    leaf_index, tree_size, proof = (
        merkle.get("leaf_index"),
        merkle.get("tree_size"),
        merkle.get("proof"),
    )
    if not _is_int(leaf_index) or leaf_index < 0:
        return "merkle.leaf_index must be a non-negative integer"
    if not _is_int(tree_size) or tree_size < 1:
        return "merkle.tree_size must be a positive integer"
    if not isinstance(proof, list) or not _hex_hashes(proof):
        return "merkle.proof must be a list of 64-hex-digit hashes"
    if not isinstance(anchor, Mapping):
        return "anchor must be an object {channel, chaincode, batch_id, tx_id, block_number}"
    channel, chaincode, batch_id, tx_id, block_number = (
        anchor.get("channel"),
        anchor.get("chaincode"),
        anchor.get("batch_id"),
        anchor.get("tx_id"),
        anchor.get("block_number"),
    )
    if not isinstance(channel, str) or not channel:
        return "anchor.channel must be a non-empty string"
    if not isinstance(chaincode, str) or not chaincode:
        return "anchor.chaincode must be a non-empty string"
    if not isinstance(tx_id, str) or not tx_id:
        return "anchor.tx_id must be a non-empty string"
    if not isinstance(batch_id, str) or _ID.fullmatch(batch_id) is None:
        return "anchor.batch_id must be a batch id ([A-Za-z0-9._:-], 1-128 characters)"
    if not _is_int(block_number) or block_number < 0:
        return "anchor.block_number must be a non-negative integer"
    erasure_record = None
    if "erasure" in raw:
        erasure = raw["erasure"]
        named = erasure.get("record_id") if isinstance(erasure, Mapping) else None
        if not isinstance(named, str) or _ID.fullmatch(named) is None or len(erasure) != 1:
            return "erasure must be an object {record_id} naming the erasure record"
        if content is not None:
            return "an erased record carries no content and salt (they were deleted)"
        if named == rid:
            return "erasure.record_id must name another record than the erased one"
        erasure_record = named
    return RecordEntry(
        record_id=rid,
        commitment=commitment,
        content=content,
        salt=salt,
        leaf_index=leaf_index,
        tree_size=tree_size,
        proof=proof,
        channel=channel,
        chaincode=chaincode,
        batch_id=batch_id,
        tx_id=tx_id,
        block_number=block_number,
        erasure_record=erasure_record,
    )


# -- syntax helpers -----------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex32(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 64 and _HEX64.fullmatch(value) is not None


def _hex_hashes(values: list[Any]) -> bool:
    """Every item is 64 lowercase hex digits (one regex over the joined list)."""
    if not all(isinstance(v, str) and len(v) == 64 for v in values):
        return False
    return _HEX_RUN.fullmatch("".join(values)) is not None
