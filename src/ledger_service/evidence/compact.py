"""Building checkpoint-form bundles (``credit-ledger-evidence/5``, docs/evidence-format.md §8).

A record is proven by its place in the global log (every anchored leaf in commit order,
:mod:`ledger_service.tlog.global_log`) under the newest checkpoint anchored on the chain,
and by that checkpoint's transaction in its block. The checkpoint and its transaction are
found on the chain only (``GetCheckpoint("head")`` → tx id → ``GetBlockByTxID``); the index
gives each record's content, salt and commitment and the mirror's leaves for the proofs.
Inclusion proofs and the root check come from the persisted log's stored subtrees
(:class:`LogView`, O(log N) rows per record — never the whole log); the note carries the
witnesses' stored, still-valid cosignatures (the API's :func:`cosigned_note`). The builder
checks what it hands out: the log has the anchored root at the anchored size, and the block
holds the transaction as VALID.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from credit_ledger_verify.canonical import canonicalize
from credit_ledger_verify.errors import CanonicalizationError
from credit_ledger_verify.evidence.model import CHECKPOINT_BUNDLE_FORMAT, EvidenceError
from credit_ledger_verify.evidence.packed_block import pack_block, packing_dictionary
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.fabric import blocks
from credit_ledger_verify.tlog import parse_note
from fabric_protos.common import common_pb2
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.evidence.builder import load_anchored_rows, locate_transaction, parse_block
from ledger_service.fabric.checkpoints import AnchoredCheckpoints
from ledger_service.tlog.checkpoints import CheckpointNotFoundError
from ledger_service.tlog.global_log import LogView
from ledger_service.tlog.witnesses import cosigned_note

__all__ = ["build_checkpoint_bundle"]


def build_checkpoint_bundle(
    session_factory: sessionmaker[Session],
    record_ids: Iterable[str],
    *,
    chain: AnchoredCheckpoints,
    trust: TrustStore,
    redact: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A checkpoint-form bundle (JSON-ready dict) for ``record_ids`` (duplicates dropped, order
    kept) under the newest anchored checkpoint; ``redact=True`` carries commitments only.
    ``trust``: the network's trust roots (their CA certificates prime the packed block; a
    verifier unpacks it with the same certificates from its trust directory).

    Raises:
        EvidenceError: no ids; a record unknown, not anchored, or erased (unless redacted);
            no checkpoint anchored yet, or the newest does not cover a record yet (the chain
            mirror behind, or the record anchored after it); the recomputed log disagrees
            with the anchored root; the block does not hold the transaction as VALID.
    """
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise EvidenceError("no record ids given")
    head = chain.head()
    if head is None:
        raise EvidenceError("no checkpoint of the global log is anchored on the chain yet")
    origin = parse_note(head.note).text.split("\n", 1)[0]
    records = []
    with session_factory() as session:
        rows = load_anchored_rows(session, ids)
        view = LogView(session, origin)
        if view.size < head.size:
            raise EvidenceError(
                f"the global log holds {view.size} leaves, the anchored checkpoint {head.size}: "
                "let the checkpointer catch up (ledgerctl checkpoint anchor) and try again"
            )
        if view.root_at(head.size) != head.root:
            raise EvidenceError(
                f"the global log has root {view.root_at(head.size).hex()} at size "
                f"{head.size}, the anchored checkpoint {head.root.hex()}"
            )
        note = _cosigned(session, origin, head.size, head.note)
        for row in rows:
            leaf = view.leaf_index(row.commitment)
            if leaf is None or leaf >= head.size:
                raise EvidenceError(
                    f"record {row.record_id!r} is not covered by the newest anchored checkpoint "
                    f"(size {head.size}) yet; ask again after the next checkpoint"
                )
            record: dict[str, Any] = {}
            if redact:
                record["record_id"] = row.record_id
                record["commitment"] = _b64(row.commitment)
            elif row.content is None or row.salt is None:
                raise EvidenceError(
                    f"record {row.record_id!r}: its content was erased (crypto-shredded); "
                    "only a redacted bundle can be built for it"
                )
            else:
                record["content"] = _content_object(row.record_id, bytes(row.content))
                record["salt"] = _b64(row.salt)
            proof = view.inclusion_proof(leaf, head.size)
            record["log"] = {"leaf_index": leaf, "proof": _b64(b"".join(proof))}
            records.append(record)
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "format": CHECKPOINT_BUNDLE_FORMAT,
        "form": "checkpoint",
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "records": records,
        "checkpoint": note,
        "anchor": _anchor(chain.block_of_transaction(head.tx_id), head.tx_id, note, trust),
    }


def _content_object(record_id: str, content: bytes) -> dict[str, Any]:
    """The record's content as the JSON object the bundle carries; the verifier re-derives
    the committed bytes as its RFC 8785 form, so an object that would not give these exact
    bytes back is never handed out."""
    obj: dict[str, Any] = {}
    try:
        parsed = json.loads(content)
        if isinstance(parsed, dict):
            obj = parsed
            canonical: bytes | None = canonicalize(obj)
        else:
            canonical = None
    except (ValueError, CanonicalizationError):
        canonical = None
    if canonical != content:
        raise EvidenceError(
            f"record {record_id!r}: its stored content is not RFC 8785 canonical JSON of an "
            "object; a verifier could not re-derive the committed bytes"
        )
    return obj


def _cosigned(session: Session, origin: str, size: int, anchored: str) -> str:
    """The anchored note with the stored, still-valid witness cosignatures of it appended
    (the note the API serves, :func:`cosigned_note`); the anchored note alone when this
    index did not issue that checkpoint or issued other bytes for it."""
    try:
        served = cosigned_note(session, origin, size)
    except CheckpointNotFoundError:
        return anchored
    text = served.note.decode("utf-8")
    return text if text.startswith(anchored) else anchored


def _anchor(raw: bytes, tx_id: str, note: str, trust: TrustStore) -> dict[str, Any]:
    probe = common_pb2.Block.FromString(raw)
    number = probe.header.number
    block = parse_block(raw, number)
    place = locate_transaction(raw, tx_id, number)
    metadata = block.metadata.metadata
    signatures = metadata[common_pb2.SIGNATURES] if len(metadata) > common_pb2.SIGNATURES else b""
    cas = sorted(trust.msps)
    certificates = [der for m in cas for der in trust.ca_certificates_der(m)]
    packed = pack_block(
        list(block.data.data),
        signatures,
        blocks.transactions_filter(block),
        dictionary=packing_dictionary(certificates, note.encode()),
    )
    return {
        "block_number": number,
        "previous_hash": _b64(block.header.previous_hash),
        "tx_index": place.tx_index,
        "cas": cas,
        "packed": _b64(packed),
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
