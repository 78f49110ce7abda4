"""Building evidence bundles (format v3, docs/evidence-format.md) from the index and the chain.

The index says where each record sits (batch, leaf index, transaction id, block number); the
Merkle proofs are recomputed from the batch's leaves (its records' commitments in leaf order);
the blocks come from a :class:`~ledger_service.fabric.blocks.BlockReader` — in production the
peers' query system chaincode (``qscc GetBlockByNumber``) through the Fabric Gateway. Each
block is fetched once per build and appears once in the bundle, however many of the bundle's
records it anchors. Records and their anchor facts are read through
:mod:`ledger_service.queries.records`.

The builder checks what it hands out (the index's root matches the recomputed tree, the block
holds the transaction as VALID), so a bundle it returns is expected to verify; it does not need
the trust directory for that.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from credit_ledger_verify.evidence.model import ACCESS_BUNDLE_FORMAT, BUNDLE_FORMAT, EvidenceError
from credit_ledger_verify.fabric import blocks
from credit_ledger_verify.fabric.envelope import EnvelopeError, decode_actions, decode_header
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from google.protobuf.message import DecodeError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.fabric.blocks import BlockReader, CachingBlockReader
from ledger_service.index import models as m
from ledger_service.index.leaves import batch_leaves
from ledger_service.queries.access import committed_entry
from ledger_service.queries.records import stored_records

__all__ = [
    "build_access_bundle",
    "build_bundle",
    "encode_bundle",
    "load_anchored_rows",
    "locate_transaction",
    "parse_block",
]


@dataclass(frozen=True, slots=True)
class _Row:
    #: a record id, or ``access-<entry id>`` for an access-log entry (in messages)
    record_id: str
    content: bytes | None
    salt: bytes | None
    commitment: bytes
    batch_id: str | None
    leaf_index: int | None
    state: str | None
    tx_id: str | None
    block_number: int | None
    #: an access-log entry's id (its bundle entry names it instead of a record id)
    entry_id: int | None = None
    #: the erasure record of an erased record (written with the erasure)
    erased_by: str | None = None


@dataclass(frozen=True, slots=True)
class _TxPlace:
    tx_index: int
    channel: str
    chaincode: str


def build_bundle(
    session_factory: sessionmaker[Session],
    record_ids: Iterable[str],
    *,
    block_source: BlockReader,
    redact: bool = False,
    redact_erased: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Build a v3 evidence bundle (JSON-ready dict) for ``record_ids`` (duplicates dropped,
    order kept). ``redact=True`` leaves out every record's content and salt;
    ``redact_erased=True`` leaves out only those of records whose content was erased (a
    lineage bundle keeps a shredded node as its commitment).

    Raises:
        EvidenceError: no ids; a record the index does not know, not yet anchored (its batch
            is not committed), or whose content was erased (unless ``redact`` or
            ``redact_erased``); an index that
            disagrees with itself (root) or with the block (transaction missing or invalid).
    """
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise EvidenceError("no record ids given")
    source = (
        block_source
        if isinstance(block_source, CachingBlockReader)
        else CachingBlockReader(block_source)
    )
    with session_factory() as session:
        rows = load_anchored_rows(session, ids)
        if not redact and not redact_erased:
            # an erased record's evidence is its erasure record's (§8): carried in full
            erasures = [r.erased_by for r in rows if r.content is None and r.erased_by]
            extra = [e for e in dict.fromkeys(erasures) if e not in set(ids)]
            if extra:
                rows += load_anchored_rows(session, extra)
        trees = _trees(session, rows)
    records, blocks_used = _anchored_entries(
        rows, trees, source, redact=redact, redact_erased=redact_erased
    )
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "format": BUNDLE_FORMAT,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "records": records,
        "blocks": blocks_used,
    }


def build_access_bundle(
    session_factory: sessionmaker[Session],
    entry_ids: Iterable[int],
    *,
    block_source: BlockReader,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Build a ``credit-ledger-access/1`` bundle (JSON-ready dict) for access-log entries
    (duplicates dropped, order kept): each entry's committed content (rebuilt from the
    stored columns, so an entry changed in the index no longer matches its commitment),
    salt, Merkle proof and anchor, and the blocks — verified like a record bundle.

    Raises:
        EvidenceError: no ids; an entry the log does not have or that is not anchored yet;
            an index that disagrees with itself or with the block.
    """
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        raise EvidenceError("no access-log entry ids given")
    source = (
        block_source
        if isinstance(block_source, CachingBlockReader)
        else CachingBlockReader(block_source)
    )
    with session_factory() as session:
        rows = _load_access_rows(session, ids)
        trees = _trees(session, rows)
    entries, blocks_used = _anchored_entries(rows, trees, source, redact=False, redact_erased=False)
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "format": ACCESS_BUNDLE_FORMAT,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "entries": entries,
        "blocks": blocks_used,
    }


def _trees(session: Session, rows: list[_Row]) -> dict[str, MerkleTree]:
    batch_ids = sorted({r.batch_id for r in rows if r.batch_id is not None})
    return {b: _batch_tree(session, b) for b in batch_ids}


def _anchored_entries(
    rows: list[_Row],
    trees: dict[str, MerkleTree],
    source: BlockReader,
    *,
    redact: bool,
    redact_erased: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per row: commitment, content and salt (unless redacted), Merkle proof, anchor; and
    every block used, once each, ascending."""
    records: list[dict[str, Any]] = []
    places: dict[str, _TxPlace] = {}
    block_entries: dict[int, dict[str, Any]] = {}
    for row in rows:
        assert row.batch_id is not None
        assert row.leaf_index is not None
        assert row.tx_id is not None
        assert row.block_number is not None
        tree = trees[row.batch_id]
        if tree.leaf_hash(row.leaf_index) != commitment_leaf_hash(row.commitment):
            raise EvidenceError(
                f"index inconsistent: record {row.record_id!r} is not leaf {row.leaf_index} "
                f"of batch {row.batch_id!r}"
            )
        place = places.get(row.tx_id)
        if place is None:
            raw = source.get_block(row.block_number)
            entry = block_entries.get(row.block_number)
            if entry is None:
                entry = _block_entry(raw, row.block_number)
                block_entries[row.block_number] = entry
            place = locate_transaction(raw, row.tx_id, row.block_number)
            places[row.tx_id] = place
            entry["transactions"].append({"tx_id": row.tx_id, "tx_index": place.tx_index})
        record: dict[str, Any] = (
            {"record_id": row.record_id} if row.entry_id is None else {"entry_id": row.entry_id}
        )
        record["commitment"] = row.commitment.hex()
        erased = row.content is None or row.salt is None
        if erased and not redact and not redact_erased:
            if row.erased_by is None:
                raise EvidenceError(
                    f"record {row.record_id!r}: its content and salt are missing and no "
                    "erasure record says why (reconcile reports this as tampering); only a "
                    "redacted bundle can be built for it"
                )
            record["erasure"] = {"record_id": row.erased_by}
        elif not redact and not erased:
            assert row.content is not None
            assert row.salt is not None
            record["content"] = row.content.decode("utf-8")
            record["salt"] = row.salt.hex()
        record["merkle"] = {
            "leaf_index": row.leaf_index,
            "tree_size": tree.size,
            "proof": [h.hex() for h in tree.inclusion_proof(row.leaf_index)],
        }
        record["anchor"] = {
            "channel": place.channel,
            "chaincode": place.chaincode,
            "batch_id": row.batch_id,
            "tx_id": row.tx_id,
            "block_number": row.block_number,
        }
        records.append(record)
    return records, [block_entries[n] for n in sorted(block_entries)]


def encode_bundle(bundle: dict[str, Any]) -> bytes:
    """A bundle as the bytes of a ``.json`` file (compact, UTF-8, trailing newline)."""
    return (json.dumps(bundle, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


# -- index ------------------------------------------------------------------------------------


def load_anchored_rows(session: Session, ids: list[str]) -> list[_Row]:
    """The records ``ids`` (in that order) with their anchor facts; each must be anchored
    (its batch committed). Shared with the checkpoint-form builder."""
    found: dict[str, _Row] = {}
    for stored in stored_records(session, ids).values():
        anchor = stored.anchor
        found[stored.record_id] = _Row(
            record_id=stored.record_id,
            content=stored.content,
            salt=stored.salt,
            commitment=stored.commitment,
            batch_id=None if anchor is None else anchor.batch_id,
            leaf_index=None if anchor is None else anchor.leaf_index,
            state=None if anchor is None else anchor.batch_state,
            tx_id=None if anchor is None else anchor.tx_id,
            block_number=None if anchor is None else anchor.block_number,
            erased_by=stored.erased_by,
        )
    rows = []
    for rid in ids:
        row = found.get(rid)
        if row is None:
            raise EvidenceError(f"record {rid!r} is not in the index")
        if row.batch_id is None:
            raise EvidenceError(f"record {rid!r} is not anchored yet (waiting for a batch)")
        if row.state != m.BatchState.COMMITTED or row.tx_id is None or row.block_number is None:
            raise EvidenceError(
                f"record {rid!r} is not anchored yet (batch {row.batch_id!r} is {row.state})"
            )
        rows.append(row)
    return rows


def _load_access_rows(session: Session, ids: list[int]) -> list[_Row]:
    found = {
        entry.id: (entry, anchor, batch)
        for entry, anchor, batch in session.execute(
            select(m.AccessLogEntry, m.AccessAnchor, m.Batch)
            .outerjoin(m.AccessAnchor, m.AccessAnchor.entry_id == m.AccessLogEntry.id)
            .outerjoin(m.Batch, m.Batch.batch_id == m.AccessAnchor.batch_id)
            .where(m.AccessLogEntry.id.in_(ids))
        )
    }
    rows = []
    for entry_id in ids:
        if entry_id not in found:
            raise EvidenceError(f"access-log entry {entry_id} does not exist")
        entry, anchor, batch = found[entry_id]
        if anchor is None or batch is None:
            raise EvidenceError(
                f"access-log entry {entry_id} is not anchored yet (waiting for a batch)"
            )
        if batch.state != m.BatchState.COMMITTED or batch.tx_id is None:
            raise EvidenceError(
                f"access-log entry {entry_id} is not anchored yet "
                f"(batch {batch.batch_id!r} is {batch.state})"
            )
        rows.append(
            _Row(
                record_id=f"access-{entry_id}",
                content=committed_entry(entry).canonical_bytes(),
                salt=bytes(entry.salt),
                commitment=bytes(entry.commitment),
                batch_id=batch.batch_id,
                leaf_index=anchor.leaf_index,
                state=batch.state,
                tx_id=batch.tx_id,
                block_number=batch.block_number,
                entry_id=entry_id,
            )
        )
    return rows


def _batch_tree(session: Session, batch_id: str) -> MerkleTree:
    batch = session.get(m.Batch, batch_id)
    assert batch is not None
    leaves = [(r.leaf_index, r.commitment) for r in session.execute(batch_leaves(batch_id))]
    if [i for i, _ in leaves] != list(range(batch.size)):
        raise EvidenceError(
            f"index inconsistent: batch {batch_id!r} has size {batch.size}, but its "
            f"{len(leaves)} leaves' indexes are not 0..{batch.size - 1}"
        )
    tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(bytes(c)) for _, c in leaves])
    if tree.root != bytes(batch.root):
        raise EvidenceError(
            f"index inconsistent: batch {batch_id!r} root {bytes(batch.root).hex()} != "
            f"{tree.root.hex()} recomputed from its leaves"
        )
    return tree


# -- blocks -----------------------------------------------------------------------------------


def parse_block(raw: bytes, number: int) -> common_pb2.Block:
    try:
        block = common_pb2.Block.FromString(raw)
    except DecodeError as exc:
        raise EvidenceError(f"block {number}: not a serialized block: {exc}") from None
    if block.header.number != number:
        raise EvidenceError(f"asked for block {number}, got block {block.header.number}")
    return block


def _block_entry(raw: bytes, number: int) -> dict[str, Any]:
    block = parse_block(raw, number)
    metadata = block.metadata.metadata
    signatures = metadata[common_pb2.SIGNATURES] if len(metadata) > common_pb2.SIGNATURES else b""
    return {
        "number": number,
        "previous_hash": block.header.previous_hash.hex(),
        "data_hash": block.header.data_hash.hex(),
        "data": [_b64(d) for d in block.data.data],
        "metadata": {
            "signatures": _b64(signatures),
            "transactions_filter": _b64(blocks.transactions_filter(block)),
        },
        "transactions": [],
    }


def locate_transaction(raw: bytes, tx_id: str, number: int) -> _TxPlace:
    block = parse_block(raw, number)
    codes = blocks.transactions_filter(block)
    for index, data in enumerate(block.data.data):
        try:
            header = decode_header(data)
        except EnvelopeError:
            continue
        if header.tx_id != tx_id:
            continue
        code = codes[index] if index < len(codes) else None
        if code != transaction_pb2.VALID:
            name = "missing" if code is None else blocks.validation_code_name(code)
            raise EvidenceError(f"transaction {tx_id} in block {number} is not VALID ({name})")
        try:
            (action,) = decode_actions(header)
        except (EnvelopeError, ValueError) as exc:  # ValueError: not exactly one action
            raise EvidenceError(
                f"transaction {tx_id} in block {number} is not a one-action chaincode "
                f"transaction: {exc}"
            ) from None
        return _TxPlace(
            tx_index=index,
            channel=header.channel_header.channel_id,
            chaincode=action.chaincode_name,
        )
    raise EvidenceError(f"block {number} does not hold transaction {tx_id} (index out of date?)")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
