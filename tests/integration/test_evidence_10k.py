"""10,000 records of all kinds anchored on the real channel: every one's evidence verifies
offline, full and redacted (the issue's acceptance test)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

import pytest
from credit_ledger_verify import TrustStore, Verifier
from credit_ledger_verify.records import RecordKind
from sqlalchemy import select

from ledger_service.evidence.builder import build_bundle, encode_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.index import models as m
from ledger_service.ops.topology import Topology
from ledger_service.samples.ledger import make_anchored_ledger

pytestmark = pytest.mark.fabric

COUNT = 10_000


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_ten_thousand_records_every_bundle_verifies(
    fabric_network: Topology,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    db_url = None
    if backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
        db_url = server.create_database(f"evidence_{uuid.uuid4().hex[:8]}")
    ledger = make_anchored_ledger(
        fabric_network,
        tmp_path_factory.mktemp("ledger10k"),
        count=COUNT,
        prefix=f"e{uuid.uuid4().hex[:8]}",
        db_url=db_url,
    )
    # Every kind the sample stories write; objection cases and erasure records (written by
    # the service only) have their own bundle tests (test_objection_bundle, test_erasure).
    assert {r.kind for r in ledger.records} == set(RecordKind) - {
        RecordKind.OBJECTION,
        RecordKind.ERASURE,
    }
    with ledger.session_factory() as s:
        anchors = s.execute(select(m.RecordAnchor.record_id, m.RecordAnchor.batch_id)).all()
    by_batch: dict[str, list[str]] = defaultdict(list)
    for a in anchors:
        by_batch[a.batch_id].append(a.record_id)
    assert sum(map(len, by_batch.values())) == COUNT

    trust = TrustStore.from_topology(fabric_network)
    verifier = Verifier(trust)
    verified: set[str] = set()
    verified_redacted: set[str] = set()
    with ledger.target.gateway() as gw:
        source = GatewayBlockReader(gw, ledger.target.channel)
        for record_ids in by_batch.values():
            for redact, seen in ((False, verified), (True, verified_redacted)):
                bundle = encode_bundle(
                    build_bundle(
                        ledger.session_factory, record_ids, block_source=source, redact=redact
                    )
                )
                result = verifier.verify(bundle)
                failures = [o.message for o in result.records if not o.ok]
                assert not failures, failures[:3]
                seen.update(o.record_id for o in result.records)
        # Single-record bundles, checked by a fresh verifier each (nothing cached).
        for rid in random.Random(7).sample(sorted(verified), 50):
            one = encode_bundle(build_bundle(ledger.session_factory, [rid], block_source=source))
            Verifier(trust).verify(one).raise_for_failure()
    expected = {r.record_id for r in ledger.records}
    assert verified == expected
    assert verified_redacted == expected
