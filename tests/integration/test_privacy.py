"""Nothing on chain links a record to its enterprise — checked on the real channel's blocks.

Records are written with ids a careless client would choose (the enterprise's unified social
credit code and the record's role in clear), anchored, and every block of the channel is
scanned for every record id, subject and business key the index holds. The scan's own
controls show it reads the blocks: the writer MSP id is found, and a value deliberately put
on chain afterwards (a `Touch` key equal to a subject) is found in the block that holds it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from credit_ledger_verify.onchain import RefusalCode, parse_refusal
from fabric_gateway import GatewayError

from ledger_service.chainsync.exposure import scan_channel
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import enterprise_code, stories
from ledger_service.samples.ledger import make_anchored_ledger

pytestmark = pytest.mark.fabric

CONTROLS = {"PlatformMSP": "writer MSP id"}


def test_no_record_id_subject_or_business_key_reaches_a_block(
    fabric_network: Topology, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    ledger = make_anchored_ledger(fabric_network, tmp_path, count=0, prefix=tag, anchor=False)

    def leaky_id(n: int, role: str) -> str:
        return f"{enterprise_code(n)}-{role}-{tag}"

    records = list(stories(ledger.writer, 450, start=700_000, record_ids=leaky_id))
    ledger.append(records)
    ledger.anchor(batch_size=128)
    subjects = sorted({r.subject for r in records})
    assert len(subjects) == 50

    with ledger.target.gateway() as gw:
        stream = DeliverBlockStream(gw, ledger.target.channel)
        report = scan_channel(ledger.session_factory, stream, controls=CONTROLS)
        # every record id, its subject, and the loans' ids were looked for
        assert report.needles >= len(records) + len(subjects) + 50
        assert report.controls_found == {"writer MSP id"}
        assert report.clean, report.exposures[:5]

        contract = gw.get_network(ledger.target.channel).get_contract(ledger.target.chaincode)
        # the client's record id cannot be probed: GetRecord takes a commitment, not an id
        with pytest.raises(GatewayError) as refused:
            contract.evaluate("GetRecord", args=[records[0].record_id])
        code, _ = parse_refusal(str(refused.value))
        assert code is RefusalCode.BAD_ARGUMENT

        # positive control: a subject put on chain on purpose is found, in the block holding it.
        # The anchoring worker retries endorsements; this single submit waits first for the
        # gateway to see enough peers (a peer restarted by an earlier test can leave discovery
        # without an endorsing combination for a second or two).
        ledger.target.wait_endorsable()
        contract.submit("Touch", args=[subjects[0]])
        after = scan_channel(ledger.session_factory, stream, controls=CONTROLS)
    exposed = {(e.label, e.value, e.encoding) for e in after.exposures}
    assert ("subject", subjects[0], "utf-8") in exposed
    assert {e.value for e in after.exposures} == {subjects[0]}
    assert len({e.block_number for e in after.exposures}) == 1
