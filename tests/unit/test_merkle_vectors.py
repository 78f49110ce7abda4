"""Walk every RFC 6962 golden-vector file in tests/data/rfc6962 (see its README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.merkle import (
    EMPTY_ROOT,
    build_tree,
    leaf_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

from ledger_service.errors import VerificationError

VECTOR_DIR = Path(__file__).parents[1] / "data" / "rfc6962"
VECTOR_FILES = sorted(VECTOR_DIR.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def _check_tree(document: dict[str, Any]) -> int:
    leaves = _hexes(document["leaves"])
    roots = _hexes(document["roots"])
    levels = [_hexes(level) for level in document["node_hashes"]]
    assert roots[0] == EMPTY_ROOT
    assert [leaf_hash(leaf) for leaf in leaves] == levels[0]
    full = build_tree(leaves)
    for size in range(len(leaves) + 1):
        assert full.root_at(size) == roots[size], f"root of size {size}"
        assert build_tree(leaves[:size]).root == roots[size], f"fresh tree of size {size}"
    # Every complete subtree published upstream is a node of our level-by-level tree.
    for height, level in enumerate(levels):
        for position, expected in enumerate(level):
            start = position << height
            if start == 0:
                assert full.root_at(1 << height) == expected
            assert build_tree(leaves[start : start + (1 << height)]).root == expected
    return len(roots)


def _check_inclusion(probe: dict[str, Any]) -> None:
    args = (
        probe["leaf_index"],
        probe["tree_size"],
        bytes.fromhex(probe["leaf_hash"]),
        _hexes(probe["proof"]),
    )
    root = bytes.fromhex(probe["root"])
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args, root)
    else:
        assert root_from_inclusion_proof(*args) == root
        verify_inclusion(*args, root)


def _check_consistency(probe: dict[str, Any]) -> None:
    args = (
        probe["size1"],
        probe["size2"],
        bytes.fromhex(probe["root1"]),
        bytes.fromhex(probe["root2"]),
        _hexes(probe["proof"]),
    )
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_files_present() -> None:
    assert {path.name for path in VECTOR_FILES} >= {
        "tree.json",
        "inclusion.json",
        "consistency.json",
    }


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda path: path.name)
def test_vector_file(path: Path) -> None:
    document = _load(path)
    kind = document["kind"]
    if kind == "tree":
        assert _check_tree(document) == 9
        return
    checks = {"inclusion": _check_inclusion, "consistency": _check_consistency}
    assert kind in checks, f"{path.name}: unknown vector kind {kind!r}"
    failures = []
    for probe in document["probes"]:
        try:
            checks[kind](probe)
        except (AssertionError, pytest.fail.Exception) as exc:
            failures.append(f"{probe['desc']}: {exc}")
    assert not failures, "\n".join(failures)
    happy = [probe for probe in document["probes"] if not probe["want_error"]]
    assert len(happy) >= 5  # the published proofs themselves
    assert len(document["probes"]) > 3 * len(happy)  # and their mutations


def test_published_proofs_match_our_builder() -> None:
    tree = _load(VECTOR_DIR / "tree.json")
    leaves = _hexes(tree["leaves"])
    full = build_tree(leaves)
    for probe in _load(VECTOR_DIR / "inclusion.json")["probes"]:
        if probe["want_error"] or probe["desc"].startswith("single entry"):
            continue
        proof = full.inclusion_proof(probe["leaf_index"], probe["tree_size"])
        assert proof == _hexes(probe["proof"]), probe["desc"]
    for probe in _load(VECTOR_DIR / "consistency.json")["probes"]:
        if probe["want_error"] or probe["desc"].startswith("static"):
            continue
        proof = full.consistency_proof(probe["size1"], probe["size2"])
        assert proof == _hexes(probe["proof"]), probe["desc"]
