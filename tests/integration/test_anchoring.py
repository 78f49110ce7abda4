"""Anchoring against the real channel: every record on chain, once, where the index says."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from ledger_service.index import models as m
from ledger_service.ops.topology import Topology
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger

pytestmark = pytest.mark.fabric


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ledger(
    request: pytest.FixtureRequest,
    fabric_network: Topology,
    tmp_path_factory: pytest.TempPathFactory,
) -> AnchoredLedger:
    """900 records anchored through an index on SQLite, and through one on PostgreSQL."""
    if request.param == "sqlite":
        anchored: AnchoredLedger = request.getfixturevalue("anchored_ledger")
        return anchored
    server = request.getfixturevalue("postgres_server")
    url = server.create_database(f"anchoring_{uuid.uuid4().hex[:8]}")
    return make_anchored_ledger(
        fabric_network,
        tmp_path_factory.mktemp("pg-ledger"),
        count=900,
        prefix=f"p{uuid.uuid4().hex[:8]}",
        db_url=url,
    )


def test_every_record_is_on_chain_where_the_index_says(ledger: AnchoredLedger) -> None:
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
            # known on chain by its commitment only: the record id never goes there
            on_chain = json.loads(contract.evaluate("GetRecord", args=[r.commitment.hex()]))
            assert on_chain == {
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
