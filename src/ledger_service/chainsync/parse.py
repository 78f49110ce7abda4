"""Pure decoding of the ledger chaincode's on-chain layout from Fabric blocks (no I/O).

The layout (keys and values) is :mod:`credit_ledger_verify.onchain`'s; this module only finds the
writes in blocks and turns them into mirror rows. Record keys are commitments, so the mirror
knows records by commitment, never by record id.

:func:`extract_block` takes a ``common.Block`` and returns the rows to mirror. It decodes
only what a replay needs (validation codes, channel headers, the namespace's write sets) and
skips endorsements and read sets, which
:func:`credit_ledger_verify.fabric.blocks.parse_block` would decode too — at thousands of
writes per transaction that is most of the cost. Only VALID
``ENDORSER_TRANSACTION`` envelopes count: an invalidated transaction wrote nothing, even
though its write set is in the block.

Keys and values under ``rec`` / ``batch`` / ``tlog`` (a checkpoint of the global log, by
size; :mod:`credit_ledger_verify.onchain_tlog`) are checked by the same strict decoders the
verifier uses. A write that breaks the layout is not mirrored: it becomes an *anomaly* (a message
naming block, transaction and key) for the operator, and the replay goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, NamedTuple

from credit_ledger_verify.fabric.blocks import (
    block_data_hash,
    block_header_hash,
    transactions_filter,
)
from credit_ledger_verify.fabric.envelope import (
    EnvelopeError,
    EnvelopeHeader,
    decode_actions,
    decode_header,
    kv_rwset,
)
from credit_ledger_verify.onchain import (
    BATCH_KEY_TYPE,
    RECORD_KEY_LENGTH,
    RECORD_KEY_TYPE,
    OnChainFormatError,
    RefusalCode,
    decode_batch_value,
    decode_record_value,
    parse_composite_key,
    parse_record_key,
)
from credit_ledger_verify.onchain_tlog import (
    TLOG_KEY_TYPE,
    decode_checkpoint_value,
    parse_checkpoint_key,
)
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2

from ledger_service.errors import LedgerError

__all__ = [
    "BlockRows",
    "ChainBatchRow",
    "ChainCheckpointRow",
    "ChainIntegrityError",
    "ChainRecordRow",
    "extract_block",
    "extract_writes",
]

_VALID = transaction_pb2.VALID
_ENDORSER_TRANSACTION = common_pb2.ENDORSER_TRANSACTION
_RECORD_PREFIX = f"\x00{RECORD_KEY_TYPE}\x00"


class ChainIntegrityError(LedgerError):
    """Blocks that do not form a chain: wrong number, data hash or previous-block hash."""

    code: ClassVar[str] = "chain_integrity"


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

    commitment: bytes
    batch_id: str
    leaf_index: int
    block_number: int
    tx_id: str


class ChainCheckpointRow(NamedTuple):
    """One ``chain_checkpoints`` row (column order of the table): an anchored checkpoint."""

    size: int
    root: bytes
    prev_size: int
    note: bytes
    tx_id: str
    block_number: int
    tx_index: int
    creator_msp: str
    #: the value's timestamp text exactly as written
    ts: str


@dataclass(slots=True)
class BlockRows:
    """What one block contributes to the mirror."""

    number: int
    previous_hash: bytes
    data_hash: bytes
    header_hash: bytes
    batches: list[ChainBatchRow] = field(default_factory=list)
    records: list[ChainRecordRow] = field(default_factory=list)
    checkpoints: list[ChainCheckpointRow] = field(default_factory=list)
    #: raw envelope of each transaction that wrote a batch key, by batch id
    envelopes: dict[str, bytes] = field(default_factory=dict)
    valid_transactions: int = 0
    #: transactions not mirrored: invalid ones (any type), undecodable ones
    skipped_transactions: int = 0
    anomalies: list[str] = field(default_factory=list)


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
    for key, value, is_delete in writes:
        # fast path: a well-formed record key and value
        if (
            not is_delete
            and key[:5] == _RECORD_PREFIX
            and len(key) == RECORD_KEY_LENGTH
            and key[-1] == "\x00"
        ):
            try:
                commitment = parse_record_key(key)
                leaf_index, batch_id = decode_record_value(value)
            except OnChainFormatError:
                pass  # the slow path below reports it
            else:
                records.append(
                    ChainRecordRow(commitment, batch_id, leaf_index, block_number, tx_id)
                )
                continue
        parsed = parse_composite_key(key)
        if parsed is None:
            out.anomalies.append(f"{where}: unexpected key {key!r:.80} (not a composite key)")
            continue
        kind, ident = parsed
        if kind not in (RECORD_KEY_TYPE, BATCH_KEY_TYPE, TLOG_KEY_TYPE):
            continue  # touch keys (and any future key types) are not mirrored
        if is_delete:
            out.anomalies.append(f"{where}: key {key!r:.80} deleted (the chaincode never deletes)")
            continue
        try:
            if kind == TLOG_KEY_TYPE:
                # the head and the log key restate what the checkpoint keys hold
                size = parse_checkpoint_key(key)
                if size is not None:
                    out.checkpoints.append(
                        _checkpoint_row(value, size, block_number, tx_index, tx_id)
                    )
            elif kind == RECORD_KEY_TYPE:
                commitment = parse_record_key(key)
                leaf_index, batch_id = decode_record_value(value)
                records.append(
                    ChainRecordRow(commitment, batch_id, leaf_index, block_number, tx_id)
                )
            else:
                bv = decode_batch_value(value)
                if bv.batch_id != ident:
                    raise OnChainFormatError(
                        RefusalCode.CORRUPT_VALUE,
                        "batch value",
                        f"names {bv.batch_id!r}, key names {ident!r}",
                    )
                if bv.tx_id != tx_id:
                    raise OnChainFormatError(
                        RefusalCode.CORRUPT_VALUE, "batch value", f"names tx {bv.tx_id!r}"
                    )
                out.batches.append(
                    ChainBatchRow(
                        bv.batch_id, bv.root, bv.size, tx_id, block_number, tx_index, bv.msp, bv.ts
                    )
                )
                batch_ids.add(ident)
        except OnChainFormatError as exc:
            out.anomalies.append(f"{where}: key {key!r:.80}: {exc}")
    for row in out.records[first_record:]:
        if row.batch_id not in batch_ids:
            out.anomalies.append(
                f"{where}: record {row.commitment.hex()[:16]}.. names batch {row.batch_id!r}, "
                "which this transaction does not write"
            )
    return bool(batch_ids)


def _checkpoint_row(
    value: bytes, size: int, block_number: int, tx_index: int, tx_id: str
) -> ChainCheckpointRow:
    cv = decode_checkpoint_value(value)
    if cv.size != size:
        raise OnChainFormatError(
            RefusalCode.CORRUPT_VALUE, "checkpoint value", f"names size {cv.size}, key {size}"
        )
    if cv.tx_id != tx_id:
        raise OnChainFormatError(
            RefusalCode.CORRUPT_VALUE, "checkpoint value", f"names tx {cv.tx_id!r}"
        )
    ts = json.loads(value)["ts"]  # verbatim (the decoder above checked it parses)
    return ChainCheckpointRow(
        size, cv.root, cv.prev_size, cv.note.encode(), tx_id, block_number, tx_index, cv.msp, ts
    )


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
