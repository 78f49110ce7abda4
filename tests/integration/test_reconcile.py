"""Reconciling the index against the real channel: every kind of off-chain tampering, done
directly in a copy of the index database, is detected and names the record.

The channel is shared with other tests, so reconcile runs with ``scope="index"`` (only
chain batches this index knows count for "missing from the index").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ledger_service.chainsync.reconcile import (
    Mismatch,
    MismatchKind,
    ReconcileSummary,
    reconcile,
)
from ledger_service.cli import app
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch
from ledger_service.index.session import write_session
from ledger_service.samples.data import stories
from ledger_service.samples.ledger import AnchoredLedger
from tests.db.erasure import erase_lawfully
from tests.integration.test_rebuild import IndexCopy, copy_index, run_replay

pytestmark = pytest.mark.fabric

K = MismatchKind


@pytest.fixture(scope="module")
def mirrored(anchored_ledger: AnchoredLedger) -> AnchoredLedger:
    """The module's anchored ledger with its chain mirror replayed (copies start from it)."""
    result = run_replay(anchored_ledger, anchored_ledger.session_factory)
    assert result.anomaly_count == 0
    return anchored_ledger


@pytest.fixture
def index(mirrored: AnchoredLedger, tmp_path: Path) -> Iterator[IndexCopy]:
    copy = copy_index(mirrored, tmp_path / "copy")
    yield copy
    copy.engine.dispose()


def check(
    ledger: AnchoredLedger, copy: IndexCopy, summary: ReconcileSummary | None = None
) -> list[Mismatch]:
    """Catch the mirror up with the channel, then reconcile (what the CLI does)."""
    run_replay(ledger, copy.sessions)
    return list(
        reconcile(copy.sessions, scope="index", channel=ledger.target.channel, summary=summary)
    )


def found(mismatches: list[Mismatch]) -> set[tuple[MismatchKind, str | None]]:
    return {(x.kind, x.record_id) for x in mismatches}


def anchor_of(copy: IndexCopy, record_id: str) -> Any:
    with copy.sessions() as s:
        return s.execute(
            select(m.RecordAnchor.batch_id, m.RecordAnchor.leaf_index, m.Batch.size)
            .join(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
            .where(m.RecordAnchor.record_id == record_id)
        ).one()


def members(copy: IndexCopy, batch_id: str) -> set[str]:
    with copy.sessions() as s:
        return set(
            s.scalars(select(m.RecordAnchor.record_id).where(m.RecordAnchor.batch_id == batch_id))
        )


def leaf_record(copy: IndexCopy) -> str:
    """A record nothing points at (no children, not corrected or disputed)."""
    with copy.sessions() as s:
        edges = select(m.LineageEdge.parent_id)
        refs = (
            select(m.Record.supersedes)
            .where(m.Record.supersedes.is_not(None))
            .union(select(m.Record.disputes).where(m.Record.disputes.is_not(None)))
        )
        rid = s.scalar(
            select(m.Record.record_id)
            .where(m.Record.record_id.not_in(edges), m.Record.record_id.not_in(refs))
            .order_by(m.Record.record_id)
            .limit(1)
        )
    assert rid is not None
    return rid


def some_record(ledger: AnchoredLedger, n: int = 17) -> str:
    return ledger.records[n].record_id


# -- clean ----------------------------------------------------------------------------------------


def test_clean_index_has_no_mismatch(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    summary = ReconcileSummary()
    assert check(mirrored, index, summary) == []
    assert summary.clean
    assert summary.records_checked == len(mirrored.records)
    assert summary.mirror_first_block == 0


# -- (a) payload or salt altered ------------------------------------------------------------------


def test_altered_payload_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored)
    with write_session(index.sessions) as s:
        row = s.get(m.Record, victim)
        assert row is not None
        assert row.content is not None
        content = bytearray(row.content)
        at = bytes(content).index(b"subject")
        content[at] = ord("S")  # one byte of the canonical JSON
        row.content = bytes(content)
    got = check(mirrored, index)
    assert found(got) == {(K.CONTENT_ALTERED, victim)}
    [x] = got
    assert x.is_tampering
    with index.sessions() as s:
        chain = s.scalar(select(m.Record.commitment).where(m.Record.record_id == victim))
    assert chain is not None
    assert x.chain_value == bytes(chain).hex()
    assert x.index_value != x.chain_value


def test_altered_salt_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored, 40)
    with write_session(index.sessions) as s:
        s.execute(update(m.Record).where(m.Record.record_id == victim).values(salt=b"\x07" * 32))
    assert found(check(mirrored, index)) == {(K.CONTENT_ALTERED, victim)}


def test_content_deleted_without_erasure_is_detected(
    mirrored: AnchoredLedger, index: IndexCopy
) -> None:
    victim = some_record(mirrored, 41)
    with write_session(index.sessions) as s:
        s.execute(
            update(m.Record)
            .where(m.Record.record_id == victim)
            .values(content=None, salt=None, content_sha256=None)
        )
    assert found(check(mirrored, index)) == {(K.CONTENT_MISSING, victim)}


def test_crypto_shredded_record_is_erased_not_tampered(
    mirrored: AnchoredLedger, index: IndexCopy, tmp_path: Path
) -> None:
    victim = some_record(mirrored, 42)
    erase_lawfully(index.service, index.sessions, tmp_path, victim)
    summary = ReconcileSummary()
    got = check(mirrored, index, summary)
    assert found(got) == {(K.ERASED, victim)}
    assert not got[0].is_tampering
    assert summary.clean


# -- (b) record deleted from the index -------------------------------------------------------------


def test_deleted_record_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = leaf_record(index)
    with write_session(index.sessions) as s:
        commitment = s.scalar(select(m.Record.commitment).where(m.Record.record_id == victim))
        s.execute(delete(m.LineageEdge).where(m.LineageEdge.child_id == victim))
        s.execute(delete(m.RecordAnchor).where(m.RecordAnchor.record_id == victim))
        s.execute(delete(m.OutboxEntry).where(m.OutboxEntry.record_id == victim))
        s.execute(delete(m.Record).where(m.Record.record_id == victim))
    assert commitment is not None
    got = check(mirrored, index)
    # the chain never knew the record id: the lost record is named by its commitment
    assert found(got) == {(K.MISSING_FROM_INDEX, None)}
    assert got[0].commitment == bytes(commitment).hex()
    assert got[0].chain_value is not None
    assert got[0].chain_value.startswith("batch ")


# -- (c) index claims anchored, the chain has no such record ---------------------------------------


def test_claimed_anchor_without_chain_record_is_detected(
    mirrored: AnchoredLedger, index: IndexCopy
) -> None:
    [extra] = list(stories(mirrored.writer, 1, prefix=f"x{uuid.uuid4().hex[:8]}"))
    index.service.append([extra])
    batch_id, _, size = anchor_of(index, some_record(mirrored))
    with write_session(index.sessions) as s:
        s.add(m.RecordAnchor(record_id=extra.record_id, batch_id=batch_id, leaf_index=size + 7))
        s.execute(
            update(m.OutboxEntry)
            .where(m.OutboxEntry.record_id == extra.record_id)
            .values(state="batched")
        )
    got = check(mirrored, index)
    assert found(got) == {(K.NOT_ON_CHAIN, extra.record_id)}
    assert got[0].chain_value is None
    assert got[0].index_value is not None
    assert batch_id in got[0].index_value


# -- (d) wrong batch / leaf / tx / block; anchor missing ----------------------------------------


def test_wrong_leaf_index_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored, 5)
    _, leaf, size = anchor_of(index, victim)
    with write_session(index.sessions) as s:
        s.execute(
            update(m.RecordAnchor)
            .where(m.RecordAnchor.record_id == victim)
            .values(leaf_index=size + 100)
        )
    got = check(mirrored, index)
    assert found(got) == {(K.WRONG_LEAF_INDEX, victim)}
    assert (got[0].index_value, got[0].chain_value) == (str(size + 100), str(leaf))


def test_wrong_batch_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored, 6)
    batch_id, _, _ = anchor_of(index, victim)
    with index.sessions() as s:
        other = s.scalar(
            select(m.Batch.batch_id).where(m.Batch.batch_id != batch_id).order_by(m.Batch.batch_id)
        )
    assert other is not None
    with write_session(index.sessions) as s:
        s.execute(
            update(m.RecordAnchor)
            .where(m.RecordAnchor.record_id == victim)
            .values(batch_id=other, leaf_index=99_999)
        )
    got = check(mirrored, index)
    assert found(got) == {(K.WRONG_BATCH, victim)}
    assert (got[0].index_value, got[0].chain_value) == (other, batch_id)


def test_wrong_tx_id_is_detected_for_every_record_of_the_batch(
    mirrored: AnchoredLedger, index: IndexCopy
) -> None:
    batch_id, _, _ = anchor_of(index, some_record(mirrored, 7))
    with write_session(index.sessions) as s:
        s.execute(update(m.Batch).where(m.Batch.batch_id == batch_id).values(tx_id="f" * 64))
    got = check(mirrored, index)
    assert {x.kind for x in got} == {K.WRONG_TX_ID}
    assert {x.record_id for x in got} == members(index, batch_id)
    assert {x.index_value for x in got} == {"f" * 64}


def test_wrong_block_number_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    batch_id, _, _ = anchor_of(index, some_record(mirrored, 8))
    with write_session(index.sessions) as s:
        s.execute(
            update(m.Batch)
            .where(m.Batch.batch_id == batch_id)
            .values(block_number=m.Batch.block_number - 1)
        )
    got = check(mirrored, index)
    assert {x.kind for x in got} == {K.WRONG_BLOCK_NUMBER}
    assert {x.record_id for x in got} == members(index, batch_id)


def test_deleted_anchor_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored, 9)
    with write_session(index.sessions) as s:
        s.execute(delete(m.RecordAnchor).where(m.RecordAnchor.record_id == victim))
    assert found(check(mirrored, index)) == {(K.ANCHOR_MISSING, victim)}


# -- (e) commitment column -------------------------------------------------------------------------


def test_altered_commitment_column_is_detected(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    victim = some_record(mirrored, 10)
    with write_session(index.sessions) as s:
        s.execute(
            update(m.Record).where(m.Record.record_id == victim).values(commitment=b"\x01" * 32)
        )
    # content and salt still hash to the chain's commitment: only (e)
    got = check(mirrored, index)
    assert found(got) == {(K.COMMITMENT_MISMATCH, victim)}
    assert got[0].index_value == "01" * 32


# -- (f) batch root / size -------------------------------------------------------------------------


def test_batch_root_and_size_are_checked(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    batch_a, _, _ = anchor_of(index, some_record(mirrored, 11))
    with index.sessions() as s:
        batch_b = s.scalar(
            select(m.Batch.batch_id).where(m.Batch.batch_id != batch_a).order_by(m.Batch.batch_id)
        )
    assert batch_b is not None
    with write_session(index.sessions) as s:
        s.execute(update(m.Batch).where(m.Batch.batch_id == batch_a).values(root=b"\x02" * 32))
        s.execute(update(m.Batch).where(m.Batch.batch_id == batch_b).values(size=m.Batch.size + 1))
    got = check(mirrored, index)
    assert {(x.kind, x.batch_id) for x in got} == {
        (K.BATCH_ROOT_MISMATCH, batch_a),
        (K.BATCH_SIZE_MISMATCH, batch_b),
    }
    assert all(x.record_id is None for x in got)


def test_a_root_that_is_not_the_root_of_its_leaves_is_detected(
    mirrored: AnchoredLedger, index: IndexCopy
) -> None:
    # Index and mirror agree on a root that is not the Merkle root of the batch's records:
    # no comparison between them can see it; recomputing the tree does.
    batch, _, _ = anchor_of(index, some_record(mirrored, 12))
    with write_session(index.sessions) as s:
        s.execute(update(m.Batch).where(m.Batch.batch_id == batch).values(root=b"\x05" * 32))
        s.execute(update(ChainBatch).where(ChainBatch.batch_id == batch).values(root=b"\x05" * 32))
    got = check(mirrored, index)
    assert {(x.kind, x.batch_id) for x in got} == {(K.CHAIN_ROOT_INCONSISTENT, batch)}
    assert got[0].chain_value == "05" * 32


def test_many_tamperings_at_once_are_all_listed(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    a, e, d = some_record(mirrored, 20), some_record(mirrored, 21), some_record(mirrored, 22)
    with write_session(index.sessions) as s:
        s.execute(update(m.Record).where(m.Record.record_id == a).values(salt=b"\x03" * 32))
        s.execute(update(m.Record).where(m.Record.record_id == e).values(commitment=b"\x04" * 32))
        s.execute(delete(m.RecordAnchor).where(m.RecordAnchor.record_id == d))
    assert found(check(mirrored, index)) == {
        (K.CONTENT_ALTERED, a),
        (K.COMMITMENT_MISMATCH, e),
        (K.ANCHOR_MISSING, d),
    }


# -- CLI -------------------------------------------------------------------------------------------


def test_cli_reconcile_exit_codes_and_json(mirrored: AnchoredLedger, index: IndexCopy) -> None:
    state_dir = str(mirrored.topology.root)
    base = ["index", "reconcile", "--state-dir", state_dir, "--db", index.url, "--scope", "index"]
    clean = CliRunner().invoke(app, base)
    assert clean.exit_code == 0, clean.output
    assert "0 mismatches" in clean.output

    victim = some_record(mirrored, 30)
    with write_session(index.sessions) as s:
        s.execute(update(m.Record).where(m.Record.record_id == victim).values(salt=b"\x05" * 32))
    table = CliRunner().invoke(app, base)
    assert table.exit_code == 1, table.output
    assert victim in table.output
    assert "content_altered" in table.output

    as_json = CliRunner().invoke(app, [*base, "--json", "--no-sync"])
    assert as_json.exit_code == 1
    lines = [json.loads(line) for line in as_json.output.splitlines() if line.startswith("{")]
    assert lines[-1]["summary"]["counts"] == {"content_altered": 1}
    assert lines[0]["record_id"] == victim
    assert lines[0]["kind"] == "content_altered"
    assert lines[0]["tampering"] is True
