"""The anchoring store's batch bookkeeping (no network), on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring.store import AnchoringStore
from ledger_service.index import models as m
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _pending(session_factory: sessionmaker[Session], n: int) -> AnchoringStore:
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    writer = RecordFactory("platform")
    service.register_writer("platform", writer.public_key)
    service.append([writer.data_update(f"r{i}") for i in range(n)])
    return AnchoringStore(session_factory=session_factory, clock=lambda: NOW)


def test_claimed_batch_is_named_by_queue_position_and_root(
    session_factory: sessionmaker[Session],
) -> None:
    store = _pending(session_factory, 5)
    plan = store.claim_batch(3)
    assert plan is not None
    assert plan.record_ids == ("r0", "r1", "r2")
    leaves = [commitment_leaf_hash(c) for c in plan.commitments]
    assert plan.root == MerkleTree.from_leaf_hashes(leaves).root
    assert plan.batch_id == f"b1-{plan.root.hex()[:12]}"
    assert store.pending_count() == 2


def test_batch_formed_again_after_a_failure_gets_a_new_id(
    session_factory: sessionmaker[Session],
) -> None:
    """A failed batch keeps its row and reason; its records, re-queued, form the same
    members and root again — the new batch must not collide with the failed one."""
    store = _pending(session_factory, 4)
    first = store.claim_batch(10)
    assert first is not None
    store.mark_failed(first.batch_id, reason="endorsement refused")
    assert store.pending_count() == 4

    second = store.claim_batch(10)
    assert second is not None
    assert second.root == first.root
    assert second.record_ids == first.record_ids
    assert second.batch_id == f"b1.2-{first.root.hex()[:12]}"
    store.mark_failed(second.batch_id, reason="again")
    third = store.claim_batch(10)
    assert third is not None
    assert third.batch_id == f"b1.3-{first.root.hex()[:12]}"

    with session_factory() as s:
        states = {b: st for b, st in s.execute(select(m.Batch.batch_id, m.Batch.state))}
        anchors = s.execute(select(m.RecordAnchor.batch_id)).scalars().all()
    assert states == {
        first.batch_id: m.BatchState.FAILED,
        second.batch_id: m.BatchState.FAILED,
        third.batch_id: m.BatchState.PENDING,
    }
    assert set(anchors) == {third.batch_id}
    assert len(anchors) == 4
