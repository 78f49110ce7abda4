"""Unit tests for credit_ledger_verify.merkle: builder, preconditions, pymerkle cross-check."""

from __future__ import annotations

import hashlib

import pytest
from credit_ledger_verify.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleTree,
    build_tree,
    commitment_leaf_hash,
    consistency_proof_length,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from pymerkle import InmemoryTree

from ledger_service.errors import ProofError, RootMismatch, VerificationError


def _leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]


def test_hashing_uses_rfc6962_domain_separation() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_empty_and_single_leaf_trees() -> None:
    empty = build_tree([])
    assert empty.size == 0
    assert empty.root == EMPTY_ROOT
    assert empty.inclusion_proofs() == []
    single = build_tree([b"only"])
    assert single.root == leaf_hash(b"only")
    assert single.inclusion_proof(0) == []
    verify_inclusion(0, 1, leaf_hash(b"only"), [], single.root)


def test_commitment_leaf_hash_requires_32_bytes() -> None:
    commitment = bytes(range(32))
    assert commitment_leaf_hash(commitment) == leaf_hash(commitment)
    with pytest.raises(ProofError, match="commitment must be 32 bytes, got 31"):
        commitment_leaf_hash(commitment[:31])


def test_tree_accessors() -> None:
    leaves = _leaves(5)
    tree = build_tree(leaves)
    assert tree.size == 5
    assert tree.leaf_hashes == tuple(leaf_hash(leaf) for leaf in leaves)
    assert tree.leaf_hash(4) == leaf_hash(leaves[4])
    assert MerkleTree.from_leaf_hashes(tree.leaf_hashes).root == tree.root
    assert tree.root_at(5) == tree.root
    assert tree.root_at(0) == EMPTY_ROOT


def test_builder_rejects_malformed_leaf_hashes() -> None:
    with pytest.raises(ProofError, match=r"leaf hash \[1\] must be 32 bytes, got 3"):
        MerkleTree.from_leaf_hashes([b"\x00" * 32, b"abc"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.inclusion_proof(5), "index 5 is not below the tree size 5"),
        (lambda t: t.inclusion_proof(0, 6), "size 6 exceeds the tree size 5"),
        (lambda t: t.inclusion_proof(-1), "index must not be negative, got -1"),
        (lambda t: t.root_at(6), "size 6 exceeds the tree size 5"),
        (lambda t: t.consistency_proof(4, 3), "size1 4 is larger than size2 3"),
        (lambda t: t.consistency_proof(1, 9), "size2 9 exceeds the tree size 5"),
        (lambda t: t.leaf_hash(7), "index 7 is not below the tree size 5"),
    ],
)
def test_builder_preconditions(call: object, message: str) -> None:
    tree = build_tree(_leaves(5))
    with pytest.raises(ProofError, match=message):
        call(tree)  # type: ignore[operator]


def test_inclusion_preconditions_are_checked_first() -> None:
    tree = build_tree(_leaves(6))
    good_leaf, good_proof, root = tree.leaf_hash(2), tree.inclusion_proof(2), tree.root
    cases = [
        ((6, 6, good_leaf, good_proof, root), "index 6 is not below the tree size 6"),
        ((0, 0, good_leaf, [], root), "index 0 is not below the tree size 0"),
        ((-1, 6, good_leaf, good_proof, root), "index must not be negative"),
        ((True, 6, good_leaf, good_proof, root), "index must be an int, got bool"),
        ((2, 6, good_leaf[:31], good_proof, root), "leaf hash must be 32 bytes, got 31"),
        ((2, 6, good_leaf, good_proof, root + b"\x00"), "root must be 32 bytes, got 33"),
        ((2, 6, good_leaf, [*good_proof[:1], b""], root), r"proof\[1\] must be 32 bytes, got 0"),
        (
            (2, 6, good_leaf, good_proof[:-1], root),
            "inclusion proof for index 2 in a tree of size 6 must have 3 hashes, got 2",
        ),
        ((2, 6, good_leaf, b"x" * 32, root), "proof must be a sequence of hashes"),
        ((2, 6, "ab" * 16, good_proof, root), "leaf hash must be bytes, got str"),
    ]
    for args, message in cases:
        with pytest.raises(ProofError, match=message):
            verify_inclusion(*args)  # type: ignore[arg-type]


def test_inclusion_root_mismatch_reports_both_roots() -> None:
    tree = build_tree(_leaves(6))
    wrong_root = bytes(HASH_SIZE)
    with pytest.raises(RootMismatch) as caught:
        verify_inclusion(3, 6, tree.leaf_hash(3), tree.inclusion_proof(3), wrong_root)
    assert caught.value.expected == wrong_root
    assert caught.value.calculated == tree.root
    assert str(caught.value) == f"root mismatch: expected {'00' * 32}, calculated {tree.root.hex()}"
    assert isinstance(caught.value, VerificationError)


def test_consistency_preconditions() -> None:
    tree = build_tree(_leaves(7))
    r3, r7, proof = tree.root_at(3), tree.root, tree.consistency_proof(3, 7)
    cases = [
        ((7, 3, r7, r3, proof), "size1 7 is larger than size2 3"),
        ((-1, 3, r3, r3, []), "size1 must not be negative"),
        ((3, 7, r3[:16], r7, proof), "root1 must be 32 bytes, got 16"),
        ((3, 7, r3, b"", proof), "root2 must be 32 bytes, got 0"),
        ((3, 3, r3, r3, proof), "proof between equal sizes must be empty, got 4 hashes"),
        ((0, 7, EMPTY_ROOT, r7, proof), "proof from an empty tree must be empty, got 4 hashes"),
        ((3, 7, r3, r7, []), "proof from size 3 to size 7 must not be empty"),
        (
            (3, 7, r3, r7, [*proof, r7]),
            "consistency proof from size 3 to size 7 must have 4 hashes, got 5",
        ),
    ]
    for args, message in cases:
        with pytest.raises(ProofError, match=message):
            verify_consistency(*args)  # type: ignore[arg-type]
    with pytest.raises(RootMismatch):
        verify_consistency(3, 7, r3, tree.root_at(6), proof)
    with pytest.raises(RootMismatch):
        verify_consistency(4, 4, tree.root_at(4), r7, [])
    verify_consistency(0, 7, EMPTY_ROOT, r7, [])  # the empty tree is a prefix of anything


def test_proof_length_helpers() -> None:
    tree = build_tree(_leaves(13))
    for size in range(1, 14):
        for index in range(size):
            assert inclusion_proof_length(index, size) == len(tree.inclusion_proof(index, size))
        for size1 in range(size + 1):
            assert consistency_proof_length(size1, size) == len(tree.consistency_proof(size1, size))
    with pytest.raises(ProofError):
        consistency_proof_length(3, 2)


@pytest.mark.parametrize("size", [*range(1, 40), 64, 100, 257, 1000])
def test_matches_pymerkle(size: int) -> None:
    leaves = _leaves(size)
    ours = build_tree(leaves)
    theirs = InmemoryTree.init_from_entries(leaves, algorithm="sha256")
    for prefix in range(1, size + 1):
        assert ours.root_at(prefix) == theirs.get_root(prefix)
    # pymerkle's path starts with the proven leaf itself, then follows RFC 9162's PATH.
    proofs = ours.inclusion_proofs()
    for index in range(size):
        assert proofs[index] == theirs.prove_inclusion(index + 1, size).path[1:]
    # pymerkle lays consistency paths out differently from RFC 9162, so cross-check by
    # verifying each side's proof against the other side's roots.
    step = max(1, size // 7)
    for size1 in range(1, size, step):
        verify_consistency(
            size1,
            size,
            theirs.get_root(size1),
            theirs.get_root(size),
            ours.consistency_proof(size1, size),
        )
        theirs.prove_consistency(size1, size).verify(ours.root_at(size1), ours.root)
