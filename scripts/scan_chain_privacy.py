"""Write records whose ids embed their enterprise, anchor them, then scan every block of the
channel for any record id, subject or business key the index holds.

This is the check behind the design's "nothing on chain links a record to its enterprise":
a careless client names records after the enterprise's unified social credit code and the
loan; none of it may reach a block. Run it against a network started by `make up` (the
worker must be running, or pass --anchor to anchor in this process):

    uv run python scripts/scan_chain_privacy.py --state-dir .state --records 1000

Exit status 0: nothing found (and the control value was found); 1: exposures listed.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

from ledger_service.chainsync.exposure import scan_channel
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.samples.data import SampleWriter, enterprise_code, stories
from ledger_service.samples.demo import wait_anchored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, default=Path(".state"))
    parser.add_argument("--records", type=int, default=1000, help="records with leaky ids to write")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for anchoring")
    args = parser.parse_args()

    config = ServiceConfig.from_env(args.state_dir)
    tag = secrets.token_hex(3)  # a new run writes new records

    def leaky_id(n: int, role: str) -> str:
        # what a careless client would do: the enterprise's code and the record's role in clear
        return f"{enterprise_code(n)}-{role}-{tag}"

    with LedgerContext(config) as context:
        writer = SampleWriter(actor=f"privacy-probe-{tag}")
        context.intake.register_writer(writer.actor, writer.public_key)
        start = 500_000 + secrets.randbelow(1_000_000)  # enterprises not in the demo
        records = list(stories(writer, args.records, start=start, record_ids=leaky_id))
        context.intake.append(records)
        print(f"wrote {len(records)} records with ids like {records[0].record_id!r}")
        began = time.monotonic()
        wait_anchored(context.records, [r.record_id for r in records], timeout=args.timeout)
        print(f"anchored in {time.monotonic() - began:.1f}s; scanning the channel")
        with context.fabric_target.gateway() as gateway:
            stream = DeliverBlockStream(gateway, context.fabric_target.channel)
            report = scan_channel(
                context.session_factory, stream, controls={config.writer_msp: "writer MSP id"}
            )
    print(
        f"scanned {report.blocks} blocks ({report.bytes:,} bytes) for {report.needles:,} values "
        "(record ids, subjects, loan ids, source references) in UTF-8, UTF-16-LE, hex, base64"
    )
    if not report.controls_found:
        print("control value (writer MSP id) NOT found: the scan did not read the blocks")
        return 2
    print("control value (writer MSP id) found in the blocks: the scan reads them")
    if report.clean:
        print("result: no record id, subject or business key found on chain")
        return 0
    for e in report.exposures[:50]:
        print(f"  block {e.block_number}: {e.label} {e.value!r} as {e.encoding} at {e.offset}")
    print(f"result: {len(report.exposures)} exposures")
    return 1


if __name__ == "__main__":
    sys.exit(main())
