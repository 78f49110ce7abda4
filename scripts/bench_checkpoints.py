"""Anchoring throughput with the global log's checkpointer on vs off, in the same run.

    uv run python scripts/bench_checkpoints.py [--records 20000] [--rounds 3] [--state-dir DIR]

Without ``--state-dir`` a network of its own is started in a temporary directory on free
ports (3 Raft orderers, 3 orgs, MAJORITY — the default topology) and stopped at the end.

Each round: a fresh SQLite index, ``--records`` records accepted first, its chain mirror and
global log caught up with the channel (untimed, both modes), then ``ledgerctl
worker --drain`` anchors them — alone ("off"), or with the checkpointer process
(``ledgerctl checkpoint anchor``, as ``ledgerctl service start`` runs it) beside it ("on";
``LEDGER_CHECKPOINT_INTERVAL`` = ``--interval``, default 2 s: every interval it syncs the
chain mirror, advances the global log, signs and anchors a checkpoint). Rounds alternate off/on so drift on a shared machine hits both.
The rate is records / (first batch claimed → last batch committed), as in
bench_anchoring.py phase B. Reported: per-mode medians and ranges, the on/off ratio of the
medians, checkpoints anchored per on-round. Appends to docs/benchmarks.md unless --no-write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchlib import machine  # scripts/ is on sys.path when run
from sqlalchemy import func, select

from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.index import models as m
from ledger_service.index.log_models import CheckpointAnchor
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.ops import chaincode as cc_ops
from ledger_service.ops import network as net
from ledger_service.ops.fabric import find_fabric
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import SampleWriter, stories
from ledger_service.tlog.checkpoints import (
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)

REPO = Path(__file__).resolve().parents[1]


def own_network(state: Path) -> Topology:
    sys.path.insert(0, str(REPO))
    from tests.integration.conftest import _up_on_free_ports, _wait_endorsable

    fabric = find_fabric()
    topo = _up_on_free_ports(state, fabric)
    cc_ops.deploy(topo, fabric)
    _wait_endorsable(state, topo)
    return topo


def catch_up(topo: Topology, url: str) -> None:
    """Untimed, in both modes: bring the fresh index's chain mirror and global log up to the
    channel (earlier rounds' records), as a running service's would be — else the first
    checkpoint round would replay the whole channel inside the timed window."""
    context = LedgerContext(ServiceConfig(state_dir=topo.root, db_url=url), topology=topo)
    with context, context.fabric_target.gateway() as gateway:
        context.replay(DeliverBlockStream(gateway, topo.channel))
        key = load_or_create_log_key(topo.root, platform_origin(topo.channel, topo.chaincode))
        with write_session(context.session_factory) as s:
            issue_checkpoint(s, key, dt.datetime.now(dt.UTC))


def one_round(
    topo: Topology, tmp: Path, writer: SampleWriter, args: argparse.Namespace, on: bool
) -> dict[str, float]:
    name = f"{'on' if on else 'off'}-{uuid.uuid4().hex[:6]}"
    url = sqlite_url(tmp / name)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    service = LedgerService(session_factory=sessions)
    service.register_writer(writer.actor, writer.public_key)
    records = list(stories(writer, args.records, prefix=f"bc{uuid.uuid4().hex[:6]}"))
    for i in range(0, len(records), 5000):
        service.append(records[i : i + 5000])
    catch_up(topo, url)
    env = {
        **os.environ,
        "LEDGER_STATE_DIR": str(topo.root),
        "LEDGER_CHECKPOINT_INTERVAL": str(args.interval),
    }
    alone = None
    if on:  # the checkpointer process beside the worker, as `ledgerctl service start` runs it
        alone = subprocess.Popen(
            [sys.executable, "-m", "ledger_service.cli", "checkpoint", "anchor", "--db", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3.0)  # imported and connected before the worker starts
    argv = [sys.executable, "-m", "ledger_service.cli", "worker", "--db-url", url]
    argv += ["--batch-size", str(args.batch_size), "--linger", "0.05", "--max-in-flight", "4"]
    argv += ["--drain", "--timeout", "1800"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if alone is not None:
        alone.send_signal(signal.SIGTERM)
        alone.wait(timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"worker failed ({done.returncode}):\n{done.stdout[-3000:]}")
    with sessions() as s:
        first_claim, last_commit = s.execute(
            select(func.min(m.Batch.created_at), func.max(m.Batch.committed_at))
        ).one()
        anchored = s.scalar(
            select(func.count())
            .select_from(CheckpointAnchor)
            .where(CheckpointAnchor.state == "committed")
        )
    engine.dispose()
    elapsed = (last_commit - first_claim).total_seconds()
    return {"rate": len(records) / elapsed, "elapsed": elapsed, "checkpoints": float(anchored or 0)}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=20_000, help="records per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per mode (off/on alternate)")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--interval", type=float, default=2.0, help="LEDGER_CHECKPOINT_INTERVAL")
    ap.add_argument("--state-dir", type=Path, default=None, help="a running network's state")
    ap.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = ap.parse_args()
    writer = SampleWriter(actor="bench-writer")
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-checkpoints-") as d:
        tmp = Path(d)
        state = args.state_dir or tmp / "network"
        started = time.monotonic()
        topo = Topology.load(state) if args.state_dir else own_network(state)
        print(f"network ready in {time.monotonic() - started:.0f} s", flush=True)
        try:
            for i in range(args.rounds * 2):
                on = i % 2 == 1
                r = one_round(topo, tmp, writer, args, on)
                results[on].append(r)
                print(
                    f"round {i + 1}: checkpoints {'on ' if on else 'off'} {r['rate']:,.0f} "
                    f"records/s ({r['elapsed']:.1f} s, {r['checkpoints']:.0f} checkpoints)",
                    flush=True,
                )
        finally:
            if args.state_dir is None:
                net.down(state, purge=True)
    off = [r["rate"] for r in results[False]]
    on_ = [r["rate"] for r in results[True]]
    ratio = statistics.median(on_) / statistics.median(off)
    cps = [int(r["checkpoints"]) for r in results[True]]
    line = (
        f"off median {statistics.median(off):,.0f} records/s (range {min(off):,.0f}–"
        f"{max(off):,.0f}); on median {statistics.median(on_):,.0f} (range {min(on_):,.0f}–"
        f"{max(on_):,.0f}); on/off {ratio:.3f}; checkpoints anchored per on-round {cps}"
    )
    print(line)
    if args.no_write:
        return
    cmd = "uv run python scripts/bench_checkpoints.py " + " ".join(sys.argv[1:])
    section = f"""
## Anchoring with the checkpointer on vs off ({dt.date.today().isoformat()})

Command: `{cmd.strip()}` — machine: {machine()}. Network: the default topology started for
the run; fresh SQLite index per round; {args.records:,} accepted records per round anchored by
`ledgerctl worker --drain` (batches of {args.batch_size}), rounds alternating off / on (on:
the checkpointer process `ledgerctl checkpoint anchor` running beside the worker, as `ledgerctl
service start` runs it), the checkpointer's interval {args.interval} s; before each round the
fresh index's mirror and global log are caught up with the channel (untimed, both modes, as
a running service's are). Rate: records / (first batch claimed → last committed).

| mode | rounds | median records/s | range |
|---|---|---|---|
| checkpoints off | {len(off)} | {statistics.median(off):,.0f} | {min(off):,.0f}–{max(off):,.0f} |
| checkpoints on | {len(on_)} | {statistics.median(on_):,.0f} | {min(on_):,.0f}–{max(on_):,.0f} |
| **ratio on ÷ off (medians)** | | **{ratio:.3f}** | checkpoints anchored per on-round: {cps} |
"""
    bench = REPO / "docs" / "benchmarks.md"
    with bench.open("a", encoding="utf-8") as out:
        out.write(section)
    print(f"appended to {bench}")


if __name__ == "__main__":
    main()
