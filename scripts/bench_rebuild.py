"""Index rebuild benchmark: replay the real channel's blocks into an index (goal ≥ 50,000
records/s), with a profile of where the time goes.

    uv run python scripts/bench_rebuild.py [--anchor 100000] [--batch-size 4096] [--rounds 3]

1. *Prepare* — append ``--anchor`` sample records (``samples.data.stories``) to a fresh
   SQLite index and anchor them with the AnchoringWorker (``--batch-size`` records per
   Fabric transaction), as the integration fixture ``make_anchored_ledger`` does
   (``--anchor 0``: replay the channel as it is, skip steps 3-4).
2. *Mirror replay* — ``--rounds`` times: replay the whole channel (block 0 → height) into
   an empty index (the chain mirror only). The clock covers everything ``replay`` does:
   chain height query, the Deliver stream, decoding, writing, checkpoints.
3. *Rebuild with restore* — the prepared index copied without its anchoring state
   (batches, anchors, outbox, mirror), then ``replay(restore=True)``: the mirror plus the
   index's batches/anchors/outbox/envelopes for its records (``ledgerctl index rebuild``).
4. *Reconcile* of the rebuilt index (scope "index") — must be clean; its time is reported.
5. One extra mirror replay under cProfile (main thread: decode; the writer thread's time
   is reported by ``ReplayResult.write_seconds``).

Prints the figures and appends them, with machine and command, to docs/benchmarks.md
(``--no-doc`` to skip).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchlib import add_ids_option, machine, record_ids  # scripts/ is on sys.path when run
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.chainsync import ReplayResult, replay
from ledger_service.chainsync.reconcile import ReconcileSummary, reconcile
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.fabric.target import FabricTarget
from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.index import models as m
from ledger_service.index.chain_models import ChainBatch, ChainRecord, ChainSync
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.samples.ledger import make_anchored_ledger

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def sessions_for(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    upgrade(engine)
    return make_session_factory(engine)


def run_replay(target: FabricTarget, sessions: sessionmaker[Session], **kw: object) -> ReplayResult:
    with target.gateway() as gw:
        return replay(
            sessions,
            DeliverBlockStream(gw, target.channel),
            channel=target.channel,
            chaincode=target.chaincode,
            **kw,  # type: ignore[arg-type]
        )


def channel_records(target: FabricTarget, tmp: Path) -> int:
    result = run_replay(target, sessions_for(sqlite_url(tmp / "count")))
    return result.records


def prepare(topo: Topology, tmp: Path, count: int, batch_size: int, ids: str) -> tuple[str, float]:
    """Anchor `count` new sample records; returns the index URL and the anchoring seconds."""
    t0 = time.monotonic()
    prefix = f"rb{uuid.uuid4().hex[:6]}"
    ledger = make_anchored_ledger(
        topo,
        tmp / "prepared",
        count=count,
        prefix=prefix,
        anchor=False,
        record_ids=record_ids(ids, prefix),
    )
    t1 = time.monotonic()
    print(f"  appended {count:,} records in {t1 - t0:.1f}s", flush=True)
    ledger.anchor(batch_size=batch_size, timeout=3600)
    t2 = time.monotonic()
    print(f"  anchored them in {t2 - t1:.1f}s", flush=True)
    return ledger.db_url, t2 - t1


def strip_copy(source_url: str, tmp: Path, name: str) -> str:
    """A copy of the prepared index without anchoring state and mirror (a backup restore)."""
    src = Path(make_engine(source_url).url.database or "")
    target_dir = tmp / name
    target_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(target_dir / "index.db") as b:
        a.backup(b)
    url = sqlite_url(target_dir)
    sessions = sessions_for(url)
    with write_session(sessions) as s:
        for model in (m.RecordAnchor, m.OutboxEntry, m.Batch, ChainRecord, ChainBatch, ChainSync):
            s.execute(delete(model))
    return url


def fmt(r: ReplayResult) -> str:
    restore = f", restore {r.restore_seconds:.2f}s" if r.restore is not None else ""
    return (
        f"{r.records:,} records / {r.blocks:,} blocks in {r.seconds:.2f}s = "
        f"**{r.records_per_second:,.0f} records/s** (decode {r.parse_seconds:.2f}s, wait for "
        f"blocks {r.wait_block_seconds:.2f}s, wait for writer {r.wait_writer_seconds:.2f}s; "
        f"writer thread: write {r.write_seconds:.2f}s{restore})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--state-dir", type=Path, default=None)
    ap.add_argument("--anchor", type=int, default=100_000, help="records to anchor first")
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true", help="do not append to docs/benchmarks.md")
    add_ids_option(ap)
    args = ap.parse_args()
    state = args.state_dir or default_state_dir()
    topo = Topology.load(state)
    target = FabricTarget.from_topology(topo)
    tmp = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    command = "uv run python scripts/bench_rebuild.py " + shlex.join(sys.argv[1:])
    load_before = load()
    print(f"machine: {machine()}\nload before: {load_before}\nwork dir: {tmp}", flush=True)

    print("1. prepare", flush=True)
    on_channel = channel_records(target, tmp)
    prepared_url: str | None = None
    anchor_seconds = None
    print(f"  channel holds {on_channel:,} records; anchoring {args.anchor:,} more", flush=True)
    if args.anchor > 0:
        prepared_url, anchor_seconds = prepare(topo, tmp, args.anchor, args.batch_size, args.ids)

    print("2. mirror replay into an empty index", flush=True)
    rounds: list[ReplayResult] = []
    for i in range(args.rounds):
        r = run_replay(target, sessions_for(sqlite_url(tmp / f"mirror{i}")))
        rounds.append(r)
        print(f"  round {i + 1}: {fmt(r)}", flush=True)

    rebuilt: ReplayResult | None = None
    recon_line = ""
    if prepared_url is not None:
        print("3. rebuild with restore (index restored from a backup without anchoring state)")
        url = strip_copy(prepared_url, tmp, "restored")
        sessions = sessions_for(url)
        rebuilt = run_replay(target, sessions, restore=True)
        rs = rebuilt.restore
        assert rs is not None
        with sessions() as s:
            anchors = s.scalar(select(func.count()).select_from(m.RecordAnchor))
        print(f"  {fmt(rebuilt)}", flush=True)
        print(
            f"  restored {rs.batches_inserted} batches, {rs.envelopes_stored} envelopes, "
            f"{rs.anchors_inserted:,} anchors ({anchors:,} in the index), "
            f"{rs.outbox_marked_batched + rs.outbox_inserted:,} outbox rows",
            flush=True,
        )
        print("4. reconcile the rebuilt index (scope index)", flush=True)
        summary = ReconcileSummary()
        t0 = time.monotonic()
        found = sum(
            1 for _ in reconcile(sessions, scope="index", channel=target.channel, summary=summary)
        )
        recon_s = time.monotonic() - t0
        recon_line = (
            f"{summary.records_checked:,} records checked in {recon_s:.2f}s "
            f"({summary.records_checked / max(recon_s, 1e-9):,.0f} records/s), "
            f"{found} mismatches"
        )
        print(f"  {recon_line}", flush=True)
        assert found == 0, "the rebuilt index does not reconcile"

    print("5. profile (one more mirror replay under cProfile, main thread)", flush=True)
    profiler = cProfile.Profile()
    profiler.enable()
    profiled = run_replay(target, sessions_for(sqlite_url(tmp / "profiled")))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    text = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(text) if line.lstrip().startswith("ncalls"))
    top = [line.rstrip().replace(str(REPO) + "/", "") for line in text[header : header + 13]]
    top = [line for line in top if line.strip()]
    print(f"  {fmt(profiled)} (profiled)")
    for line in top:
        print(f"    {line}")

    rates = [r.records_per_second for r in rounds]
    median = statistics.median(rates)
    print(
        f"\nmirror replay: median {median:,.0f} records/s, best {max(rates):,.0f} "
        f"over {len(rates)} rounds; load after: {load()}"
    )
    if args.no_doc:
        return
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"## Index rebuild from the chain — {when}",
        "",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- load average before / after: {load_before} / {load()} (2 cores shared with other "
        "work: other test runs and builds were active)",
        f"- channel: `{target.channel}` on the default topology (3 Raft orderers, 3 peers), "
        f"height {rounds[-1].height:,} blocks, {rounds[-1].records:,} records "
        f"({args.anchor:,} anchored for this run, {args.batch_size} per transaction"
        + (f", in {anchor_seconds:.1f}s" if anchor_seconds else "")
        + "); blocks over one Deliver stream from PlatformMSP's peer, SQLite index",
        "",
        "| run | records | blocks | seconds | records/s | decode s | wait blocks s "
        "| wait writer s | writer: write s | writer: restore s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(rounds):
        lines.append(_row(f"mirror replay, round {i + 1}", r))
    if rebuilt is not None:
        lines.append(_row("rebuild with restore (`ledgerctl index rebuild`)", rebuilt))
    lines += [
        "",
        f"Mirror replay median **{median:,.0f} records/s** (goal ≥ 50,000)."
        + (f" Reconcile of the rebuilt index: {recon_line}." if recon_line else ""),
        "",
        "Where the time goes: the main thread decodes blocks (protobuf → the ledger "
        "namespace's writes → rows; record values through one compiled regex, the JSON "
        "parser only for unexpected forms) while a writer thread upserts each block range "
        "into SQLite through the DBAPI `executemany` in one transaction with its checkpoint. "
        "On 2 cores the two threads share the GIL except inside SQLite's own steps, so "
        "decode + write ≈ the wall time. Profile of the main thread (top by own time):",
        "",
        "```",
        *top,
        "```",
        "",
        "Reading the profile: `acquire` is the main thread waiting (for the writer to take a "
        "range, and for blocks); `fullmatch` is the record id and record value regexes (two "
        "per record); hashlib `update` is the check of every block's data hash; "
        "`extract_writes` is the per-write loop. The writer thread (not in this profile) "
        "spends its time in SQLite's `executemany` (b-tree inserts into `chain_records` and "
        "its batch index).",
        "",
    ]
    with DOC.open("a") as f:
        f.write("\n".join(lines))
    print(f"appended to {DOC}")


def _row(name: str, r: ReplayResult) -> str:
    restore = f"{r.restore_seconds:.2f}" if r.restore is not None else "—"
    return (
        f"| {name} | {r.records:,} | {r.blocks:,} | {r.seconds:.2f} | "
        f"{r.records_per_second:,.0f} | {r.parse_seconds:.2f} | {r.wait_block_seconds:.2f} | "
        f"{r.wait_writer_seconds:.2f} | {r.write_seconds:.2f} | {restore} |"
    )


if __name__ == "__main__":
    main()
