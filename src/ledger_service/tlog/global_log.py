"""The global log: every anchored leaf, in commit order, as one RFC 6962 tree.

Leaves are the chain mirror's rows only (``chain_records`` joined to ``chain_batches``), so
the log is recoverable from the chain: every key a ``PutBatch`` wrote — record commitments
and access-log entry commitments alike, both are batch leaves on chain — in the order
``(block_number, tx_index, leaf_index)``. A leaf's hash is the same RFC 6962 leaf hash of
its commitment as in its batch's tree.

The state kept between runs (``global_log_state``) is the size, the right edge (a compact
range: the roots of the perfect subtrees that make up the tree) and the commit position of
the last leaf. :func:`advance` appends the leaves mirrored after that position; before it
does, it checks that the mirror still holds exactly ``size`` leaves up to that position, so
a mirror that changed under the log (a rebuild over another chain) is refused, never
silently extended.

Roots at older sizes and consistency proofs (:class:`LogView`) read the perfect subtrees
``advance`` stores in ``log_subtrees`` (every subtree of at least 256 leaves): O(log N) rows,
plus at most two partial tiles of under 256 leaves read from the mirror — never all leaves.
:func:`tree_at` (every leaf, O(N)) stays for reconcile, which recomputes from scratch on
purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from credit_ledger_verify.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleTree,
    commitment_leaf_hash,
    consistency_proof_from_subtrees,
    node_hash,
)
from sqlalchemy import Select, delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from ledger_service.errors import LedgerError
from ledger_service.index.chain_models import ChainBatch, ChainRecord
from ledger_service.index.log_models import SUBTREE_MIN_LEVEL, GlobalLogState, LogSubtree

__all__ = [
    "CompactRange",
    "GlobalLogDivergedError",
    "LogHead",
    "LogView",
    "MirrorLeaf",
    "advance",
    "leaf_hashes_in_commit_order",
    "mirror_leaves",
    "read_head",
    "tree_at",
]


class GlobalLogDivergedError(LedgerError):
    """The chain mirror no longer holds the leaves the persisted global log was built from."""

    code: ClassVar[str] = "global_log_diverged"


class MirrorLeaf(NamedTuple):
    """One anchored leaf as the mirror holds it, with its commit position."""

    block_number: int
    tx_index: int
    leaf_index: int
    commitment: bytes


Position = tuple[int, int, int]


def leaf_hashes_in_commit_order(leaves: Iterable[MirrorLeaf]) -> list[bytes]:
    """The global log's leaf hashes of ``leaves`` (any order): sorted by commit position."""
    ordered = sorted(leaves, key=lambda leaf: (leaf.block_number, leaf.tx_index, leaf.leaf_index))
    return [commitment_leaf_hash(bytes(leaf.commitment)) for leaf in ordered]


def mirror_leaves(after: Position | None = None) -> Select[int, int, int, bytes]:
    """The mirror's leaves in commit order, optionally only those after position ``after``."""
    position = tuple_(ChainBatch.block_number, ChainBatch.tx_index, ChainRecord.leaf_index)
    query = (
        select(
            ChainBatch.block_number,
            ChainBatch.tx_index,
            ChainRecord.leaf_index,
            ChainRecord.commitment,
        )
        .join(ChainBatch, ChainBatch.batch_id == ChainRecord.batch_id)
        .order_by(ChainBatch.block_number, ChainBatch.tx_index, ChainRecord.leaf_index)
    )
    if after is not None:
        query = query.where(position > tuple_(*after))
    return query


@dataclass(slots=True)
class CompactRange:
    """The right edge of an RFC 6962 tree of ``size`` leaves: enough to append and to root.

    ``edge[i]`` is the root of a perfect subtree; their sizes are the set bits of ``size``,
    largest first, so the tree's root folds them from the right.
    """

    size: int = 0
    edge: list[bytes] = field(default_factory=list)

    def append(self, leaf_hash: bytes, completed: list[tuple[int, bytes]] | None = None) -> None:
        """Append one leaf; with ``completed``, add ``(level, root)`` of every perfect
        subtree of level >= SUBTREE_MIN_LEVEL this leaf completes (each ends at this leaf)."""
        node, below, level = leaf_hash, self.size, 0
        while below & 1:  # merge equal-sized perfect subtrees, smallest first
            if completed is not None and level >= SUBTREE_MIN_LEVEL:
                completed.append((level, node))
            node = node_hash(self.edge.pop(), node)
            below >>= 1
            level += 1
        if completed is not None and level >= SUBTREE_MIN_LEVEL:
            completed.append((level, node))
        self.edge.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        root = self.edge[-1]
        for left in reversed(self.edge[:-1]):
            root = node_hash(left, root)
        return root

    def encode_edge(self) -> bytes:
        return b"".join(self.edge)

    @classmethod
    def decode(cls, size: int, edge: bytes) -> CompactRange:
        hashes = [edge[i : i + HASH_SIZE] for i in range(0, len(edge), HASH_SIZE)]
        if len(edge) % HASH_SIZE or len(hashes) != size.bit_count():
            raise GlobalLogDivergedError(
                f"stored right edge has {len(edge)} bytes, expected "
                f"{size.bit_count()} hashes for size {size}"
            )
        return cls(size, hashes)


@dataclass(frozen=True, slots=True)
class LogHead:
    """The global log's size and root, and the commit position of its last leaf."""

    size: int
    root: bytes
    last_position: Position | None


def read_head(session: Session, origin: str) -> LogHead:
    """The persisted head of the log (the empty log if it was never advanced)."""
    row = session.get(GlobalLogState, origin)
    if row is None:
        return LogHead(0, EMPTY_ROOT, None)
    compact = CompactRange.decode(row.size, bytes(row.right_edge))
    return LogHead(row.size, compact.root(), _position(row))


def advance(session: Session, origin: str, now: dt.datetime) -> LogHead:
    """Append every leaf mirrored after the persisted head; persist and return the new head.

    The caller commits (use a write session: the read-modify-write must not interleave).

    Raises:
        GlobalLogDivergedError: the mirror holds another number of leaves up to the head.
    """
    row = session.get(GlobalLogState, origin)
    if row is None:
        compact, last = CompactRange(), None
        # a fresh start rebuilds the subtree cache too
        session.execute(delete(LogSubtree).where(LogSubtree.origin == origin))
    else:
        compact, last = CompactRange.decode(row.size, bytes(row.right_edge)), _position(row)
    _check_prefix(session, compact.size, last)
    completed: list[tuple[int, bytes]] = []
    subtrees: list[dict[str, object]] = []
    for block_number, tx_index, leaf_index, commitment in session.execute(mirror_leaves(last)):
        compact.append(commitment_leaf_hash(bytes(commitment)), completed)
        last = (block_number, tx_index, leaf_index)
        if completed:
            for level, node in completed:
                subtrees.append(
                    {
                        "origin": origin,
                        "level": level,
                        "node_index": (compact.size >> level) - 1,
                        "hash": node,
                        "last_block": block_number,
                        "last_tx_index": tx_index,
                        "last_leaf_index": leaf_index,
                    }
                )
            completed.clear()
    if subtrees:
        session.execute(insert(LogSubtree), subtrees)
    if row is None:
        row = GlobalLogState(origin=origin)
        session.add(row)
    row.size, row.right_edge, row.updated_at = compact.size, compact.encode_edge(), now
    if last is not None:
        row.last_block, row.last_tx_index, row.last_leaf_index = last
    session.flush()
    return LogHead(compact.size, compact.root(), last)


def tree_at(session: Session, size: int) -> MerkleTree:
    """The global log's first ``size`` leaves as a tree, recomputed from the mirror."""
    leaves = session.execute(mirror_leaves().limit(size)).all()
    if len(leaves) < size:
        raise GlobalLogDivergedError(f"the mirror holds {len(leaves)} leaves, not {size}")
    return MerkleTree([commitment_leaf_hash(bytes(leaf.commitment)) for leaf in leaves])


class LogView:
    """Roots and consistency proofs of the persisted global log at any size up to its head,
    from the stored perfect subtrees (O(log N) reads) and at most a few partial tiles.

    Use it inside one session/transaction; it caches what it read.
    """

    def __init__(self, session: Session, origin: str) -> None:
        self._session = session
        self._origin = origin
        self._size = read_head(session, origin).size
        self._tiles: dict[int, list[bytes]] = {}
        self.rows_read = 0  # subtree rows + mirror leaves read (tests assert the bound)

    @property
    def size(self) -> int:
        return self._size

    def root_at(self, size: int) -> bytes:
        """The root of the log's first ``size`` leaves."""
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self.subtree_root(0, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 consistency proof from the log at ``old_size`` to ``new_size``."""
        if not 0 <= old_size <= new_size:
            raise ValueError(f"need 0 <= old size <= new size, got {old_size} and {new_size}")
        self._check_size(new_size)
        if old_size in (0, new_size):
            return []
        return consistency_proof_from_subtrees(old_size, new_size, self.subtree_root)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof (PATH) of leaf ``index`` in the log at ``size``, leaf
        side first: one :meth:`subtree_root` per level, so O(log N) stored rows."""
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is outside a log of {size} leaves")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:  # root side first; reversed below
            split = 1 << ((end - start - 1).bit_length() - 1)
            if index < start + split:
                path.append(self.subtree_root(start + split, end))
                end = start + split
            else:
                path.append(self.subtree_root(start, start + split))
                start += split
        path.reverse()
        return path

    def leaf_index(self, commitment: bytes) -> int | None:
        """The log index of the leaf of ``commitment`` (``None``: not mirrored, or beyond
        the log's head). A binary search over the stored tiles' last positions, then a count
        of under one tile of mirror leaves — never a scan of the log."""
        found = self._session.execute(
            select(ChainBatch.block_number, ChainBatch.tx_index, ChainRecord.leaf_index)
            .join(ChainBatch, ChainBatch.batch_id == ChainRecord.batch_id)
            .where(ChainRecord.commitment == commitment)
        ).first()
        if found is None:
            return None
        target: Position = (found[0], found[1], found[2])
        # tiles 0..lo-1 end before the target (their last positions increase with the index)
        lo, hi = 0, self._size >> SUBTREE_MIN_LEVEL
        after: Position | None = None
        while lo < hi:
            mid = (lo + hi) // 2
            end = self._tile_end(mid)
            if end < target:
                lo, after = mid + 1, end
            else:
                hi = mid
        position = tuple_(ChainBatch.block_number, ChainBatch.tx_index, ChainRecord.leaf_index)
        query = (
            select(func.count())
            .select_from(ChainRecord)
            .join(ChainBatch, ChainBatch.batch_id == ChainRecord.batch_id)
            .where(position < tuple_(*target))
        )
        if after is not None:
            query = query.where(position > tuple_(*after))
        index = (lo << SUBTREE_MIN_LEVEL) + int(self._session.execute(query).scalar_one())
        self.rows_read += 1
        return index if index < self._size else None

    def _tile_end(self, tile_index: int) -> Position:
        row = self._session.get(LogSubtree, (self._origin, SUBTREE_MIN_LEVEL, tile_index))
        self.rows_read += 1
        if row is None:
            raise GlobalLogDivergedError(
                f"the stored subtree of tile {tile_index} is missing: rebuild the log"
            )
        return (row.last_block, row.last_tx_index, row.last_leaf_index)

    def subtree_root(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ``0 <= start < end <= size``."""
        width = end - start
        height = (width - 1).bit_length()
        if width == 1 << height and start % width == 0:  # perfect and aligned
            if height >= SUBTREE_MIN_LEVEL:
                return self._stored(height, start >> height)
            if height == 0:
                return self._leaf(start)
        split = 1 << ((width - 1).bit_length() - 1)  # largest power of two below width
        return node_hash(
            self.subtree_root(start, start + split), self.subtree_root(start + split, end)
        )

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise GlobalLogDivergedError(
                f"the global log has {self._size} leaves; size {size} is beyond its head "
                "(advance the log first)"
            )

    def _stored(self, level: int, node_index: int) -> bytes:
        row = self._session.get(LogSubtree, (self._origin, level, node_index))
        self.rows_read += 1
        if row is None:
            raise GlobalLogDivergedError(
                f"the stored subtree (level {level}, index {node_index}) is missing: rebuild "
                "the log (delete its global_log_state row)"
            )
        return bytes(row.hash)

    def _leaf(self, index: int) -> bytes:
        tile_index = index >> SUBTREE_MIN_LEVEL
        tile = self._tiles.get(tile_index)
        if tile is None:
            tile = self._tiles[tile_index] = self._read_tile(tile_index)
        offset = index - (tile_index << SUBTREE_MIN_LEVEL)
        if offset >= len(tile):
            raise GlobalLogDivergedError(
                f"the mirror holds no leaf {index} of the global log (of {self._size})"
            )
        return tile[offset]

    def _read_tile(self, tile_index: int) -> list[bytes]:
        after: Position | None = None
        if tile_index:
            previous = self._session.get(
                LogSubtree, (self._origin, SUBTREE_MIN_LEVEL, tile_index - 1)
            )
            if previous is None:
                raise GlobalLogDivergedError(
                    f"the stored subtree before tile {tile_index} is missing: rebuild the log"
                )
            after = (previous.last_block, previous.last_tx_index, previous.last_leaf_index)
        tile_size = 1 << SUBTREE_MIN_LEVEL
        wanted = min(tile_size, self._size - (tile_index << SUBTREE_MIN_LEVEL))
        rows = self._session.execute(mirror_leaves(after).limit(wanted)).all()
        self.rows_read += 1 + len(rows)
        return [commitment_leaf_hash(bytes(r.commitment)) for r in rows]


def _position(row: GlobalLogState) -> Position | None:
    if row.last_block is None or row.last_tx_index is None or row.last_leaf_index is None:
        return None
    return (row.last_block, row.last_tx_index, row.last_leaf_index)


def _check_prefix(session: Session, size: int, last: Position | None) -> None:
    if last is None:
        held = 0 if size == 0 else None
    else:
        position = tuple_(ChainBatch.block_number, ChainBatch.tx_index, ChainRecord.leaf_index)
        held = session.execute(
            select(func.count())
            .select_from(ChainRecord)
            .join(ChainBatch, ChainBatch.batch_id == ChainRecord.batch_id)
            .where(position <= tuple_(*last))
        ).scalar_one()
    if held != size:
        raise GlobalLogDivergedError(
            f"the global log has {size} leaves up to position {last}, the chain mirror "
            f"holds {held}: rebuild the log (the mirror changed under it)"
        )
