"""Pure decoding of the ledger chaincode's on-chain layout from Fabric blocks (no I/O).

The layout (chaincode/README.md, "On-chain layout") — composite keys in the chaincode's
namespace; batch values are compact JSON, record values binary::

    \\x00batch\\x00<batch_id>\\x00  {"batch_id":..,"root":..,"size":N,"tx_id":..,"msp":..,"ts":..}
    \\x00rec\\x00<record_id>\\x00   commitment (32 bytes) ‖ leaf index (uvarint) ‖ batch_id
    \\x00touch\\x00<key>\\x00       <tx id>  (ignored here)

:func:`extract_block` takes a ``common.Block`` and returns the rows to mirror. It decodes
only what a replay needs (validation codes, channel headers, the namespace's write sets) and
skips endorsements and read sets, which :func:`fabric_gateway.blocks.parse_block` would decode
too — at thousands of writes per transaction that is most of the cost. Only VALID
``ENDORSER_TRANSACTION`` envelopes count: an invalidated transaction wrote nothing, even
though its write set is in the block.

Values under ``rec`` / ``batch`` keys are checked strictly (exact fields, types, hex, id
pattern). A write that breaks the layout is not mirrored: it becomes an *anomaly* (a message
naming block, transaction and key) for the operator, and the replay goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from fabric_gateway.blocks import block_data_hash, block_header_hash, transactions_filter
from fabric_gateway.envelope import (
    EnvelopeError,
    EnvelopeHeader,
    decode_actions,
    decode_header,
    kv_rwset,
)
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2

from ledger_service.errors import LedgerError
from ledger_service.evidence.model import decode_record_value

__all__ = [
    "BATCH_KEY_TYPE",
    "RECORD_KEY_TYPE",
    "BatchValue",
    "BlockRows",
    "ChainBatchRow",
    "ChainIntegrityError",
    "ChainLayoutError",
    "ChainRecordRow",
    "RecordValue",
    "composite_key",
    "extract_block",
    "extract_writes",
    "parse_batch_value",
    "parse_composite_key",
    "parse_record_value",
    "parse_rfc3339",
]

RECORD_KEY_TYPE = "rec"
BATCH_KEY_TYPE = "batch"
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# RFC 3339 in UTC as Go's time.RFC3339Nano writes it: fraction optional, trailing zeros trimmed.
_RFC3339_UTC = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z")
_VALID = transaction_pb2.VALID
_ENDORSER_TRANSACTION = common_pb2.ENDORSER_TRANSACTION
_BATCH_FIELDS = frozenset(("batch_id", "root", "size", "tx_id", "msp", "ts"))


class ChainLayoutError(LedgerError, ValueError):
    """A key or value in the chaincode's namespace does not follow the documented layout."""

    code: ClassVar[str] = "chain_layout"


class ChainIntegrityError(LedgerError):
    """Blocks that do not form a chain: wrong number, data hash or previous-block hash."""

    code: ClassVar[str] = "chain_integrity"


class RecordValue(NamedTuple):
    commitment: bytes
    batch_id: str
    leaf_index: int


class BatchValue(NamedTuple):
    batch_id: str
    root: bytes
    size: int
    tx_id: str
    msp: str
    ts: datetime


class ChainBatchRow(NamedTuple):
    """One ``chain_batches`` row (column order of the table)."""

    batch_id: str
    root: bytes
    size: int
    tx_id: str
    block_number: int
    tx_index: int
    creator_msp: str
    tx_timestamp: datetime


class ChainRecordRow(NamedTuple):
    """One ``chain_records`` row (column order of the table)."""

    record_id: str
    commitment: bytes
    batch_id: str
    leaf_index: int
    block_number: int
    tx_id: str


@dataclass(slots=True)
class BlockRows:
    """What one block contributes to the mirror."""

    number: int
    previous_hash: bytes
    data_hash: bytes
    header_hash: bytes
    batches: list[ChainBatchRow] = field(default_factory=list)
    records: list[ChainRecordRow] = field(default_factory=list)
    #: raw envelope of each transaction that wrote a batch key, by batch id
    envelopes: dict[str, bytes] = field(default_factory=dict)
    valid_transactions: int = 0
    #: transactions not mirrored: invalid ones (any type), undecodable ones
    skipped_transactions: int = 0
    anomalies: list[str] = field(default_factory=list)


# -- keys and values ----------------------------------------------------------------------------


def composite_key(object_type: str, key: str) -> str:
    """``shim.CreateCompositeKey(object_type, [key])``: ``\\x00type\\x00key\\x00``."""
    return f"\x00{object_type}\x00{key}\x00"


def parse_composite_key(key: str) -> tuple[str, str] | None:
    """``(object type, id)`` of a single-attribute composite key, or ``None`` for any other key."""
    if len(key) < 4 or key[0] != "\x00" or key[-1] != "\x00":
        return None
    parts = key[1:-1].split("\x00")
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


def _object(value: bytes, fields: frozenset[str], what: str) -> dict[str, Any]:
    try:
        obj = json.loads(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChainLayoutError(f"{what} value is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ChainLayoutError(f"{what} value must be a JSON object, found {type(obj).__name__}")
    keys = obj.keys()
    if keys != fields:
        missing = sorted(fields - keys)
        unknown = sorted(keys - fields)
        raise ChainLayoutError(
            f"{what} value has the wrong fields (missing: {missing}, unknown: {unknown})"
        )
    return obj


def _string(obj: dict[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str:
    v = obj[name]
    if not isinstance(v, str) or not pattern.fullmatch(v):
        raise ChainLayoutError(f"{what} field {name!r}: bad value {v!r:.80}")
    return v


def _count(obj: dict[str, Any], name: str, minimum: int, what: str) -> int:
    v = obj[name]
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise ChainLayoutError(f"{what} field {name!r}: must be an integer >= {minimum}, got {v!r}")
    return v


def parse_record_value(value: bytes) -> RecordValue:
    """Decode ``commitment (32 bytes) ‖ leaf index (uvarint) ‖ batch id`` strictly."""
    try:
        c, i, b = decode_record_value(value)
    except ValueError as exc:
        raise ChainLayoutError(str(exc)) from None
    return RecordValue(c, b, i)


def parse_rfc3339(text: str) -> datetime:
    """A Go ``time.RFC3339Nano`` UTC timestamp, to the microsecond (nanoseconds truncated)."""
    m = _RFC3339_UTC.fullmatch(text)
    if m is None:
        raise ChainLayoutError(f"timestamp {text!r:.80} is not RFC 3339 UTC")
    try:
        moment = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ChainLayoutError(f"timestamp {text!r:.80}: {exc}") from None
    fraction = m.group(2)
    if fraction:
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment


def parse_batch_value(value: bytes) -> BatchValue:
    """Decode the batch value (fields ``batch_id root size tx_id msp ts``) strictly."""
    obj = _object(value, _BATCH_FIELDS, "batch")
    msp = obj["msp"]
    if not isinstance(msp, str) or not msp or len(msp) > 256:
        raise ChainLayoutError(f"batch field 'msp': bad value {msp!r:.80}")
    tx_id = obj["tx_id"]
    if not isinstance(tx_id, str) or not tx_id or len(tx_id) > 128:
        raise ChainLayoutError(f"batch field 'tx_id': bad value {tx_id!r:.80}")
    ts = obj["ts"]
    if not isinstance(ts, str):
        raise ChainLayoutError(f"batch field 'ts': must be a string, got {ts!r:.80}")
    return BatchValue(
        batch_id=_string(obj, "batch_id", _ID, "batch"),
        root=bytes.fromhex(_string(obj, "root", _HEX64, "batch")),
        size=_count(obj, "size", 1, "batch"),
        tx_id=tx_id,
        msp=msp,
        ts=parse_rfc3339(ts),
    )


def extract_writes(
    writes: list[tuple[str, bytes, bool]],
    *,
    block_number: int,
    tx_index: int,
    tx_id: str,
    out: BlockRows,
) -> bool:
    """Turn one valid transaction's writes in the ledger namespace into mirror rows.

    ``writes`` are ``(key, value, is_delete)``. Appends to ``out`` (rows and anomalies);
    returns whether the transaction wrote a batch key.
    """
    where = f"block {block_number} tx {tx_index} ({tx_id})"
    batch_ids: set[str] = set()
    first_record = len(out.records)
    records = out.records
    id_ok = _ID.fullmatch
    for key, value, is_delete in writes:
        # fast path: a well-formed record key and value
        if not is_delete and key[:5] == "\x00rec\x00" and key[-1:] == "\x00":
            ident = key[5:-1]
            if id_ok(ident):
                try:
                    c, i, b = decode_record_value(value)
                except ValueError:
                    pass  # the slow path below reports it
                else:
                    records.append(ChainRecordRow(ident, c, b, i, block_number, tx_id))
                    continue
        parsed = parse_composite_key(key)
        if parsed is None:
            out.anomalies.append(f"{where}: unexpected key {key!r:.80} (not a composite key)")
            continue
        kind, ident = parsed
        if kind not in (RECORD_KEY_TYPE, BATCH_KEY_TYPE):
            continue  # touch keys (and any future key types) are not mirrored
        if is_delete:
            out.anomalies.append(f"{where}: key {key!r:.80} deleted (the chaincode never deletes)")
            continue
        try:
            if kind == RECORD_KEY_TYPE:
                if not _ID.fullmatch(ident):
                    raise ChainLayoutError(f"bad record id {ident!r:.80}")
                c, b, i = parse_record_value(value)
                out.records.append(ChainRecordRow(ident, c, b, i, block_number, tx_id))
            else:
                bv = parse_batch_value(value)
                if bv.batch_id != ident:
                    raise ChainLayoutError(
                        f"batch value names {bv.batch_id!r}, key names {ident!r}"
                    )
                if bv.tx_id != tx_id:
                    raise ChainLayoutError(f"batch value names tx {bv.tx_id!r}")
                out.batches.append(
                    ChainBatchRow(
                        bv.batch_id, bv.root, bv.size, tx_id, block_number, tx_index, bv.msp, bv.ts
                    )
                )
                batch_ids.add(ident)
        except ChainLayoutError as exc:
            out.anomalies.append(f"{where}: key {key!r:.80}: {exc}")
    for row in out.records[first_record:]:
        if row.batch_id not in batch_ids:
            out.anomalies.append(
                f"{where}: record {row.record_id!r} names batch {row.batch_id!r}, "
                "which this transaction does not write"
            )
    return bool(batch_ids)


# -- blocks ---------------------------------------------------------------------------------------


def _namespace_writes(header: EnvelopeHeader, namespace: str) -> list[tuple[str, bytes, bool]]:
    writes: list[tuple[str, bytes, bool]] = []
    for action in decode_actions(header):
        for ns in action.namespaces:
            if ns.namespace == namespace:
                writes.extend((w.key, w.value, w.is_delete) for w in kv_rwset(ns).writes)
    return writes


def extract_block(
    block: common_pb2.Block | bytes, namespace: str, *, keep_envelopes: bool = False
) -> BlockRows:
    """The mirror rows of one block: writes of VALID endorser transactions in ``namespace``.

    Checks that ``header.data_hash`` matches the block's data (a block whose content was
    changed is refused with :class:`ChainIntegrityError`). With ``keep_envelopes`` the raw
    envelope of every transaction that wrote a batch is kept (to restore the index's
    ``batches.envelope``).
    """
    if not isinstance(block, common_pb2.Block):
        block = common_pb2.Block.FromString(block)
    block_header = block.header
    header_number = block_header.number
    data = block.data.data
    if block_data_hash(data) != block_header.data_hash:
        raise ChainIntegrityError(f"block {header_number}: data hash does not match its data")
    out = BlockRows(
        number=header_number,
        previous_hash=block_header.previous_hash,
        data_hash=block_header.data_hash,
        header_hash=block_header_hash(
            header_number, block_header.previous_hash, block_header.data_hash
        ),
    )
    codes = transactions_filter(block)
    for index, raw in enumerate(data):
        if index >= len(codes) or codes[index] != _VALID:
            out.skipped_transactions += 1
            continue
        try:
            header = decode_header(raw)
            if header.header_type != _ENDORSER_TRANSACTION:
                out.valid_transactions += 1
                continue
            writes = _namespace_writes(header, namespace)
        except EnvelopeError as exc:
            out.skipped_transactions += 1
            out.anomalies.append(f"block {header_number} tx {index}: undecodable: {exc}")
            continue
        out.valid_transactions += 1
        if not writes:
            continue
        first_batch = len(out.batches)
        wrote_batch = extract_writes(
            writes, block_number=header_number, tx_index=index, tx_id=header.tx_id, out=out
        )
        if keep_envelopes and wrote_batch:
            for row in out.batches[first_batch:]:
                out.envelopes[row.batch_id] = bytes(raw)
    return out
