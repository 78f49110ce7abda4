"""Access-log entries are committed like records (salt, SHA-256 over their canonical JSON),
queued in the anchoring outbox in the same transaction, and batched with records."""

from __future__ import annotations

import hashlib

import pytest
from credit_ledger_verify.access_entry import ACCESS_ENTRY_FORMAT, parse_access_entry
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring.store import AnchoringStore
from ledger_service.context import LedgerContext
from ledger_service.errors import ValidationError
from ledger_service.index import models as m
from ledger_service.index.leaves import batch_leaves
from ledger_service.queries import AccessLog
from ledger_service.queries.access import committed_entry
from tests.db.factories import RecordFactory
from tests.unit.conftest import NOW


def _rows(sessions: sessionmaker[Session]) -> list[m.AccessLogEntry]:
    with sessions() as s:
        return list(s.scalars(select(m.AccessLogEntry).order_by(m.AccessLogEntry.id)))


def test_each_entry_is_committed_over_its_canonical_json(
    access_log: AccessLog, ledger: LedgerContext
) -> None:
    access_log.log_answer(
        accessor="csrc/audit (auditor key k1)",
        query="lineage",
        purpose="supervision",
        read=[("S1", "r1"), ("S2", None)],
        request_id="req-1",
    )
    rows = _rows(ledger.session_factory)
    assert len(rows) == 2
    assert len({bytes(r.salt) for r in rows}) == 2  # a fresh salt each
    for row in rows:
        content = committed_entry(row).canonical_bytes()
        assert bytes(row.commitment) == hashlib.sha256(bytes(row.salt) + content).digest()
        entry = parse_access_entry(content)
        assert (entry.entry_id, entry.subject, entry.purpose) == (
            row.id,
            row.subject,
            "supervision",
        )
        assert entry.accessed_at == NOW
    assert b'"format":"' + ACCESS_ENTRY_FORMAT.encode() + b'"' in content
    assert b"record_id" not in committed_entry(rows[1]).canonical_bytes()  # absent, not null


def test_the_outbox_row_is_written_with_the_entry(
    access_log: AccessLog, ledger: LedgerContext
) -> None:
    access_log.log(accessor="bank", query="evidence", purpose="loan review", record_id="r1")
    with ledger.session_factory() as s:
        (row,) = s.scalars(select(m.OutboxEntry)).all()
        entry_id = s.scalar(select(m.AccessLogEntry.id))
    assert (row.record_id, row.access_entry_id, row.state) == (None, entry_id, "pending")


def test_a_refused_entry_writes_neither_entry_nor_outbox_row(
    access_log: AccessLog, ledger: LedgerContext
) -> None:
    with pytest.raises(ValidationError):
        access_log.log(accessor="bank", query="evidence", purpose="")
    with ledger.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.OutboxEntry)) == 0
        assert s.scalar(select(func.count()).select_from(m.AccessLogEntry)) == 0


def test_a_changed_column_no_longer_matches_the_commitment(
    access_log: AccessLog, ledger: LedgerContext
) -> None:
    access_log.log(accessor="bank", query="evidence", purpose="loan review", subject="S1")
    (row,) = _rows(ledger.session_factory)
    for change in ({"purpose": "curiosity"}, {"accessor": "someone"}, {"subject": "S2"}):
        altered = m.AccessLogEntry(
            **{c: getattr(row, c) for c in ("id", "accessed_at", "accessor", "query")},
            purpose=row.purpose,
            subject=row.subject,
        )
        for name, value in change.items():
            setattr(altered, name, value)
        content = committed_entry(altered).canonical_bytes()
        assert hashlib.sha256(bytes(row.salt) + content).digest() != bytes(row.commitment)


def test_records_and_entries_share_batches_in_queue_order(
    access_log: AccessLog, ledger: LedgerContext, platform: RecordFactory
) -> None:
    ledger.intake.append([platform.data_update("r0")])
    access_log.log(accessor="bank", query="evidence", purpose="loan review", record_id="r0")
    ledger.intake.append([platform.data_update("r1")])
    store = AnchoringStore(session_factory=ledger.session_factory, clock=lambda: NOW)
    plan = store.claim_batch(10)
    assert plan is not None
    assert plan.record_ids == ("r0", "r1")
    assert len(plan.access_entry_ids) == 1
    assert len(plan.commitments) == 3
    tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(c) for c in plan.commitments])
    assert plan.root == tree.root
    with ledger.session_factory() as s:
        leaves = s.execute(batch_leaves(plan.batch_id)).all()
        (entry,) = s.scalars(select(m.AccessLogEntry)).all()
    assert [(r.leaf_index, r.record_id, r.entry_id) for r in leaves] == [
        (0, "r0", None),
        (1, None, entry.id),
        (2, "r1", None),
    ]
    assert bytes(leaves[1].commitment) == bytes(entry.commitment)
    assert store.load_plan(plan.batch_id) == plan
    assert store.pending_count() == 0


def test_a_failed_batch_requeues_its_entries_too(
    access_log: AccessLog, ledger: LedgerContext, platform: RecordFactory
) -> None:
    ledger.intake.append([platform.data_update("r0")])
    access_log.log(accessor="bank", query="evidence", purpose="loan review", record_id="r0")
    store = AnchoringStore(session_factory=ledger.session_factory, clock=lambda: NOW)
    first = store.claim_batch(10)
    assert first is not None
    store.mark_failed(first.batch_id, reason="endorsement refused")
    assert store.pending_count() == 2
    second = store.claim_batch(10)
    assert second is not None
    assert second.commitments == first.commitments
    assert second.access_entry_ids == first.access_entry_ids
    with ledger.session_factory() as s:
        anchors = s.scalars(select(m.AccessAnchor.batch_id)).all()
    assert anchors == [second.batch_id]
