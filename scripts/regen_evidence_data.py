"""Regenerate the offline evidence test data in tests/data/evidence/ from a running network.

    uv run python scripts/regen_evidence_data.py [--state-dir .state]

Anchors 45 records (5 enterprise stories) in batches of 8 — small transactions, several per
block — builds one bundle of all of them, checks it verifies, and writes it with the network's
trust directory. The unit tests verify that bundle offline (tests/data/evidence/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import uuid
from pathlib import Path

from credit_ledger_verify import Verifier

from ledger_service.evidence import TrustStore, build_bundle, encode_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.samples.data import enterprise_story
from ledger_service.samples.ledger import make_anchored_ledger

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = ap.parse_args()
    topo = Topology.load(args.state_dir)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = make_anchored_ledger(topo, Path(tmp), count=0, prefix="unused", anchor=False)
        prefix = f"evd{uuid.uuid4().hex[:6]}"
        ledger.append(
            [r for n in range(5) for r in enterprise_story(ledger.writer, n, prefix=prefix)]
        )
        ledger.anchor(batch_size=8)
        ids = [r.record_id for r in ledger.records]
        with ledger.target.gateway() as gateway:
            bundle = build_bundle(
                ledger.session_factory,
                ids,
                block_source=GatewayBlockReader(gateway, ledger.target.channel),
            )
    trust = TrustStore.from_topology(topo)
    Verifier(trust).verify(bundle).raise_for_failure()
    if not any(len(b["transactions"]) > 1 for b in bundle["blocks"]):
        raise SystemExit("no block held several transactions; run again (timing dependent)")
    shutil.rmtree(DATA_DIR / "trust", ignore_errors=True)
    trust.write(DATA_DIR / "trust")
    (DATA_DIR / "bundle.json").write_bytes(encode_bundle(bundle))
    print(f"wrote {DATA_DIR / 'bundle.json'} ({len(ids)} records) and {DATA_DIR / 'trust'}")


if __name__ == "__main__":
    main()
