"""Property tests: random batches, every proof verifies, every single mutation fails."""

from __future__ import annotations

import pytest
from credit_ledger_verify.merkle import (
    _decompose_inclusion_proof,
    build_tree,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_service.errors import VerificationError

leaf_lists = st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=70)
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(leaves=leaf_lists)
def test_every_inclusion_proof_verifies(leaves: list[bytes]) -> None:
    tree = build_tree(leaves)
    for index, proof in enumerate(tree.inclusion_proofs()):
        verify_inclusion(index, tree.size, tree.leaf_hash(index), proof, tree.root)


@PROFILE
@given(leaves=leaf_lists, data=st.data())
def test_inclusion_in_prefix_trees_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build_tree(leaves)
    size = data.draw(st.integers(1, tree.size), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert (
        root_from_inclusion_proof(index, size, tree.leaf_hash(index), proof)
        == build_tree(leaves[:size]).root
    )


@PROFILE
@given(leaves=leaf_lists, data=st.data())
def test_consistency_between_random_sizes_verifies(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = build_tree(leaves)
    size2 = data.draw(st.integers(0, tree.size), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    proof = tree.consistency_proof(size1, size2)
    verify_consistency(size1, size2, tree.root_at(size1), tree.root_at(size2), proof)


def _same_shape(index1: int, size1: int, index2: int, size2: int) -> bool:
    # Same (inner, border) split and same low "inner" index bits => the verifier performs the
    # same hashing, so no RFC 6962 verifier can tell the two (index, size) pairs apart.
    if not (0 <= index1 < size1 and 0 <= index2 < size2):
        return False
    shape = _decompose_inclusion_proof(index1, size1)
    low_bits = (1 << shape[0]) - 1
    return shape == _decompose_inclusion_proof(index2, size2) and (index1 ^ index2) & low_bits == 0


def _same_consistency_shape(size1: int, size2: int, old1: int, old2: int) -> bool:
    if not (0 < size1 < size2):
        return False
    shift1, shift2 = (size1 & -size1).bit_length(), (old1 & -old1).bit_length()
    return shift1 == shift2 and _same_shape(size1 - 1, size2, old1 - 1, old2)


def _flip_bit(value: bytes, bit: int) -> bytes:
    raw = bytearray(value)
    raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw)


@PROFILE
@given(leaves=leaf_lists, data=st.data())
def test_any_single_inclusion_mutation_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build_tree(leaves)
    index = data.draw(st.integers(0, tree.size - 1), label="index")
    leaf, proof, root, size = (
        tree.leaf_hash(index),
        tree.inclusion_proof(index),
        tree.root,
        tree.size,
    )
    bit = data.draw(st.integers(0, 255), label="bit")
    mutations = {
        "leaf bit": lambda: (index, size, _flip_bit(leaf, bit), proof, root),
        "root bit": lambda: (index, size, leaf, proof, _flip_bit(root, bit)),
        "other index": lambda: (
            data.draw(st.integers(0, size).filter(lambda i: i != index), label="new index"),
            size,
            leaf,
            proof,
            root,
        ),
        "other size": lambda: (
            index,
            data.draw(st.integers(0, 2 * size + 1).filter(lambda s: s != size), label="new size"),
            leaf,
            proof,
            root,
        ),
        "extended proof": lambda: (index, size, leaf, [*proof, root], root),
    }
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        mutations["proof bit"] = lambda: (
            index,
            size,
            leaf,
            [_flip_bit(h, bit) if i == position else h for i, h in enumerate(proof)],
            root,
        )
        mutations["truncated proof"] = lambda: (index, size, leaf, proof[:-1], root)
        mutations["dropped component"] = lambda: (
            index,
            size,
            leaf,
            [h for i, h in enumerate(proof) if i != position],
            root,
        )
    name = data.draw(st.sampled_from(sorted(mutations)), label="mutation")
    mutated = mutations[name]()
    if name == "other index" and mutated[0] < size and tree.leaf_hash(mutated[0]) == leaf:
        return  # duplicate leaves: the same hash genuinely is at the other index too
    if name == "other size" and _same_shape(index, mutated[1], index, size):
        return  # RFC 6962 roots do not bind the size: it must come from the signed batch
    with pytest.raises(VerificationError):
        verify_inclusion(*mutated)


@PROFILE
@given(leaves=st.lists(st.binary(max_size=16), min_size=2, max_size=70), data=st.data())
def test_any_single_consistency_mutation_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build_tree(leaves)
    size2 = data.draw(st.integers(2, tree.size), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    proof = tree.consistency_proof(size1, size2)
    root1, root2 = tree.root_at(size1), tree.root_at(size2)
    bit = data.draw(st.integers(0, 255), label="bit")
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    mutations = {
        "root1 bit": (size1, size2, _flip_bit(root1, bit), root2, proof),
        "root2 bit": (size1, size2, root1, _flip_bit(root2, bit), proof),
        "proof bit": (
            size1,
            size2,
            root1,
            root2,
            [_flip_bit(h, bit) if i == position else h for i, h in enumerate(proof)],
        ),
        "truncated proof": (size1, size2, root1, root2, proof[:-1]),
        "extended proof": (size1, size2, root1, root2, [*proof, root2]),
        "swapped roots": (size1, size2, root2, root1, proof),
        "size1 + 1": (size1 + 1, size2, root1, root2, proof),
        "size1 - 1": (size1 - 1, size2, root1, root2, proof),
        "size2 + 1": (size1, size2 + 1, root1, root2, proof),
        "size2 * 2": (size1, size2 * 2, root1, root2, proof),
    }
    name = data.draw(st.sampled_from(sorted(mutations)), label="mutation")
    new1, new2 = mutations[name][:2]
    if name.startswith("size") and _same_consistency_shape(new1, new2, size1, size2):
        return  # as above: the sizes themselves are authenticated elsewhere
    with pytest.raises(VerificationError):
        verify_consistency(*mutations[name])
