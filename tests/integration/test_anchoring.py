"""Anchoring against the real channel: every record on chain, once, where the index says."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ledger_service.index import models as m
from tests.integration.conftest import AnchoredLedger

pytestmark = pytest.mark.fabric


def test_every_record_is_on_chain_where_the_index_says(anchored_ledger: AnchoredLedger) -> None:
    ledger = anchored_ledger
    with ledger.session_factory() as s:
        rows = s.execute(
            select(
                m.Record.record_id,
                m.Record.commitment,
                m.RecordAnchor.batch_id,
                m.RecordAnchor.leaf_index,
                m.Batch.state,
                m.Batch.block_number,
            )
            .join(m.RecordAnchor, m.RecordAnchor.record_id == m.Record.record_id)
            .join(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
        ).all()
        pending = s.scalars(select(m.OutboxEntry).where(m.OutboxEntry.state == "pending")).all()
    assert len(rows) == len(ledger.records)
    assert not pending
    assert {r.state for r in rows} == {"committed"}
    with ledger.target.gateway() as gw:
        contract = gw.get_network(ledger.target.channel).get_contract(ledger.target.chaincode)
        for r in rows:
            on_chain = json.loads(contract.evaluate("GetRecord", args=[r.record_id]))
            assert on_chain == {
                "record_id": r.record_id,
                "commitment": r.commitment.hex(),
                "batch_id": r.batch_id,
                "leaf_index": r.leaf_index,
            }
        batch_ids = {r.batch_id for r in rows}
        for batch_id in batch_ids:
            batch = json.loads(contract.evaluate("GetBatch", args=[batch_id]))
            with ledger.session_factory() as s:
                row = s.get(m.Batch, batch_id)
            assert row is not None
            assert batch["root"] == row.root.hex()
            assert batch["size"] == row.size
            assert batch["tx_id"] == row.tx_id
    # Several batches, and nothing on chain names a payload field: values are hex and ids.
    assert len(batch_ids) >= 3
