"""Evidence bundles built from the real channel, verified offline.

Every record of the `anchored_ledger` fixture (~900 records on the real network) gets a bundle
— alone and together, full and redacted — that verifies against the network's org CAs; bundles
tampered with after building fail at the right step; the CLI builds, verifies and exports.

`LEDGER_REGEN_EVIDENCE_DATA=1` additionally rewrites the offline test data of
tests/unit/test_evidence.py (tests/data/evidence/, see its README).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fabric_gateway import blocks
from fabric_protos.common import common_pb2
from sqlalchemy import select
from typer.testing import CliRunner

from ledger_service.cli import app
from ledger_service.evidence import (
    BUNDLE_FORMAT,
    CachingBlockSource,
    EvidenceError,
    GatewayBlockSource,
    Step,
    StepStatus,
    TrustStore,
    Verifier,
    build_bundle,
    encode_bundle,
    upstream_record_ids,
)
from ledger_service.index import models as m
from ledger_service.ops.topology import Topology
from ledger_service.records import RecordKind
from ledger_service.sample_data import enterprise_story
from tests.integration.conftest import AnchoredLedger, make_anchored_ledger

pytestmark = pytest.mark.fabric

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "evidence"


@pytest.fixture(scope="module")
def trust(fabric_network: Topology) -> TrustStore:
    return TrustStore.from_topology(fabric_network)


@pytest.fixture(scope="module")
def source(anchored_ledger: AnchoredLedger) -> Iterator[CachingBlockSource]:
    with anchored_ledger.target.gateway() as gateway:
        yield CachingBlockSource(GatewayBlockSource(gateway, anchored_ledger.target.channel))


def _ids(ledger: AnchoredLedger) -> list[str]:
    return [r.record_id for r in ledger.records]


def _roundtrip(bundle: dict[str, Any]) -> bytes:
    data = encode_bundle(bundle)
    assert json.loads(data) == bundle
    return data


# -- every record verifies ------------------------------------------------------------------------


def test_every_record_alone_verifies_full_and_redacted(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    shared = Verifier(trust)
    ids = _ids(anchored_ledger)
    assert len(ids) >= 900
    for rid in ids:
        full = build_bundle(anchored_ledger.session_factory, [rid], block_source=source)
        assert full["format"] == BUNDLE_FORMAT
        assert len(full["records"]) == 1
        assert len(full["blocks"]) == 1
        assert len(full["blocks"][0]["transactions"]) == 1
        # a fresh verifier (nothing cached) for the full bundle
        result = Verifier(trust).verify(_roundtrip(full))
        assert result.ok, result.messages
        (outcome,) = result.records
        assert outcome.record_id == rid
        assert not outcome.redacted
        assert [s.status for s in outcome.steps] == [StepStatus.PASSED] * 6

        redacted = build_bundle(
            anchored_ledger.session_factory, [rid], block_source=source, redact=True
        )
        (entry,) = redacted["records"]
        assert "content" not in entry
        assert "salt" not in entry
        result = shared.verify(_roundtrip(redacted))
        assert result.ok, result.messages
        (outcome,) = result.records
        assert outcome.redacted
        assert outcome.step(Step.CONTENT) is not None
        assert outcome.step(Step.CONTENT).status is StepStatus.SKIPPED  # type: ignore[union-attr]
    # the shared verifier checked each block once and reused it for the other records
    assert shared.stats.blocks_checked == len({b for b in _blocks_of(anchored_ledger)})
    assert shared.stats.block_cache_hits == len(ids) - shared.stats.blocks_checked


def _blocks_of(ledger: AnchoredLedger) -> list[int]:
    with ledger.session_factory() as s:
        return [
            n
            for n in s.scalars(
                select(m.Batch.block_number).where(m.Batch.state == m.BatchState.COMMITTED)
            )
            if n is not None
        ]


def test_all_records_in_one_bundle(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    ids = _ids(anchored_ledger)
    for redact in (False, True):
        bundle = build_bundle(
            anchored_ledger.session_factory, ids, block_source=source, redact=redact
        )
        assert [r["record_id"] for r in bundle["records"]] == ids
        numbers = [b["number"] for b in bundle["blocks"]]
        assert numbers == sorted(set(numbers)), "each block appears once"
        tx_ids = [t["tx_id"] for b in bundle["blocks"] for t in b["transactions"]]
        assert len(tx_ids) == len(set(tx_ids)), "each transaction appears once"
        assert len(tx_ids) == len({r["anchor"]["tx_id"] for r in bundle["records"]})
        verifier = Verifier(trust)
        result = verifier.verify(_roundtrip(bundle))
        assert result.ok, result.messages[:5]
        assert len(result.records) == len(ids)
        assert all(r.redacted == redact for r in result.records)
        assert verifier.stats.blocks_checked == len(numbers)
        assert verifier.stats.transactions_checked == len(tx_ids)


def test_block_header_hash_is_the_next_blocks_previous_hash(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    bundle = build_bundle(
        anchored_ledger.session_factory, _ids(anchored_ledger), block_source=source
    )
    result = Verifier(trust).verify(bundle)
    hashes = {r.block_number: r.block_header_hash for r in result.records}
    checked = 0
    for number, header_hash in hashes.items():
        assert number is not None
        raw = source.get_block(number)
        block = common_pb2.Block.FromString(raw)
        assert (
            header_hash
            == blocks.block_header_hash(
                number, block.header.previous_hash, block.header.data_hash
            ).hex()
        )
        try:
            successor = common_pb2.Block.FromString(source.get_block(number + 1))
        except Exception:  # the newest block has no successor yet
            continue
        assert successor.header.previous_hash.hex() == header_hash
        checked += 1
    assert checked >= 1


def test_lineage_bundle_carries_every_node(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    loans = [r for r in anchored_ledger.records if r.kind == RecordKind.FINANCING_EVENT]
    target = loans[-1]
    ids = upstream_record_ids(anchored_ledger.session_factory, [target.record_id])
    assert ids[0] == target.record_id
    assert set(target.parents) <= set(ids)
    by_id = {r.record_id: r for r in anchored_ledger.records}
    for rid in ids:  # closed under parents
        assert set(by_id[rid].parents) <= set(ids)
    assert len(ids) > 2
    bundle = build_bundle(anchored_ledger.session_factory, ids, block_source=source)
    result = Verifier(trust).verify(encode_bundle(bundle))
    assert result.ok, result.messages
    assert {r.record_id for r in result.records} == set(ids)


# -- tampering with real bundles -------------------------------------------------------------------


def test_anchor_of_another_batch_is_a_write_set_mismatch(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    ids = _ids(anchored_ledger)
    bundle = build_bundle(anchored_ledger.session_factory, ids, block_source=source)
    first = bundle["records"][0]
    other = next(
        r for r in bundle["records"] if r["anchor"]["batch_id"] != first["anchor"]["batch_id"]
    )
    forged = copy.deepcopy(bundle)
    forged["records"] = [copy.deepcopy(first)]
    forged["records"][0]["anchor"] = dict(other["anchor"])
    result = Verifier(trust).verify(forged)
    (outcome,) = result.records
    assert not outcome.ok
    assert outcome.failure is not None
    assert outcome.failure.step is Step.WRITE_SET
    assert outcome.message.startswith(f'step 3 (write set): record "{first["record_id"]}": ')
    assert "has no key for the record" in outcome.message
    # the anchor itself is fine: endorsed, in the block, signed
    for step in (Step.ENDORSEMENT, Step.BLOCK, Step.ORDERER):
        assert outcome.step(step).status is StepStatus.PASSED  # type: ignore[union-attr]

    # same batch id claimed but the other batch's transaction: no batch key there either
    forged["records"][0]["anchor"]["batch_id"] = first["anchor"]["batch_id"]
    (outcome,) = Verifier(trust).verify(forged).records
    assert outcome.failure is not None
    assert outcome.failure.step is Step.WRITE_SET
    assert outcome.step(Step.MERKLE).status is StepStatus.NOT_CHECKED  # type: ignore[union-attr]


def test_tampered_content_and_commitment_fail_at_the_right_step(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    rid = _ids(anchored_ledger)[5]
    bundle = build_bundle(anchored_ledger.session_factory, [rid], block_source=source)
    entry = bundle["records"][0]

    forged = copy.deepcopy(bundle)
    forged["records"][0]["content"] = entry["content"].replace(rid, rid + "x", 1)
    (outcome,) = Verifier(trust).verify(forged).records
    assert outcome.failure is not None
    assert outcome.failure.step is Step.CONTENT
    assert [s.step for s in outcome.failures] == [Step.CONTENT]

    forged = copy.deepcopy(bundle)
    del forged["records"][0]["content"]
    del forged["records"][0]["salt"]
    forged["records"][0]["commitment"] = "00" * 32
    (outcome,) = Verifier(trust).verify(forged).records
    assert [s.step for s in outcome.failures] == [Step.MERKLE, Step.WRITE_SET]
    assert f"bundle commitment {'0' * 16}.." in outcome.step(Step.WRITE_SET).detail  # type: ignore[union-attr]


# -- builder errors -------------------------------------------------------------------------------


def test_builder_refuses_unknown_unanchored_and_erased(
    anchored_ledger: AnchoredLedger, source: CachingBlockSource, trust: TrustStore
) -> None:
    sessions = anchored_ledger.session_factory
    with pytest.raises(EvidenceError, match="'nope' is not in the index"):
        build_bundle(sessions, ["nope"], block_source=source)
    with pytest.raises(EvidenceError, match="no record ids"):
        build_bundle(sessions, [], block_source=source)

    fresh = enterprise_story(anchored_ledger.writer, 0, prefix=f"u{uuid.uuid4().hex[:8]}")[:1]
    anchored_ledger.service.append(fresh)
    with pytest.raises(EvidenceError, match="not anchored yet"):
        build_bundle(sessions, [fresh[0].record_id], block_source=source)

    victim = _ids(anchored_ledger)[-1]
    anchored_ledger.service.erase_record_content(victim)
    with pytest.raises(EvidenceError, match="erased"):
        build_bundle(sessions, [victim], block_source=source)
    redacted = build_bundle(sessions, [victim], block_source=source, redact=True)
    assert Verifier(trust).verify(redacted).ok


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_evidence_verify_and_trust_export(
    anchored_ledger: AnchoredLedger, fabric_network: Topology, tmp_path: Path
) -> None:
    runner = CliRunner()
    state = ["--state-dir", fabric_network.state_dir]
    trust_dir = tmp_path / "trust"
    result = runner.invoke(app, ["trust", "export", str(trust_dir), *state])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in trust_dir.iterdir()) == [
        "BankMSP.pem",
        "OrdererMSP.pem",
        "PlatformMSP.pem",
        "RegulatorMSP.pem",
        "trust.json",
    ]
    engine = anchored_ledger.session_factory.kw["bind"]
    db = engine.url.render_as_string(hide_password=False)
    ids = _ids(anchored_ledger)[:3]
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["evidence", *ids, "--out", str(out), "--db", db, *state])
    assert result.exit_code == 0, result.output
    assert [r["record_id"] for r in json.loads(out.read_bytes())["records"]] == ids
    redacted = tmp_path / "redacted.json"
    result = runner.invoke(
        app, ["evidence", ids[0], "--redact", "--out", str(redacted), "--db", db, *state]
    )
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["verify", str(out), str(redacted), "--trust", str(trust_dir)])
    assert result.exit_code == 0, result.output
    assert "4 of 4 record(s) verified in 2 bundle(s)" in result.output
    result = runner.invoke(app, ["verify", str(out), "--trust", str(trust_dir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert [r["record_id"] for r in report["bundles"][0]["records"]] == ids

    bundle = json.loads(out.read_bytes())
    bundle["records"][1]["salt"] = "11" * 32
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["verify", str(bad), "--trust", str(trust_dir), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    failed = [r for r in report["bundles"][0]["records"] if not r["ok"]]
    assert [r["record_id"] for r in failed] == [ids[1]]
    assert failed[0]["message"].startswith(f'step 1 (content): record "{ids[1]}"')

    result = runner.invoke(app, ["evidence", "no-such-record", "--db", db, *state])
    assert result.exit_code == 1
    assert "not in the index" in result.output


# -- offline test data ----------------------------------------------------------------------------


@pytest.mark.skipif(
    not os.environ.get("LEDGER_REGEN_EVIDENCE_DATA"),
    reason="set LEDGER_REGEN_EVIDENCE_DATA=1 to rewrite tests/data/evidence",
)
def test_regenerate_offline_test_data(fabric_network: Topology, tmp_path: Path) -> None:
    """Anchor 45 records in batches of 8 (small blocks, several transactions per block) and
    save a bundle of all of them plus the network's trust directory for the unit tests."""
    ledger = make_anchored_ledger(fabric_network, tmp_path, count=0, prefix="unused")
    prefix = f"evd{uuid.uuid4().hex[:6]}"
    records = [r for n in range(5) for r in enterprise_story(ledger.writer, n, prefix=prefix)]
    ledger.service.append(records)
    ledger.anchor(batch_size=8)
    ids = [r.record_id for r in records]
    with ledger.target.gateway() as gateway:
        src = GatewayBlockSource(gateway, ledger.target.channel)
        bundle = build_bundle(ledger.session_factory, ids, block_source=src)
    assert Verifier(TrustStore.from_topology(fabric_network)).verify(bundle).ok
    assert any(len(b["transactions"]) > 1 for b in bundle["blocks"])
    if (DATA_DIR / "trust").exists():
        shutil.rmtree(DATA_DIR / "trust")
    TrustStore.from_topology(fabric_network).write(DATA_DIR / "trust")
    (DATA_DIR / "bundle.json").write_bytes(encode_bundle(bundle))
