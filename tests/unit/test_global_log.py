"""The global log over the chain mirror, its checkpoints, and a witness over them."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from credit_ledger_verify.merkle import EMPTY_ROOT, MerkleTree, build_tree, commitment_leaf_hash
from credit_ledger_verify.tlog import (
    AddCheckpointRequest,
    Checkpoint,
    CheckpointPolicy,
    SignerKey,
    Verdict,
    Witness,
    WitnessState,
    sign_checkpoint,
    verify_checkpoint,
)
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index.chain_models import ChainBatch, ChainRecord
from ledger_service.index.log_models import LogSubtree
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import (
    CheckpointNotFoundError,
    LogKeyError,
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
    prove_consistency,
    read_checkpoint,
)
from ledger_service.tlog.global_log import (
    CompactRange,
    GlobalLogDivergedError,
    LogView,
    MirrorLeaf,
    advance,
    leaf_hashes_in_commit_order,
    read_head,
    tree_at,
)
from tests.db.fixtures import IndexDatabase

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ORIGIN = platform_origin("ledger", "ledger")


def _commitment(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _mirror_batch(
    sessions: sessionmaker[Session], batch_id: str, block: int, tx_index: int, size: int
) -> list[MirrorLeaf]:
    """Write one batch into the chain mirror as replay would; its leaves."""
    leaves = [MirrorLeaf(block, tx_index, i, _commitment(f"{batch_id}/{i}")) for i in range(size)]
    with write_session(sessions) as s:
        s.add(
            ChainBatch(
                batch_id=batch_id,
                root=build_tree([leaf.commitment for leaf in leaves]).root,
                size=size,
                tx_id=f"tx-{batch_id}",
                block_number=block,
                tx_index=tx_index,
                creator_msp="PlatformMSP",
                tx_timestamp=NOW,
            )
        )
        # inserted in reverse leaf order: the log must order by position, not by insertion
        for leaf in reversed(leaves):
            s.add(
                ChainRecord(
                    commitment=leaf.commitment,
                    batch_id=batch_id,
                    leaf_index=leaf.leaf_index,
                    block_number=block,
                    tx_id=f"tx-{batch_id}",
                )
            )
    return leaves


# batches as (id, block, tx_index, size), listed out of commit order on purpose
BATCHES = [("b-c", 7, 0, 5), ("b-a", 3, 1, 4), ("b-b", 3, 0, 1), ("b-d", 7, 2, 3), ("b-e", 9, 0, 8)]


def test_commit_order_is_block_then_transaction_then_leaf() -> None:
    leaves = [MirrorLeaf(2, 0, 1, b"\x01" * 32), MirrorLeaf(1, 5, 0, b"\x02" * 32)]
    leaves += [MirrorLeaf(2, 0, 0, b"\x03" * 32), MirrorLeaf(1, 0, 9, b"\x04" * 32)]
    expected = [b"\x04" * 32, b"\x02" * 32, b"\x03" * 32, b"\x01" * 32]
    assert leaf_hashes_in_commit_order(leaves) == list(build_tree(expected).leaf_hashes)


def test_global_log_equals_an_independent_tree_over_the_expected_order(
    index_db: IndexDatabase,
) -> None:
    sessions = index_db.session_factory
    written: list[MirrorLeaf] = []
    for batch in BATCHES:
        written += _mirror_batch(sessions, *batch)
    expected = sorted(written, key=lambda leaf: leaf[:3])
    reference = build_tree([leaf.commitment for leaf in expected])
    with write_session(sessions) as s:
        head = advance(s, ORIGIN, NOW)
        assert (head.size, head.root, head.last_position) == (21, reference.root, (9, 0, 7))
        for size in range(reference.size + 1):
            assert tree_at(s, size).root == reference.root_at(size)
    with sessions() as s:
        assert read_head(s, ORIGIN) == head


def test_incremental_equals_from_scratch(index_db: IndexDatabase) -> None:
    sessions = index_db.session_factory
    other_origin = platform_origin("other", "ledger")
    ordered = sorted(BATCHES, key=lambda b: (b[1], b[2]))
    with sessions() as s:
        assert read_head(s, ORIGIN).root == EMPTY_ROOT
    for batch in ordered:  # the mirror grows in commit order; the log follows it batch by batch
        _mirror_batch(sessions, *batch)
        with write_session(sessions) as s:
            head = advance(s, ORIGIN, NOW)
    with write_session(sessions) as s:
        assert advance(s, ORIGIN, NOW) == head  # nothing new: unchanged
        scratch = advance(s, other_origin, NOW)  # a second log built in one pass
    assert (scratch.size, scratch.root) == (head.size, head.root)


def test_compact_range_matches_the_tree_at_every_size() -> None:
    hashes = [hashlib.sha256(bytes([i])).digest() for i in range(70)]
    compact = CompactRange()
    tree = build_tree(hashes)
    for size in range(1, len(hashes) + 1):
        compact.append(tree.leaf_hash(size - 1))
        assert compact.root() == tree.root_at(size)
        assert CompactRange.decode(size, compact.encode_edge()).root() == compact.root()
    with pytest.raises(GlobalLogDivergedError):
        CompactRange.decode(5, b"\x00" * 32)


def test_a_mirror_changed_under_the_log_is_refused(index_db: IndexDatabase) -> None:
    sessions = index_db.session_factory
    _mirror_batch(sessions, "b-x", 5, 0, 3)
    with write_session(sessions) as s:
        advance(s, ORIGIN, NOW)
    _mirror_batch(sessions, "b-early", 2, 0, 2)  # lands before the log's head
    with write_session(sessions) as s, pytest.raises(GlobalLogDivergedError, match="holds 5"):
        advance(s, ORIGIN, NOW)


def test_log_key_is_created_once_private_and_for_its_origin(tmp_path: Path) -> None:
    key = load_or_create_log_key(tmp_path, ORIGIN)
    path = tmp_path / "tlog" / "log.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_log_key(tmp_path, ORIGIN).encode() == key.encode()
    assert key.encode() not in repr(key)
    with pytest.raises(LogKeyError, match="is for origin"):
        load_or_create_log_key(tmp_path, platform_origin("other", "ledger"))
    os.chmod(path, 0o644)
    with pytest.raises(LogKeyError, match="mode 644"):
        load_or_create_log_key(tmp_path, ORIGIN)


def test_checkpoints_verify_and_a_witness_follows_them_and_catches_a_fork(
    index_db: IndexDatabase, tmp_path: Path
) -> None:
    sessions = index_db.session_factory
    key = load_or_create_log_key(tmp_path, ORIGIN)
    policy = CheckpointPolicy(key.verifier)
    sizes = []
    for batch in sorted(BATCHES, key=lambda b: (b[1], b[2])):
        _mirror_batch(sessions, *batch)
        with write_session(sessions) as s:
            issued = issue_checkpoint(s, key, NOW)
        assert verify_checkpoint(issued.note, policy).checkpoint == issued.checkpoint
        sizes.append(issued.checkpoint.size)
    assert sizes == [1, 5, 10, 13, 21]
    with write_session(sessions) as s:  # nothing new: the stored checkpoint, not a new one
        assert issue_checkpoint(s, key, NOW).note == issued.note

    witness = Witness(SignerKey.generate("witness.bank.example", 0x04), [key.verifier])
    state: WitnessState | None = None
    old = 0
    with sessions() as s:
        for size in sizes:
            request = prove_consistency(s, ORIGIN, old, size)
            decision = witness.add_checkpoint(
                state, AddCheckpointRequest.parse(request.encode()), 1
            )
            assert decision.verdict is Verdict.ACCEPT, decision.message
            state, old = decision.state, size
        assert read_checkpoint(s, ORIGIN).checkpoint.size == 21
        with pytest.raises(CheckpointNotFoundError):
            read_checkpoint(s, ORIGIN, 7)

        # a fork signed with the real key: a leaf already witnessed at size 13 rewritten
        forked_leaves = list(tree_at(s, 21).leaf_hashes)
        forked_leaves[2] = hashlib.sha256(b"forked").digest()
        forked = MerkleTree.from_leaf_hashes(forked_leaves)
    at_13 = forked.consistency_proof(13, 21)
    fork_note = sign_checkpoint(Checkpoint(ORIGIN, 21, forked.root), key)
    assert state is not None
    split = witness.add_checkpoint(state, AddCheckpointRequest(21, (), fork_note), 2)
    assert (split.verdict, split.reason) == (Verdict.ALARM, "split_view")

    with sessions() as s:
        at_13_state = WitnessState(
            read_checkpoint(s, ORIGIN, 13).checkpoint, read_checkpoint(s, ORIGIN, 13).note
        )
    extension = witness.add_checkpoint(
        at_13_state, AddCheckpointRequest(13, tuple(at_13), fork_note), 3
    )
    assert (extension.verdict, extension.reason) == (Verdict.ALARM, "inconsistent_extension")


def test_log_view_roots_and_proofs_from_stored_subtrees_equal_the_full_tree(
    index_db: IndexDatabase,
) -> None:
    """Roots and proofs read O(log N) stored subtrees (+ at most two partial tiles), and
    equal the tree over every leaf; subtrees completed across several advances included."""
    sessions = index_db.session_factory
    # 5 batches in 4 blocks, sizes chosen so tiles (256 leaves) straddle batches and advances
    sizes = [700, 301, 1500, 255, 2300]
    written: list[MirrorLeaf] = []
    for number, size in enumerate(sizes):
        written += _mirror_batch(sessions, f"big-{number}", 20 + number // 2, number % 2, size)
        with write_session(sessions) as s:
            advance(s, ORIGIN, NOW)
    reference = build_tree([leaf.commitment for leaf in sorted(written, key=lambda x: x[:3])])
    total = reference.size
    with sessions() as s:
        view = LogView(s, ORIGIN)
        assert view.size == total
        for size in (1, 255, 256, 257, 1000, 1001, 2756, 4095, 4096, total - 1, total):
            assert view.root_at(size) == reference.root_at(size), size
        for old, new in ((1, total), (256, 4096), (700, 1001), (1001, 2756), (3000, total)):
            fresh = LogView(s, ORIGIN)
            assert fresh.consistency_proof(old, new) == reference.consistency_proof(old, new)
            # two partial tiles at most, plus a few stored subtrees per level
            assert fresh.rows_read <= 2 * (1 + 256) + 3 * total.bit_length(), (old, new)
        with pytest.raises(GlobalLogDivergedError, match="beyond its head"):
            view.root_at(total + 1)


def test_log_view_inclusion_proofs_and_leaf_indexes_equal_the_full_tree(
    index_db: IndexDatabase,
) -> None:
    """Inclusion proofs from stored subtrees equal MerkleTree's at every tested size, read
    O(log N) rows, and a commitment's log index is found without scanning the log."""
    sessions = index_db.session_factory
    sizes = [700, 301, 1500, 255, 2300]
    written: list[MirrorLeaf] = []
    for number, size in enumerate(sizes):
        written += _mirror_batch(sessions, f"inc-{number}", 20 + number // 2, number % 2, size)
        with write_session(sessions) as s:
            advance(s, ORIGIN, NOW)
    ordered = sorted(written, key=lambda x: x[:3])
    reference = MerkleTree([commitment_leaf_hash(leaf.commitment) for leaf in ordered])
    total = reference.size
    with sessions() as s:
        for index, size in (
            (0, 1),
            (0, total),
            (255, 256),
            (256, 257),
            (700, 1001),
            (1000, 1001),
            (2755, 4096),
            (3001, total),
            (total - 1, total),
        ):
            fresh = LogView(s, ORIGIN)
            assert fresh.inclusion_proof(index, size) == reference.inclusion_proof(index, size)
            assert fresh.rows_read <= 2 * (1 + 256) + 3 * total.bit_length(), (index, size)
        view = LogView(s, ORIGIN)
        for index in (0, 255, 256, 699, 700, 1000, 2755, 2756, 4096, total - 1):
            fresh = LogView(s, ORIGIN)
            assert fresh.leaf_index(ordered[index].commitment) == index
            assert fresh.rows_read <= 2 + total.bit_length()
        assert view.leaf_index(_commitment("never mirrored")) is None
        with pytest.raises(ValueError, match="outside a log of 5 leaves"):
            view.inclusion_proof(5, 5)
        with pytest.raises(GlobalLogDivergedError, match="beyond its head"):
            view.inclusion_proof(0, total + 1)
    # a leaf mirrored but not yet appended to the log is not in it
    (extra,) = _mirror_batch(sessions, "inc-late", 99, 0, 1)
    with sessions() as s:
        assert LogView(s, ORIGIN).leaf_index(extra.commitment) is None


def test_log_view_refuses_a_missing_subtree(index_db: IndexDatabase) -> None:
    sessions = index_db.session_factory
    _mirror_batch(sessions, "t-0", 5, 0, 600)
    with write_session(sessions) as s:
        advance(s, ORIGIN, NOW)
        s.execute(delete(LogSubtree).where(LogSubtree.level == 9))
    with sessions() as s, pytest.raises(GlobalLogDivergedError, match="level 9, index 0"):
        LogView(s, ORIGIN).root_at(600)
