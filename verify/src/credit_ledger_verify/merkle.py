"""RFC 6962 / RFC 9162 Merkle trees for anchoring batches of records.

Hashing (RFC 6962 §2.1, SHA-256)::

    leaf hash  = SHA-256(0x00 ‖ leaf data)
    node hash  = SHA-256(0x01 ‖ left ‖ right)
    empty tree = SHA-256("")

**Leaf data for a ledger record is its 32-byte salted commitment**
(:func:`credit_ledger_verify.commitments.commitment`), never the record content; so a batch
tree, its root and its proofs reveal nothing about payloads. Leaves are in batch order and
indexed from 0.

Building: :func:`build_tree` hashes a batch level by level (an unpaired last node is
promoted unchanged to the next level, which yields exactly RFC 6962's tree). It replaces
``pymerkle`` here because the latter took ~0.43 s to build 10,000 leaves and produce all
10,000 inclusion proofs, against ~0.03 s for this module; a test cross-checks the two.

Verifying: :func:`root_from_inclusion_proof`, :func:`verify_inclusion` and
:func:`verify_consistency` are pure functions of their explicit inputs (no tree needed),
following the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. They check their preconditions
first and raise :class:`~credit_ledger_verify.errors.ProofError` for malformed input, and
:class:`~credit_ledger_verify.errors.RootMismatch` when a well-formed proof leads elsewhere.

A root does not commit to its tree size: a few (index, size) pairs share one hashing
schedule (e.g. leaf 0 of 3 and leaf 0 of 4). Verifiers must take the size, like the root,
from the anchored batch, never from the party presenting the proof.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from credit_ledger_verify.errors import ProofError, RootMismatch

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "build_tree",
    "commitment_leaf_hash",
    "consistency_proof_from_subtrees",
    "consistency_proof_length",
    "inclusion_proof_length",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 ‖ data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def commitment_leaf_hash(commitment: bytes) -> bytes:
    """Return the leaf hash of a record's 32-byte commitment.

    Raises:
        ProofError: if ``commitment`` is not 32 bytes.
    """
    _check_hash("commitment", commitment)
    return leaf_hash(commitment)


# --------------------------------------------------------------------------- building


class MerkleTree:
    """An immutable RFC 6962 tree over one batch of leaves, kept level by level.

    ``levels[0]`` are the leaf hashes; ``levels[-1]`` is ``[root]``. Node ``j`` of level
    ``h`` is the root of leaves ``[j * 2**h, min((j + 1) * 2**h, size))``.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        for index, value in enumerate(leaf_hashes):
            _check_hash(f"leaf hash [{index}]", value)
        level = list(leaf_hashes)
        levels = [level]
        sha256 = _sha256
        while len(level) > 1:
            paired = len(level) - 1
            upper = [
                sha256(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, paired, 2)
            ]
            if len(level) % 2:
                upper.append(level[-1])  # unpaired: promoted unchanged (RFC 6962 split rule)
            levels.append(upper)
            level = upper
        self._levels = levels

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> MerkleTree:
        """Build a tree over already-hashed leaves (each 32 bytes)."""
        return cls(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        """Root hash of the whole tree (``EMPTY_ROOT`` for no leaves)."""
        return self._levels[-1][0] if self.size else EMPTY_ROOT

    @property
    def leaf_hashes(self) -> tuple[bytes, ...]:
        """The leaf hashes, in batch order."""
        return tuple(self._levels[0])

    def leaf_hash(self, index: int) -> bytes:
        """Return the leaf hash at ``index``."""
        _check_index_in_size(index, self.size)
        return self._levels[0][index]

    def root_at(self, size: int) -> bytes:
        """Root of the tree made of the first ``size`` leaves (0 ≤ size ≤ self.size)."""
        _check_count("size", size)
        if size > self.size:
            raise ProofError(f"size {size} exceeds the tree size {self.size}")
        return self._subtree_root(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path (RFC 9162 PATH) for leaf ``index`` in the tree of the first ``size``
        leaves (default: all), ordered from the leaf's sibling up to the root's child."""
        size = self.size if size is None else size
        _check_count("size", size)
        if size > self.size:
            raise ProofError(f"size {size} exceeds the tree size {self.size}")
        _check_index_in_size(index, size)
        if size == self.size:
            return self._full_inclusion_proof(index)
        proof: list[bytes] = []
        self._path(index, 0, size, proof)
        proof.reverse()
        return proof

    def inclusion_proofs(self) -> list[list[bytes]]:
        """Inclusion proofs of every leaf against the full tree, in leaf order."""
        return [self._full_inclusion_proof(index) for index in range(self.size)]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof (RFC 9162 PROOF) that the first ``size1`` leaves are a prefix
        of the first ``size2`` leaves (default: all). Empty when size1 is 0 or equals size2."""
        size2 = self.size if size2 is None else size2
        _check_count("size1", size1)
        _check_count("size2", size2)
        if size2 > self.size:
            raise ProofError(f"size2 {size2} exceeds the tree size {self.size}")
        if size1 > size2:
            raise ProofError(f"size1 {size1} is larger than size2 {size2}")
        if size1 == 0 or size1 == size2:
            return []
        return consistency_proof_from_subtrees(size1, size2, self._subtree_root)

    # Sibling lookups along the stored levels: no hashing at all.
    def _full_inclusion_proof(self, index: int) -> list[bytes]:
        proof = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index >>= 1
        return proof

    def _subtree_root(self, start: int, end: int) -> bytes:
        # MTH(D[start:end]) for a range that occurs in RFC 6962's decomposition.
        width = end - start
        height = (width - 1).bit_length()
        if start % (1 << height) == 0 and min(start + (1 << height), self.size) == end:
            return self._levels[height][start >> height]  # stored node covers exactly this
        split = _largest_power_of_two_below(width)
        return node_hash(
            self._subtree_root(start, start + split), self._subtree_root(start + split, end)
        )

    def _path(self, index: int, start: int, end: int, out: list[bytes]) -> None:
        # Appends the path root-side first; the caller reverses.
        while end - start > 1:
            split = _largest_power_of_two_below(end - start)
            if index < start + split:
                out.append(self._subtree_root(start + split, end))
                end = start + split
            else:
                out.append(self._subtree_root(start, start + split))
                start += split


def consistency_proof_from_subtrees(
    size1: int, size2: int, subtree_root: Callable[[int, int], bytes]
) -> list[bytes]:
    """RFC 9162 consistency proof from ``size1`` to ``size2`` (``0 < size1 < size2``), with
    ``subtree_root(start, end)`` giving MTH(D[start:end]) for the ranges the proof needs —
    a tree in memory, or a log that keeps its perfect subtrees in a database."""
    out: list[bytes] = []
    start, end, whole = 0, size2, True
    while True:  # RFC 9162 SUBPROOF, iteratively; appends root-side first
        width = end - start
        if size1 == width:
            if not whole:
                out.append(subtree_root(start, end))
            break
        split = _largest_power_of_two_below(width)
        if size1 <= split:
            out.append(subtree_root(start + split, end))
            end = start + split
        else:
            out.append(subtree_root(start, start + split))
            start += split
            size1 -= split
            whole = False
    out.reverse()
    return out


def build_tree(leaves: Sequence[bytes]) -> MerkleTree:
    """Build the RFC 6962 tree whose leaf data are ``leaves`` (for records: commitments)."""
    return MerkleTree([leaf_hash(data) for data in leaves])


# --------------------------------------------------------------------------- verifying


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``size``."""
    _check_index_in_size(index, size)
    inner, border = _decompose_inclusion_proof(index, size)
    return inner + border


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in the consistency proof from ``size1`` to ``size2`` leaves."""
    _check_count("size1", size1)
    _check_count("size2", size2)
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == 0 or size1 == size2:
        return 0
    inner, border = _decompose_inclusion_proof(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    starts_with_root1 = size1 == 1 << shift
    return (0 if starts_with_root1 else 1) + inner - shift + border


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` gives for ``leaf_hash`` at ``index`` in a tree of ``size``.

    Raises:
        ProofError: if ``index >= size``, ``leaf_hash`` or a proof hash is not 32 bytes, or
            the proof does not have the length ``(index, size)`` requires.
    """
    _check_index_in_size(index, size)
    _check_hash("leaf hash", leaf_hash)
    _check_proof_hashes(proof)
    inner, border = _decompose_inclusion_proof(index, size)
    if len(proof) != inner + border:
        raise ProofError(
            f"inclusion proof for index {index} in a tree of size {size} must have "
            f"{inner + border} hashes, got {len(proof)}"
        )
    calculated = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(calculated, proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Raises:
        ProofError: on malformed input (see :func:`root_from_inclusion_proof`; also a
            ``root`` that is not 32 bytes).
        RootMismatch: if the proof leads to a different root.
    """
    _check_hash("root", root)
    calculated = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if not hmac.compare_digest(calculated, root):
        raise RootMismatch(expected=bytes(root), calculated=calculated)


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size1`` leaves with ``root1`` is a prefix of the tree of
    ``size2`` leaves with ``root2``.

    An empty old tree (``size1 == 0``) is consistent with every tree, and needs an empty
    proof; equal sizes need an empty proof and equal roots.

    Raises:
        ProofError: if a size is negative, ``size1 > size2``, a root or proof hash is not
            32 bytes, or the proof has the wrong length for ``(size1, size2)``.
        RootMismatch: if the proof does not reproduce ``root1`` or ``root2``.
    """
    _check_count("size1", size1)
    _check_count("size2", size2)
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof_hashes(proof)
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(f"proof between equal sizes must be empty, got {len(proof)} hashes")
        _check_match(root1, root2)
        return
    if size1 == 0:
        if proof:
            raise ProofError(f"proof from an empty tree must be empty, got {len(proof)} hashes")
        return
    if not proof:
        raise ProofError(f"proof from size {size1} to size {size2} must not be empty")

    # The proof is (optionally) the root of the largest complete subtree at the right edge of
    # the old tree, then the suffix of the inclusion proof of leaf size1-1 above that level.
    inner, border = _decompose_inclusion_proof(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    inner -= shift
    if size1 == 1 << shift:  # the old tree is itself that complete subtree
        seed, rest = root1, proof
    else:
        seed, rest = proof[0], proof[1:]
    expected_length = len(proof) - len(rest) + inner + border
    if len(proof) != expected_length:
        raise ProofError(
            f"consistency proof from size {size1} to size {size2} must have "
            f"{expected_length} hashes, got {len(proof)}"
        )
    mask = (size1 - 1) >> shift
    calculated1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    _check_match(root1, calculated1)
    calculated2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    _check_match(root2, calculated2)


# --------------------------------------------------------------------------- internals


def _largest_power_of_two_below(n: int) -> int:
    # Largest power of two strictly less than n (n >= 2): RFC 6962's split point k.
    return 1 << ((n - 1).bit_length() - 1)


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _decompose_inclusion_proof(index: int, size: int) -> tuple[int, int]:
    # "inner" hashes sit below the point where the leaf's path and the right border of the
    # tree meet; "border" hashes are the left siblings along that border.
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for level, sibling in enumerate(proof):
        # A set bit means this node is a right child: the sibling goes on the left.
        right_child = (index >> level) & 1
        seed = node_hash(sibling, seed) if right_child else node_hash(seed, sibling)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for level, sibling in enumerate(proof):
        if (index >> level) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _check_match(expected: bytes, calculated: bytes) -> None:
    if not hmac.compare_digest(expected, calculated):
        raise RootMismatch(expected=bytes(expected), calculated=bytes(calculated))


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ProofError(f"{name} must not be negative, got {value}")


def _check_index_in_size(index: int, size: int) -> None:
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise ProofError(f"index {index} is not below the tree size {size}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, (bytes, bytearray)):
        raise ProofError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    if isinstance(proof, (bytes, bytearray, str)):
        raise ProofError("proof must be a sequence of hashes, not a single bytes/str value")
    for position, value in enumerate(proof):
        # the name is formatted only for a bad hash: this loop runs per hash of every proof
        if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
            _check_hash(f"proof[{position}]", value)
