"""Regenerate the offline lineage-bundle test data in tests/data/evidence/lineage/ from a
running network.

    uv run python scripts/regen_lineage_data.py [--state-dir .state]

Anchors one enterprise's lineage story (ledger_service.samples.lineage_story: every edge
kind; ids `lin<run tag>-<role ordinal>`) in batches of 8, erases the content of its `repair` record, builds the lineage bundle
of its loan (depth 6, as of now), checks that it verifies, and writes it with the network's
trust directory (tests/data/evidence/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import uuid
from pathlib import Path

from credit_ledger_verify import Verifier

from ledger_service.evidence import TrustStore, encode_bundle
from ledger_service.evidence.lineage_builder import build_lineage_bundle
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.queries.lineage import lineage_of
from ledger_service.samples.data import STORY_ROLES
from ledger_service.samples.ledger import make_anchored_ledger
from ledger_service.samples.lineage_story import LINEAGE_ROLES, lineage_story

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence" / "lineage"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = ap.parse_args()
    topo = Topology.load(args.state_dir)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = make_anchored_ledger(topo, Path(tmp), count=0, prefix="unused", anchor=False)
        tag = f"lin{uuid.uuid4().hex[:6]}"
        roles = (*STORY_ROLES, *LINEAGE_ROLES)
        # ordinal ids (no business meaning): the walk orders a depth's nodes by id, so the
        # golden bundle's record order - what the cases address - survives regenerating
        story = lineage_story(
            ledger.writer,
            0,
            prefix=tag,
            record_ids=lambda _n, role: f"{tag}-{roles.index(role):04d}",
        )
        ledger.append(list(story.values()))
        ledger.anchor(batch_size=8)
        ledger.service.erase_record_content(story["repair"].record_id)
        with ledger.session_factory() as session:
            graph = lineage_of(session, ["loan-0000000"], depth=6)
        with ledger.target.gateway() as gateway:
            bundle = build_lineage_bundle(
                ledger.session_factory,
                graph,
                block_source=GatewayBlockReader(gateway, ledger.target.channel),
            )
    trust = TrustStore.from_topology(topo)
    result = Verifier(trust).verify(bundle)
    result.raise_for_failure()
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    trust.write(DATA_DIR / "trust")
    (DATA_DIR / "bundle.json").write_bytes(encode_bundle(bundle))
    print(
        f"wrote {DATA_DIR / 'bundle.json'} ({len(bundle['records'])} nodes, "
        f"{len(bundle['lineage']['edges'])} edges, {len(bundle['blocks'])} blocks) "
        f"and {DATA_DIR / 'trust'}"
    )


if __name__ == "__main__":
    main()
