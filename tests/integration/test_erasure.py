"""Evidence after erasure on the real network: a retention run erases an expired overdue
(its erasure record anchored like any record); the erased record's bundle verifies offline
as "erased on DATE under loan_overdue" against a trust directory that trusts the service
key; reconcile reports nothing wrong. An attacker who deletes another record's content and
salt directly in the database is reported by reconcile, and its bundle cannot be built.

The channel is shared with other tests, so reconcile runs with ``scope="index"``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import update

from ledger_service.chainsync.reconcile import MismatchKind, ReconcileSummary, reconcile
from ledger_service.evidence import (
    EvidenceError,
    TrustStore,
    Verifier,
    build_bundle,
    encode_bundle,
)
from ledger_service.fabric.blocks import CachingBlockReader, GatewayBlockReader
from ledger_service.index import models as m
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.retention.service_key import SERVICE_ACTOR, load_or_create_service_key
from ledger_service.samples.data import expired_overdue
from ledger_service.samples.ledger import make_anchored_ledger
from tests.integration.test_rebuild import run_replay

pytestmark = pytest.mark.fabric


def test_an_expired_record_is_erased_with_anchored_evidence(
    fabric_network: Topology, tmp_path: Path
) -> None:
    ledger = make_anchored_ledger(
        fabric_network, tmp_path, count=9, prefix=f"x{uuid.uuid4().hex[:8]}", batch_size=16
    )
    old = expired_overdue(ledger.writer, 0, prefix=f"o{uuid.uuid4().hex[:8]}")
    ledger.append(old)
    ledger.anchor(batch_size=16)
    overdue = old[2].record_id

    context = ledger.context
    from ledger_service.retention.run import run_retention

    erasures = context.erasures
    result = run_retention(
        context.session_factory, erasures, erasures.today(), started_by="integration"
    )
    assert [d.record_id for d in result.erased] == [overdue]
    (done,) = result.erased
    # the loan was settled more than 5 years ago: its tax data may now be erased on request
    requested = erasures.erase_on_request(old[0].record_id, "the enterprise asked (ticket 7)")
    ledger.anchor(batch_size=16)  # the erasure records go to the chain like any record

    trust = TrustStore.from_topology(fabric_network)
    key = load_or_create_service_key(Path(fabric_network.state_dir))
    trust.erasure_signers = {SERVICE_ACTOR: (bytes(key.verify_key),)}
    with ledger.target.gateway() as gateway:
        source = CachingBlockReader(GatewayBlockReader(gateway, ledger.target.channel))
        bundle = build_bundle(context.session_factory, [overdue], block_source=source)
        assert [r["record_id"] for r in bundle["records"]] == [overdue, done.erasure_record_id]
        assert bundle["records"][0]["erasure"] == {"record_id": done.erasure_record_id}
        assert "content" not in bundle["records"][0]
        verified = Verifier(trust).verify(encode_bundle(bundle))
        assert verified.ok, verified.messages
        erased = verified.records[0]
        assert erased.status == "erased"
        assert "under loan_overdue" in erased.message
        # a verifier that does not trust the service key refuses the claim of erasure
        untrusted = Verifier(TrustStore.from_topology(fabric_network)).verify(bundle)
        assert untrusted.records[0].status == "failed"
        assert "not trusted for erasure records" in untrusted.records[0].message

        summary = ReconcileSummary()
        run_replay(ledger, context.session_factory)
        found = list(
            reconcile(
                context.session_factory,
                scope="index",
                channel=ledger.target.channel,
                summary=summary,
            )
        )
        assert {(x.kind, x.record_id) for x in found} == {
            (MismatchKind.ERASED, overdue),
            (MismatchKind.ERASED, requested.record_id),
        }
        assert summary.clean

        # the attacker: content and salt deleted directly in the database, no erasure record
        victim = ledger.records[3].record_id
        with write_session(context.session_factory) as s:
            s.execute(
                update(m.Record)
                .where(m.Record.record_id == victim)
                .values(
                    content=None, salt=None, content_sha256=None, erased_at=m.Record.recorded_at
                )
            )
        found = list(
            reconcile(context.session_factory, scope="index", channel=ledger.target.channel)
        )
        tampered = [x for x in found if x.record_id == victim]
        assert [(x.kind, x.is_tampering) for x in tampered] == [
            (MismatchKind.CONTENT_MISSING, True)
        ]
        with pytest.raises(EvidenceError, match="no erasure record says why"):
            build_bundle(context.session_factory, [victim], block_source=source)
