"""Reconcile the index against the chain mirror: every mismatch, named by record.

The chain knows records only by their commitment (the state key), so an index record and a
chain record are the same record when ``records.commitment`` equals the chain's key; a record
the index lost entirely is named by its commitment (``Mismatch.commitment``).

The mirror (``chain_records`` / ``chain_batches``) holds what the channel's VALID
transactions wrote; bring it up to date with :func:`~.replay.replay` first (``ledgerctl
index reconcile`` does). Then each check is one set-based query that returns only the
offending rows — except the content check, which must hash every stored payload
(SHA-256(salt ‖ content)) and therefore streams the joined rows through Python in chunks.

Kinds (the letter is the check from the design brief):

=====================  =====  ==========================================================
kind                   check  meaning
=====================  =====  ==========================================================
content_altered        (a)    SHA-256(salt ‖ content) in the index ≠ the chain commitment
content_missing        (a)    content and salt gone, but no erasure record in the index
                              names the record (``erased_by`` unset, or not an ``erasure``
                              record naming it): deleted outside the erasure workflows
missing_from_index     (b)    the chain has the commitment, no index record (nor access-log
                              entry) has it (and no index anchor claims its batch position:
                              that is (e))
not_on_chain           (c)    the index says anchored in a committed batch; chain: no record
anchor_missing         (d)    the chain has the record, the index has no anchor for it
wrong_batch            (d)    index batch ≠ chain batch
wrong_leaf_index       (d)    index leaf index ≠ chain leaf index
wrong_tx_id            (d)    the index batch's tx id ≠ the tx that wrote the record
wrong_block_number     (d)    the index batch's block ≠ the block that holds the record
wrong_batch_state      (d)    the chain has the batch committed; the index says failed
commitment_mismatch    (e)    ``records.commitment`` is not on chain, but the chain holds
                              another commitment at the record's anchored batch position
batch_root_mismatch    (f)    index batch root ≠ chain batch root   (per batch)
batch_size_mismatch    (f)    index batch size ≠ chain batch size   (per batch)
batch_not_on_chain     (f)    the index has a committed batch the chain does not
chain_root_inconsistent (f)   the chain's batch root is not the RFC 6962 root of the chain's
                              own records of that batch in leaf order (or leaves are missing)
checkpoint_*           (g)    an anchored checkpoint of the global log does not match the
                              log recomputed from the mirror, is not signed by the log key,
                              or does not extend the one before (:mod:`.checkpoint_checks`)
erased                 info   crypto-shredded by a workflow: content and salt deleted and
                              the ``erasure`` record ``erased_by`` names this record
anchoring_in_progress  info   on chain, the index's batch still pending/submitted
=====================  =====  ==========================================================

Info kinds are not tampering. ``scope`` decides what counts as "the index's records" for
check (b): ``"channel"`` (default) — the channel belongs to this index, so every record on
it must be in the index; ``"index"`` — the channel is shared with other indexes, so only
chain batches the index knows (a ``batches`` row, or one of its records in the batch) count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Literal

from credit_ledger_verify.errors import ValidationError
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from credit_ledger_verify.records import ErasurePayload, RecordKind, parse_record
from credit_ledger_verify.tlog import VerifierKey
from sqlalchemy import Connection, Table, and_, exists, func, literal, or_, select, true, union
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.chainsync.checkpoint_checks import checkpoint_mismatches
from ledger_service.chainsync.mirror import read_sync_state
from ledger_service.chainsync.mismatch import INFO_KINDS, Mismatch, MismatchKind, ReconcileSummary
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainCheckpoint, ChainRecord

__all__ = [
    "INFO_KINDS",
    "Mismatch",
    "MismatchKind",
    "ReconcileSummary",
    "Scope",
    "mismatches",
    "reconcile",
]

Scope = Literal["channel", "index"]

_r: Table = m.Record.__table__  # type: ignore[assignment]
_a: Table = m.RecordAnchor.__table__  # type: ignore[assignment]
_b: Table = m.Batch.__table__  # type: ignore[assignment]
_cb: Table = ChainBatch.__table__  # type: ignore[assignment]
_cr: Table = ChainRecord.__table__  # type: ignore[assignment]
_log: Table = m.AccessLogEntry.__table__  # type: ignore[assignment]
_COMMITTED = m.BatchState.COMMITTED.value
_IN_FLIGHT = (m.BatchState.PENDING.value, m.BatchState.SUBMITTED.value)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).hex()


def _where(batch_id: str | None, leaf: int | None, tx: str | None, block: int | None) -> str:
    return f"batch {batch_id} leaf {leaf} tx {tx} block {block}"


def reconcile(
    sessions: sessionmaker[Session],
    *,
    scope: Scope = "channel",
    channel: str | None = None,
    summary: ReconcileSummary | None = None,
    chunk: int = 10_000,
    log_key: VerifierKey | None = None,
) -> Iterator[Mismatch]:
    """Stream every mismatch between the index and the chain mirror.

    ``log_key``: the platform's log verifier key; without it the anchored checkpoints'
    signatures are not checked (their roots and succession are).

    All checks read one consistent snapshot (one read transaction; REPEATABLE READ on
    PostgreSQL). Pass a :class:`ReconcileSummary` to have it filled while streaming.
    """
    summary = summary if summary is not None else ReconcileSummary()
    with sessions() as session:
        options = (
            {"isolation_level": "REPEATABLE READ"}
            if session.get_bind().dialect.name == "postgresql"
            else None
        )
        conn = session.connection(execution_options=options)
        blocks: tuple[int, int] | None = None
        if channel is not None:
            state = read_sync_state(conn, channel)
            if state is not None:
                summary.mirror_first_block = state.first_block
                summary.mirror_last_block = state.last_block
                blocks = (state.first_block, state.last_block)
        for mismatch in mismatches(
            conn, scope=scope, blocks=blocks, summary=summary, chunk=chunk, log_key=log_key
        ):
            summary.counts[mismatch.kind.value] += 1
            yield mismatch


def mismatches(
    conn: Connection,
    *,
    scope: Scope = "channel",
    blocks: tuple[int, int] | None = None,
    summary: ReconcileSummary | None = None,
    chunk: int = 10_000,
    log_key: VerifierKey | None = None,
) -> Iterator[Mismatch]:
    """The checks, one after the other, on ``conn`` (see the module docstring).

    ``blocks``: the mirror's block range; an index batch the index says was committed in a
    block outside it is not reported as missing from the chain (the mirror has not seen
    that block).
    """
    if scope not in ("channel", "index"):
        raise ValueError(f"scope must be 'channel' or 'index', got {scope!r}")
    yield from _content_and_commitments(conn, summary, chunk)
    yield from _missing_from_index(conn, scope, chunk)
    yield from _not_on_chain(conn, blocks, chunk)
    yield from _anchors(conn, chunk)
    yield from _batches(conn, blocks, chunk)
    yield from _chain_roots(conn, chunk)
    if summary is not None:
        summary.checkpoints_checked = conn.execute(
            select(func.count()).select_from(ChainCheckpoint)
        ).scalar_one()
        summary.checkpoint_signatures_checked = log_key is not None
    yield from checkpoint_mismatches(conn, log_key, chunk)


def _stream(conn: Connection, query: Any, chunk: int) -> Iterator[Any]:
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
    try:
        yield from result
    finally:
        result.close()


def _erasure_problem(
    conn: Connection, record_id: str, erased_at: Any, erased_by: str | None
) -> str | None:
    """Why content missing from ``record_id`` is not a lawful erasure (``None``: it is: an
    ``erasure`` record in the index names it)."""
    if erased_at is None or erased_by is None:
        return "content and salt missing, and no erasure record names the record"
    found = conn.execute(
        select(_r.c.kind, _r.c.content).where(_r.c.record_id == erased_by)
    ).one_or_none()
    if found is None or found.kind != RecordKind.ERASURE.value or found.content is None:
        return f"content and salt missing; {erased_by!r} is not an erasure record in the index"
    try:
        payload = parse_record(bytes(found.content)).payload
    except (ValidationError, ValueError):
        return f"content and salt missing; erasure record {erased_by!r} cannot be parsed"
    if not isinstance(payload, ErasurePayload) or payload.erased_record != record_id:
        return f"content and salt missing; erasure record {erased_by!r} names another record"
    return None


# (a) + (e): every index record that is on chain ---------------------------------------------------
def _content_and_commitments(
    conn: Connection, summary: ReconcileSummary | None, chunk: int
) -> Iterator[Mismatch]:
    columns = (
        _r.c.record_id,
        _r.c.salt,
        _r.c.content,
        _r.c.erased_at,
        _r.c.erased_by,
        _r.c.commitment,
        _cr.c.commitment.label("chain_commitment"),
        _cr.c.batch_id,
    )
    on_chain = select(*columns).select_from(_r).join(_cr, _cr.c.commitment == _r.c.commitment)
    # (e): the record's commitment is not on chain, but its anchored position holds another
    cr2 = _cr.alias("cr2")
    at_anchor = (
        select(*columns)
        .select_from(_r)
        .join(_a, _a.c.record_id == _r.c.record_id)
        .join(_cr, and_(_cr.c.batch_id == _a.c.batch_id, _cr.c.leaf_index == _a.c.leaf_index))
        .where(~exists().where(cr2.c.commitment == _r.c.commitment))
    )
    sha256 = hashlib.sha256
    checked = 0
    K = MismatchKind
    for query in (on_chain, at_anchor):
        for row in _stream(conn, query, chunk):
            record_id, salt, content, erased_at, erased_by, commitment, chain_commitment = row[:7]
            batch_id = row.batch_id
            checked += 1
            chain_c = bytes(chain_commitment)
            chain_hex = chain_c.hex()
            if content is None:
                why = _erasure_problem(conn, record_id, erased_at, erased_by)
                if why is None:
                    detail = f"erased {erased_at.isoformat()} by {erased_by}"
                    yield Mismatch(K.ERASED, record_id, batch_id, detail, chain_hex)
                else:
                    yield Mismatch(K.CONTENT_MISSING, record_id, batch_id, why, chain_hex)
            else:
                calculated = (
                    sha256(bytes(salt) + bytes(content)).digest() if salt is not None else b""
                )
                if calculated != chain_c:
                    yield Mismatch(
                        K.CONTENT_ALTERED, record_id, batch_id, calculated.hex() or None, chain_hex
                    )
            if bytes(commitment) != chain_c:
                yield Mismatch(
                    K.COMMITMENT_MISMATCH, record_id, batch_id, bytes(commitment).hex(), chain_hex
                )
    if summary is not None:
        summary.records_checked += checked


# (b) ------------------------------------------------------------------------------------------
def _missing_from_index(conn: Connection, scope: Scope, chunk: int) -> Iterator[Mismatch]:
    # An index anchor at the chain record's position whose record's commitment is not on
    # chain: that record's commitment column was altered, reported as (e), not here.
    r2, cr3 = _r.alias("r2"), _cr.alias("cr3")
    claimed_by_altered = exists().where(
        _a.c.batch_id == _cr.c.batch_id,
        _a.c.leaf_index == _cr.c.leaf_index,
        r2.c.record_id == _a.c.record_id,
        ~exists().where(cr3.c.commitment == r2.c.commitment),
    )
    # access-log entries are anchored beside the records: their commitments are the index's too
    query = select(
        _cr.c.commitment, _cr.c.batch_id, _cr.c.leaf_index, _cr.c.tx_id, _cr.c.block_number
    ).where(
        ~exists().where(_r.c.commitment == _cr.c.commitment),
        ~exists().where(_log.c.commitment == _cr.c.commitment),
        ~claimed_by_altered,
    )
    if scope == "index":
        cr2 = _cr.alias("cr2")
        known = union(
            select(_b.c.batch_id),
            select(cr2.c.batch_id).join(_r, _r.c.commitment == cr2.c.commitment),
        )
        query = query.where(_cr.c.batch_id.in_(known))
    for row in _stream(conn, query, chunk):
        yield Mismatch(
            MismatchKind.MISSING_FROM_INDEX,
            None,
            row.batch_id,
            None,
            _where(row.batch_id, row.leaf_index, row.tx_id, row.block_number),
            commitment=bytes(row.commitment).hex(),
        )


# (c) ------------------------------------------------------------------------------------------
def _in_mirror(block_number: Any, blocks: tuple[int, int] | None) -> Any:
    """The index's block number is NULL (no claim) or inside the mirrored range."""
    if blocks is None:
        return true()
    return or_(block_number.is_(None), block_number.between(blocks[0], blocks[1]))


def _not_on_chain(
    conn: Connection, blocks: tuple[int, int] | None, chunk: int
) -> Iterator[Mismatch]:
    query = (
        select(_a.c.record_id, _a.c.batch_id, _a.c.leaf_index, _b.c.tx_id, _b.c.block_number)
        .join(_b, _b.c.batch_id == _a.c.batch_id)
        .join(_r, _r.c.record_id == _a.c.record_id)
        .where(
            _b.c.state == _COMMITTED,
            ~exists().where(_cr.c.commitment == _r.c.commitment),
            # another commitment at the anchored position is (e), not (c)
            ~exists().where(_cr.c.batch_id == _a.c.batch_id, _cr.c.leaf_index == _a.c.leaf_index),
        )
    )
    query = query.where(_in_mirror(_b.c.block_number, blocks))
    for row in _stream(conn, query, chunk):
        yield Mismatch(
            MismatchKind.NOT_ON_CHAIN,
            row.record_id,
            row.batch_id,
            _where(row.batch_id, row.leaf_index, row.tx_id, row.block_number),
            None,
        )


# (d) ------------------------------------------------------------------------------------------
def _anchors(conn: Connection, chunk: int) -> Iterator[Mismatch]:
    query = (
        select(
            _r.c.record_id,
            _cr.c.batch_id.label("c_batch"),
            _cr.c.leaf_index.label("c_leaf"),
            _cr.c.tx_id.label("c_tx"),
            _cr.c.block_number.label("c_block"),
            _a.c.record_id.label("anchored"),
            _a.c.batch_id,
            _a.c.leaf_index,
            _b.c.state,
            _b.c.tx_id,
            _b.c.block_number,
        )
        .select_from(_cr)
        .join(_r, _r.c.commitment == _cr.c.commitment)
        .outerjoin(_a, _a.c.record_id == _r.c.record_id)
        .outerjoin(_b, _b.c.batch_id == _a.c.batch_id)
        .where(
            or_(
                _a.c.record_id.is_(None),
                _a.c.batch_id != _cr.c.batch_id,
                _a.c.leaf_index != _cr.c.leaf_index,
                _b.c.state.is_distinct_from(literal(_COMMITTED)),
                _b.c.tx_id.is_distinct_from(_cr.c.tx_id),
                _b.c.block_number.is_distinct_from(_cr.c.block_number),
            )
        )
    )
    K = MismatchKind
    for row in _stream(conn, query, chunk):
        rid = row.record_id
        chain_where = _where(row.c_batch, row.c_leaf, row.c_tx, row.c_block)
        if row.anchored is None:
            yield Mismatch(K.ANCHOR_MISSING, rid, row.c_batch, None, chain_where)
            continue
        if row.batch_id != row.c_batch:
            yield Mismatch(K.WRONG_BATCH, rid, row.c_batch, row.batch_id, row.c_batch)
            continue
        if row.leaf_index != row.c_leaf:
            yield Mismatch(
                K.WRONG_LEAF_INDEX, rid, row.c_batch, str(row.leaf_index), str(row.c_leaf)
            )
        if row.state != _COMMITTED:
            if row.state in _IN_FLIGHT and row.tx_id in (None, row.c_tx):
                yield Mismatch(K.ANCHORING_IN_PROGRESS, rid, row.c_batch, row.state, chain_where)
            else:
                yield Mismatch(K.WRONG_BATCH_STATE, rid, row.c_batch, row.state, "committed")
            continue
        if row.tx_id != row.c_tx:
            yield Mismatch(K.WRONG_TX_ID, rid, row.c_batch, row.tx_id, row.c_tx)
        if row.block_number != row.c_block:
            yield Mismatch(
                K.WRONG_BLOCK_NUMBER, rid, row.c_batch, _str(row.block_number), str(row.c_block)
            )


def _str(value: object) -> str | None:
    return None if value is None else str(value)


# (f) ------------------------------------------------------------------------------------------
def _batches(conn: Connection, blocks: tuple[int, int] | None, chunk: int) -> Iterator[Mismatch]:
    query = (
        select(
            _b.c.batch_id,
            _b.c.root,
            _b.c.size,
            _cb.c.root.label("c_root"),
            _cb.c.size.label("c_size"),
        )
        .join(_cb, _cb.c.batch_id == _b.c.batch_id)
        .where(or_(_b.c.root != _cb.c.root, _b.c.size != _cb.c.size))
    )
    K = MismatchKind
    for row in _stream(conn, query, chunk):
        if bytes(row.root) != bytes(row.c_root):
            yield Mismatch(
                K.BATCH_ROOT_MISMATCH, None, row.batch_id, _hex(row.root), _hex(row.c_root)
            )
        if row.size != row.c_size:
            yield Mismatch(
                K.BATCH_SIZE_MISMATCH, None, row.batch_id, str(row.size), str(row.c_size)
            )
    absent = select(_b.c.batch_id, _b.c.tx_id, _b.c.block_number).where(
        _b.c.state == _COMMITTED, ~exists().where(_cb.c.batch_id == _b.c.batch_id)
    )
    absent = absent.where(_in_mirror(_b.c.block_number, blocks))
    for row in _stream(conn, absent, chunk):
        yield Mismatch(
            K.BATCH_NOT_ON_CHAIN,
            None,
            row.batch_id,
            f"committed, tx {row.tx_id} block {row.block_number}",
            None,
        )


def _chain_roots(conn: Connection, chunk: int) -> Iterator[Mismatch]:
    """Each chain batch the index knows: its root must be the Merkle root of the chain's own
    record commitments of that batch, leaves 0..size-1 in order. The chaincode checks only the
    batch's shape, not its root, so this is where a root that does not match its leaves —
    a writer's bug or a forged batch — shows up."""
    known = {
        row.batch_id: (bytes(row.root), row.size)
        for row in conn.execute(
            select(_cb.c.batch_id, _cb.c.root, _cb.c.size).join(_b, _b.c.batch_id == _cb.c.batch_id)
        )
    }
    query = (
        select(_cr.c.batch_id, _cr.c.leaf_index, _cr.c.commitment)
        .join(_b, _b.c.batch_id == _cr.c.batch_id)
        .order_by(_cr.c.batch_id, _cr.c.leaf_index)
    )
    current: str | None = None
    leaves: list[bytes] = []
    in_order = True

    def verdict(batch_id: str) -> Mismatch | None:
        root, size = known[batch_id]
        if not in_order or len(leaves) != size:
            return Mismatch(
                MismatchKind.CHAIN_ROOT_INCONSISTENT,
                None,
                batch_id,
                None,
                f"{len(leaves)} of {size} leaves on chain{'' if in_order else ', out of order'}",
            )
        calculated = MerkleTree.from_leaf_hashes(leaves).root
        if calculated != root:
            return Mismatch(
                MismatchKind.CHAIN_ROOT_INCONSISTENT, None, batch_id, _hex(calculated), _hex(root)
            )
        return None

    seen: set[str] = set()
    for row in _stream(conn, query, chunk):
        if row.batch_id != current:
            if current is not None and (found := verdict(current)) is not None:
                yield found
            current, leaves, in_order = row.batch_id, [], True
            seen.add(current)
        in_order = in_order and row.leaf_index == len(leaves)
        leaves.append(commitment_leaf_hash(bytes(row.commitment)))
    if current is not None and (found := verdict(current)) is not None:
        yield found
    for batch_id in sorted(known.keys() - seen):
        current, leaves, in_order = batch_id, [], True
        if (found := verdict(batch_id)) is not None:
            yield found
