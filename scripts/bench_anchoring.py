"""End-to-end anchoring benchmark on the real network, batched vs one transaction per record.

    uv run python scripts/bench_anchoring.py [--records 60000] [--batch-size 4096] [--naive 600]

Phases, all against the same running network (default: the one in .state/, 3 Raft orderers,
3 orgs, MAJORITY) and a fresh SQLite index:

A. pipeline — records are appended (intake: validate, verify signatures, commit to the index)
   in chunks while the anchoring worker runs as its own process; the clock runs from the
   first append to the moment the last record is committed on the channel with its proof
   data in the index. Latency per record: its append acknowledgement → its batch committed.
B. anchoring only — records already accepted; the worker drains them.
C. naive — one Fabric transaction per record (PutBatch of one record) through the same
   client, N concurrent submitters.

Prints the figures and appends them, with machine and command, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchlib import add_ids_option, machine, record_ids  # scripts/ is on sys.path when run
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from sqlalchemy import func, select

from ledger_service.anchoring.store import BatchPlan
from ledger_service.fabric.target import FabricTarget
from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.index import models as m
from ledger_service.intake import LedgerService
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.samples.data import SampleWriter, stories

REPO = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fabric_pids(topo: Topology) -> dict[str, int]:
    import json

    pids = {}
    for f in sorted(topo.run.glob("*.pid")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            pids[f.stem] = int(json.loads(f.read_text())["pid"])
    return pids


def cpu_by_role(topo: Topology) -> dict[str, float]:
    """CPU seconds used so far by the network's processes, summed per role."""
    totals: dict[str, float] = {}
    for name, pid in fabric_pids(topo).items():
        role = (
            "orderers"
            if name.startswith("orderer")
            else "peers"
            if name.startswith("peer")
            else ("chaincode servers" if name.startswith("ccaas") else None)
        )
        if role:
            totals[role] = totals.get(role, 0.0) + cpu_seconds(pid)
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: after.get(role, 0.0) - t for role, t in before.items()}


def cpu_line(phase: dict[str, object]) -> str:
    fabric_cpu = phase["fabric_cpu"]
    assert isinstance(fabric_cpu, dict)
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(fabric_cpu.items()))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class WorkerProcess:
    """`ledgerctl worker` as its own process (optionally under cProfile), watched for its
    CPU time and peak memory."""

    def __init__(
        self, db_url: str, state_dir: Path, batch_size: int, profile: Path | None, *, drain: bool
    ) -> None:
        self.profile = profile
        # cProfile roughly doubles the worker's own CPU time: only on request.
        prof = ["-m", "cProfile", "-o", str(profile)] if profile else []
        argv = [
            sys.executable,
            *prof,
            "-m",
            "ledger_service.cli",
            "worker",
            "--db-url",
            db_url,
            "--batch-size",
            str(batch_size),
            "--linger",
            "0.05",
            "--max-in-flight",
            "4",
        ]
        if drain:
            argv += ["--drain", "--timeout", "1800"]
        env = {**os.environ, "LEDGER_STATE_DIR": str(state_dir)}
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.peak_rss_kib = 0
        self.cpu_seconds = 0.0
        self._watch = threading.Thread(target=self._watch_memory, daemon=True)
        self._watch.start()

    def _watch_memory(self) -> None:
        while self.proc.poll() is None:
            try:
                for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
                self.cpu_seconds = max(self.cpu_seconds, cpu_seconds(self.proc.pid))
            except OSError:
                pass
            time.sleep(0.2)

    def terminate_when(self, done: Callable[[], bool], timeout: float = 1800) -> None:
        """SIGTERM (finish in-flight batches, then exit) once `done()` holds."""
        deadline = time.monotonic() + timeout
        while not done():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker exited or timed out before the work was done")
            time.sleep(0.05)
        self.proc.send_signal(signal.SIGTERM)

    def wait(self) -> str:
        out, _ = self.proc.communicate(timeout=3600)
        if self.proc.returncode != 0:
            raise RuntimeError(f"worker failed ({self.proc.returncode}):\n{out[-3000:]}")
        return out

    def top_functions(self, n: int = 12) -> list[str]:
        if self.profile is None:
            return []
        stats = pstats.Stats(str(self.profile))
        rows = []
        for func_, (_cc, _nc, tt, _ct, _callers) in sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda kv: kv[1][2],
            reverse=True,
        )[:n]:
            filename, line, name = func_
            rows.append(f"{tt:7.2f}s  {name}  ({Path(filename).name}:{line})")
        return rows


def fresh_index(tmp: Path, name: str) -> tuple[str, LedgerService, object]:
    url = sqlite_url(tmp / name)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    return url, LedgerService(session_factory=sessions), sessions


def phase_pipeline(
    args: argparse.Namespace, topo: Topology, tmp: Path, writer: SampleWriter
) -> dict[str, object]:
    url, service, sessions = fresh_index(tmp, "pipeline")
    service.register_writer(writer.actor, writer.public_key)
    prefix = f"bp{uuid.uuid4().hex[:6]}"
    records = list(
        stories(writer, args.records, prefix=prefix, record_ids=record_ids(args.ids, prefix))
    )
    cpu_before = cpu_by_role(topo)
    own_before = time.process_time()
    worker = WorkerProcess(
        url,
        topo.root,
        args.batch_size,
        tmp / "pipeline.prof" if args.profile else None,
        drain=False,
    )
    time.sleep(2.0)  # let the worker import and connect before the clock starts
    acked: dict[str, float] = {}
    t0 = time.monotonic()
    wall0 = dt.datetime.now(dt.UTC)
    for i in range(0, len(records), args.chunk):
        chunk = records[i : i + args.chunk]
        service.append(chunk)
        now = time.monotonic()
        for r in chunk:
            acked[r.record_id] = now
    t_appended = time.monotonic()
    intake_cpu = time.process_time() - own_before

    def all_committed() -> bool:
        with sessions() as s:  # type: ignore[operator]
            n = s.scalar(
                select(func.count())
                .select_from(m.RecordAnchor)
                .join(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
                .where(m.Batch.state == "committed")
            )
        return bool(n == len(records))

    worker.terminate_when(all_committed)
    out = worker.wait()
    with sessions() as s:  # type: ignore[operator]
        rows = s.execute(
            select(m.RecordAnchor.record_id, m.Batch.committed_at)
            .join(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
            .where(m.Batch.state == "committed")
        ).all()
        batches = s.scalar(
            select(func.count()).select_from(m.Batch).where(m.Batch.state == "committed")
        )
    assert len(rows) == len(records), (
        f"only {len(rows)} of {len(records)} committed:\n{out[-2000:]}"
    )
    last_commit = max(r.committed_at for r in rows)
    elapsed = (last_commit - wall0).total_seconds()
    latencies = [(r.committed_at - wall0).total_seconds() - (acked[r.record_id] - t0) for r in rows]
    fabric_cpu = cpu_delta(cpu_before, cpu_by_role(topo))
    return {
        "records": len(records),
        "batches": batches,
        "elapsed": elapsed,
        "rate": len(records) / elapsed,
        "append_rate": len(records) / (t_appended - t0),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "intake_cpu": intake_cpu,
        "fabric_cpu": fabric_cpu,
        "worker_peak_mib": worker.peak_rss_kib / 1024,
        "worker_top": worker.top_functions(),
        "worker_cpu": worker.cpu_seconds,
    }


def phase_anchoring_only(
    args: argparse.Namespace, topo: Topology, tmp: Path, writer: SampleWriter
) -> dict[str, object]:
    url, service, sessions = fresh_index(tmp, "anchoring")
    service.register_writer(writer.actor, writer.public_key)
    prefix = f"ba{uuid.uuid4().hex[:6]}"
    records = list(
        stories(writer, args.records, prefix=prefix, record_ids=record_ids(args.ids, prefix))
    )
    for i in range(0, len(records), args.chunk):
        service.append(records[i : i + args.chunk])
    cpu_before = cpu_by_role(topo)
    worker = WorkerProcess(
        url,
        topo.root,
        args.batch_size,
        tmp / "anchoring.prof" if args.profile else None,
        drain=True,
    )
    worker.wait()
    fabric_cpu = cpu_delta(cpu_before, cpu_by_role(topo))
    with sessions() as s:  # type: ignore[operator]
        first_claim, last_commit = s.execute(
            select(func.min(m.Batch.created_at), func.max(m.Batch.committed_at))
        ).one()
    # From the first batch claimed to the last committed: the worker's own start-up excluded.
    elapsed = (last_commit - first_claim).total_seconds()
    return {
        "records": len(records),
        "elapsed": elapsed,
        "rate": len(records) / elapsed,
        "worker_cpu": worker.cpu_seconds,
        "fabric_cpu": fabric_cpu,
    }


def synthetic_plans(prefix: str, count: int, batch_size: int) -> list[BatchPlan]:
    """Batches of random commitments under ids `<prefix>-<n>` (no index involved)."""
    plans = []
    for start in range(0, count, batch_size):
        ids = tuple(f"{prefix}-{i:07d}" for i in range(start, min(count, start + batch_size)))
        commitments = tuple(os.urandom(32) for _ in ids)
        root = MerkleTree.from_leaf_hashes([commitment_leaf_hash(c) for c in commitments]).root
        plans.append(
            BatchPlan(
                batch_id=f"{ids[0]}-b",
                root=root,
                record_ids=ids,
                commitments=commitments,
                state="pending",
            )
        )
    return plans


async def submit_plans(topo: Topology, plans: list[BatchPlan], concurrency: int) -> list[float]:
    """PutBatch every plan through the same client, `concurrency` at a time; latencies."""
    target = FabricTarget.from_topology(topo)
    latencies: list[float] = []
    queue: asyncio.Queue[BatchPlan] = asyncio.Queue()
    for p in plans:
        queue.put_nowait(p)
    async with target.gateway_async() as gw:
        contract = gw.get_network(target.channel).get_contract(target.chaincode)

        async def submitter() -> None:
            while not queue.empty():
                plan = queue.get_nowait()
                t = time.monotonic()
                tx = await contract.new_proposal(
                    "PutBatch", transient=plan.transient_data()
                ).endorse()
                status = await (await tx.submit()).status()
                assert status.successful, status
                latencies.append(time.monotonic() - t)

        await asyncio.gather(*(submitter() for _ in range(concurrency)))
    return latencies


async def prefill(args: argparse.Namespace, topo: Topology) -> None:
    """Grow the peers' state database before measuring: a ledger in service holds millions
    of record keys, and LevelDB's compaction work grows with it."""
    prefix = f"bf{uuid.uuid4().hex[:6]}"
    t0 = time.monotonic()
    await submit_plans(topo, synthetic_plans(prefix, args.prefill, args.batch_size), 4)
    print(f"   prefilled {args.prefill:,} record keys in {time.monotonic() - t0:.0f} s", flush=True)


async def phase_naive(args: argparse.Namespace, topo: Topology) -> dict[str, object]:
    """One Fabric transaction per record: PutBatch of a single record, same client."""
    plans = synthetic_plans(f"bn{uuid.uuid4().hex[:6]}", args.naive, 1)
    t0 = time.monotonic()
    latencies = await submit_plans(topo, plans, args.naive_concurrency)
    elapsed = time.monotonic() - t0
    return {
        "records": args.naive,
        "elapsed": elapsed,
        "rate": args.naive / elapsed,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=60_000)
    add_ids_option(ap)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--chunk", type=int, default=5000, help="records per append call")
    ap.add_argument("--naive", type=int, default=600, help="records in the one-tx-per-record run")
    ap.add_argument("--naive-concurrency", type=int, default=64)
    ap.add_argument("--state-dir", type=Path, default=default_state_dir())
    ap.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    ap.add_argument(
        "--phases",
        default="ABC",
        help="which phases to run (e.g. B for a quick anchoring-only look; only ABC is written)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="run the worker under cProfile (slows it down)"
    )
    ap.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="first anchor this many synthetic records (not measured) to grow the state DB",
    )
    args = ap.parse_args()
    args.phases = args.phases.upper()
    topo = Topology.load(args.state_dir)
    writer = SampleWriter(actor="bench-writer")
    with tempfile.TemporaryDirectory(prefix="bench-anchoring-") as d:
        tmp = Path(d)
        print(f"machine: {machine()}", flush=True)
        a = b = c = None
        if args.prefill:
            print(f"prefill: {args.prefill:,} synthetic records ...", flush=True)
            asyncio.run(prefill(args, topo))
        if "A" in args.phases:
            print(
                f"A. pipeline: {args.records} records, batch size {args.batch_size} ...", flush=True
            )
            a = phase_pipeline(args, topo, tmp, writer)
            print(
                f"   {a['rate']:,.0f} records/s end to end ({a['batches']} batches, {a['elapsed']:.1f} s); "
                f"intake alone {a['append_rate']:,.0f} records/s; latency p50 {a['p50']:.2f} s p99 {a['p99']:.2f} s",
                flush=True,
            )
            print(
                f"   CPU: intake (this process) {a['intake_cpu']:.1f} s; worker {a['worker_cpu']:.1f} s; "
                + cpu_line(a),
                flush=True,
            )
        if "B" in args.phases:
            print(f"B. anchoring only: {args.records} accepted records ...", flush=True)
            b = phase_anchoring_only(args, topo, tmp, writer)
            print(
                f"   {b['rate']:,.0f} records/s ({b['elapsed']:.1f} s, first claim to last commit)",
                flush=True,
            )
            print(f"   CPU: worker {b['worker_cpu']:.1f} s; " + cpu_line(b), flush=True)
        if "C" in args.phases:
            print(
                f"C. naive: {args.naive} records, one transaction each, {args.naive_concurrency} concurrent ...",
                flush=True,
            )
            c = asyncio.run(phase_naive(args, topo))
            print(
                f"   {c['rate']:,.1f} records/s; latency p50 {c['p50']:.2f} s p99 {c['p99']:.2f} s",
                flush=True,
            )
    if a is None or b is None or c is None:
        return
    ratio_a = float(a["rate"]) / float(c["rate"])  # type: ignore[arg-type]
    ratio_b = float(b["rate"]) / float(c["rate"])  # type: ignore[arg-type]
    print(f"ratio batched/naive: pipeline {ratio_a:.0f}x, anchoring only {ratio_b:.0f}x")
    top = "\n".join(f"    {line}" for line in a["worker_top"])  # type: ignore[attr-defined]
    if top:
        print(f"worker self-time top:\n{top}")
    print(f"worker peak RSS {a['worker_peak_mib']:.0f} MiB")
    if args.no_write:
        return
    cmd = "uv run python scripts/bench_anchoring.py " + " ".join(sys.argv[1:])
    section = f"""
## End-to-end anchoring ({dt.date.today().isoformat()})

Command: `{cmd.strip()}` — machine: {machine()}. Network: the default topology (3 Raft
orderers, PlatformMSP/BankMSP/RegulatorMSP with one peer each, MAJORITY endorsement, TLS
everywhere, CCaaS chaincode), all on this machine; index: fresh SQLite (WAL) file.

| measurement | records | result |
|---|---|---|
| A. pipeline: `append` (chunks of {args.chunk}) → committed on the channel, proof data in the index | {a["records"]:,} | **{a["rate"]:,.0f} records/s** ({a["batches"]} batches of ≤ {args.batch_size}); latency p50 {a["p50"]:.2f} s, p99 {a["p99"]:.2f} s |
| … of which intake alone (`append`, in the benchmark process) | {a["records"]:,} | {a["append_rate"]:,.0f} records/s |
| B. anchoring only (records already accepted; first batch claimed → last committed) | {b["records"]:,} | **{b["rate"]:,.0f} records/s** (worker CPU {b["worker_cpu"]:.1f} s) |
| C. naive: one Fabric transaction per record, {args.naive_concurrency} concurrent submitters, same client | {c["records"]:,} | **{c["rate"]:,.1f} records/s**; latency p50 {c["p50"]:.2f} s, p99 {c["p99"]:.2f} s |
| ratio batched ÷ naive | | pipeline **{ratio_a:.0f}×**, anchoring only **{ratio_b:.0f}×** |

Where the time went (CPU seconds, all on the same 2 cores) — during A: intake {a["intake_cpu"]:.1f} s,
anchoring worker {a["worker_cpu"]:.1f} s, {cpu_line(a)}; during B: anchoring worker
{b["worker_cpu"]:.1f} s, {cpu_line(b)}. Anchoring worker peak RSS: {a["worker_peak_mib"]:.0f} MiB.
"""
    if top:
        section += f"Worker self-time (cProfile, `--profile`):\n\n```\n{top}\n```\n"
    bench = REPO / "docs" / "benchmarks.md"
    if not bench.exists():
        bench.write_text(
            "# Benchmarks\n\nEvery figure below was printed by the command next to it, on the machine named.\n"
        )
    with bench.open("a") as f:
        f.write(section)
    print(f"appended to {bench}")


if __name__ == "__main__":
    main()
