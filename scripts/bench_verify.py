"""Offline verification rate of evidence bundles, on ONE core.

Anchors sample records on the running network in Merkle batches of each size asked for
(default 256 and 4096), builds evidence bundles for them, then measures — with the process
pinned to one CPU, no network, no index:

(a) single-record bundles/s: every bundle its own file, read from disk and verified by a
    fresh ``Verifier`` (nothing cached between bundles — the worst case), two ways:
    *warm trust* (the trust directory loaded once, its certificate checks cached — what
    ``ledgerctl verify a.json b.json …`` does) and *cold* (the trust directory re-loaded for
    every bundle too: one process per bundle, minus interpreter start-up);
(b) records/s inside one multi-record bundle (every record of the anchored batches, sharing
    their blocks), full and redacted;
(c) the checkpoint form (compact, ``credit-ledger-evidence/5``) of the same single records:
    a checkpoint of the global log is anchored by hand after the batches
    (``ledger_service.samples.checkpoints``), each record's compact bundle is its own file,
    verified by a fresh ``Verifier`` with the log key under both checkpoint policies —
    *chain* (steps 1-7: the anchoring transaction's endorsements and orderer signature,
    ECDSA P-256) and *signatures* (steps 1-3: the log key's Ed25519 signature alone).

Prints the figures and a cProfile summary of where the time goes, and appends a section to
docs/benchmarks.md.

    uv run python scripts/bench_verify.py                    # network at .state (default)
    uv run python scripts/bench_verify.py --batch-sizes 256 --seconds 3 --no-doc

Bundles are cached in --work (default /tmp/bench_verify) per batch size and network; pass
--rebuild to anchor fresh records.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import os
import pstats
import shlex
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import machine  # scripts/ is on sys.path when a script runs
from credit_ledger_verify.evidence.binary_form import encode_cbor_bundle
from credit_ledger_verify.tlog import CheckpointPolicy, VerifierKey

from ledger_service.evidence import (
    TrustStore,
    Verifier,
    build_bundle,
    encode_bundle,
)
from ledger_service.fabric.blocks import CachingBlockReader, GatewayBlockReader
from ledger_service.ops.topology import Topology
from ledger_service.samples.checkpoints import anchor_checkpoint
from ledger_service.samples.ledger import make_anchored_ledger
from ledger_service.tlog.checkpoints import load_or_create_log_key, platform_origin

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


# -- preparing bundles --------------------------------------------------------------------------


def prepare(topo: Topology, work: Path, batch_size: int, batches: int, singles: int) -> Path:
    """Anchor `batches` full batches of `batch_size` records; write single-record bundles for
    `singles` of them (spread over all batches) and one bundle of all records."""
    out = work / f"b{batch_size}"
    marker = out / "done.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if (
            info.get("network") == topo.state_dir
            and info.get("singles") == singles
            and info.get("compact")
        ):
            print(f"[b{batch_size}] reusing bundles in {out}", flush=True)
            return out
    shutil.rmtree(out, ignore_errors=True)
    (out / "single").mkdir(parents=True)
    (out / "compact").mkdir()
    count = batch_size * batches
    t0 = time.perf_counter()
    ledger = make_anchored_ledger(
        topo, out, count=count, prefix=f"bv{uuid.uuid4().hex[:8]}", anchor=False
    )
    print(
        f"[b{batch_size}] appended {count} records in {time.perf_counter() - t0:.1f}s", flush=True
    )
    t0 = time.perf_counter()
    # A long linger fills every batch to `batch_size`: the bundles then carry full anchors.
    ledger.anchor(batch_size=batch_size, linger=5.0, max_in_flight=2)
    print(f"[b{batch_size}] anchored in {time.perf_counter() - t0:.1f}s", flush=True)
    records, sessions, target = ledger.records, ledger.session_factory, ledger.target
    ids = [r.record_id for r in records]
    step = max(1, len(ids) // singles)
    chosen = ids[::step][:singles]
    with target.gateway() as gateway:
        source = GatewayBlockReader(gateway, target.channel)
        cached = CachingBlockReader(source)
        for i, rid in enumerate(chosen):
            bundle = build_bundle(sessions, [rid], block_source=cached)
            (out / "single" / f"{i:05d}.json").write_bytes(encode_bundle(bundle))
        multi = build_bundle(sessions, ids, block_source=cached)
        (out / "multi.json").write_bytes(encode_bundle(multi))
        redacted = build_bundle(sessions, ids, block_source=cached, redact=True)
        (out / "multi-redacted.json").write_bytes(encode_bundle(redacted))
        anchored = anchor_checkpoint(ledger.context, gateway)
        chain = ledger.context.anchored_checkpoints(gateway)
        for i, rid in enumerate(chosen):
            compact = ledger.context.build_checkpoint_bundle([rid], chain=chain)
            (out / "compact" / f"{i:05d}.json").write_bytes(encode_bundle(compact))
            (out / "compact" / f"{i:05d}.cbor").write_bytes(encode_cbor_bundle(compact))
    print(f"[b{batch_size}] checkpoint of size {anchored.size} anchored", flush=True)
    blocks = multi["blocks"]
    marker.write_text(
        json.dumps(
            {
                "network": topo.state_dir,
                "singles": singles,
                "records": len(ids),
                "compact": True,
                "log_size": anchored.size,
                "blocks": [{"number": b["number"], "transactions": len(b["data"])} for b in blocks],
            }
        )
    )
    return out


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    items: int
    seconds: float
    cpu_seconds: float
    unit: str
    #: the CPU-time rates of all rounds (the figure itself is the median round)
    round_rates: tuple[float, ...] = ()

    @property
    def spread(self) -> str:
        if not self.round_rates:
            return ""
        return f"{min(self.round_rates):,.0f}–{max(self.round_rates):,.0f}"

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.items / self.cpu_seconds


def measure(name: str, unit: str, run: Callable[[], int], min_seconds: float) -> Figure:
    """Repeat `run` (returns items done) until `min_seconds` have passed, in 5 rounds; the
    median round, with the range of all rounds (the machine is shared and noisy)."""
    run()  # warm-up (imports, first-use caches of the libraries)
    rounds = []
    for _ in range(5):
        items = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while True:
            items += run()
            wall = time.perf_counter() - wall0
            if wall >= min_seconds / 5:
                break
        rounds.append(Figure(name, items, wall, time.process_time() - cpu0, unit))
    rounds.sort(key=lambda f: f.cpu_rate)
    middle = rounds[len(rounds) // 2]
    return dataclasses.replace(middle, round_rates=tuple(f.cpu_rate for f in rounds))


def bench_size(
    out: Path, trust_dir: Path, log_key: VerifierKey, seconds: float
) -> tuple[list[Figure], dict[str, Any]]:
    files = sorted((out / "single").glob("*.json"))
    sizes = [f.stat().st_size for f in files]
    compact_files = sorted((out / "compact").glob("*.json"))
    compact_sizes = [f.stat().st_size for f in compact_files]
    cbor_files = sorted((out / "compact").glob("*.cbor"))
    cbor_sizes = [f.stat().st_size for f in cbor_files]
    warm_trust = TrustStore.load(trust_dir)
    policy = CheckpointPolicy(log_key)

    def compact(chain: bool, binary: bool = False, in_memory: bool = False) -> Callable[[], int]:
        paths = cbor_files if binary else compact_files
        blobs = [p.read_bytes() for p in paths]

        def run() -> int:
            for path, blob in zip(paths, blobs, strict=True):
                verifier = Verifier(warm_trust, checkpoint_policy=policy, checkpoint_chain=chain)
                # in memory: the verification alone; else each bundle read from its own file
                result = verifier.verify(blob if in_memory else path.read_bytes())
                assert result.ok, result.messages
            return len(paths)

        return run

    def singles_warm() -> int:
        for path in files:
            result = Verifier(warm_trust).verify(path.read_bytes())
            assert result.ok, result.messages
        return len(files)

    def singles_cold() -> int:
        for path in files:
            result = Verifier(TrustStore.load(trust_dir)).verify(path.read_bytes())
            assert result.ok, result.messages
        return len(files)

    def singles_shared() -> int:
        verifier = Verifier(warm_trust)
        for path in files:
            assert verifier.verify(path.read_bytes()).ok
        return len(files)

    multi = (out / "multi.json").read_bytes()
    redacted = (out / "multi-redacted.json").read_bytes()
    n_records = len(json.loads(multi)["records"])

    def multi_full() -> int:
        result = Verifier(warm_trust).verify(multi)
        assert result.ok, result.messages[:3]
        return n_records

    def multi_redacted() -> int:
        result = Verifier(warm_trust).verify(redacted)
        assert result.ok, result.messages[:3]
        return n_records

    figures = [
        measure(
            "(a) single-record bundles, fresh verifier, warm trust",
            "bundles",
            singles_warm,
            seconds,
        ),
        measure(
            "(a) single-record bundles, fresh verifier, cold trust",
            "bundles",
            singles_cold,
            seconds,
        ),
        measure(
            "(a') single-record bundles, one verifier (block cache)",
            "bundles",
            singles_shared,
            seconds,
        ),
        measure("(b) records in one multi-record bundle, full", "records", multi_full, seconds),
        measure(
            "(b) records in one multi-record bundle, redacted", "records", multi_redacted, seconds
        ),
        measure(
            "(c) compact single-record bundles, fresh verifier, warm trust, chain policy",
            "bundles",
            compact(True),
            seconds,
        ),
        measure(
            "(c) compact single-record bundles, fresh verifier, warm trust, signatures policy",
            "bundles",
            compact(False),
            seconds,
        ),
        measure(
            "(c) compact single-record bundles in memory, fresh verifier, chain policy",
            "bundles",
            compact(True, in_memory=True),
            seconds,
        ),
        measure(
            "(c) compact single-record bundles in memory, fresh verifier, signatures policy",
            "bundles",
            compact(False, in_memory=True),
            seconds,
        ),
        measure(
            "(c) compact bundles as CBOR, fresh verifier, warm trust, chain policy",
            "bundles",
            compact(True, binary=True),
            seconds,
        ),
        measure(
            "(c) compact bundles as CBOR, fresh verifier, warm trust, signatures policy",
            "bundles",
            compact(False, binary=True),
            seconds,
        ),
    ]
    info = {
        "bundle_files": len(files),
        "bundle_bytes_median": int(statistics.median(sizes)),
        "multi_records": n_records,
        "multi_bytes": len(multi),
        "profile_single": profile(singles_warm),
        "profile_multi": profile(multi_full),
        "compact_bytes": (
            min(compact_sizes),
            int(statistics.median(compact_sizes)),
            max(compact_sizes),
        ),
        "cbor_bytes": (min(cbor_sizes), int(statistics.median(cbor_sizes)), max(cbor_sizes)),
        "profile_compact_chain": profile(compact(True)),
        "profile_compact_signatures": profile(compact(False)),
    }
    return figures, info


def profile(run: Callable[[], int], top: int = 14, min_seconds: float = 2.0) -> str:
    profiler = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
    t0 = time.process_time()
    profiler.enable()
    while time.process_time() - t0 < min_seconds:
        run()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in text.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for ln in lines[start + 1 : start + 1 + top]:
        parts = ln.split(None, 5)
        tottime = float(parts[1])
        where = parts[5]
        rows.append(f"{100 * tottime / total:5.1f}%  {tottime:7.3f}s  {where}")
    return "\n".join(rows)


# -- reporting ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".state")
    parser.add_argument("--batch-sizes", default="256,4096")
    parser.add_argument("--batches", type=int, default=2, help="full batches anchored per size")
    parser.add_argument(
        "--singles", type=int, default=200, help="single-record bundle files per size"
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per figure")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the last)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_verify"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()

    topo = Topology.load(args.state_dir)
    if args.rebuild:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    trust_dir = args.work / "trust"
    TrustStore.from_topology(topo).write(trust_dir)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    outs = {b: prepare(topo, args.work, b, args.batches, args.singles) for b in sizes}
    origin = platform_origin(topo.channel, topo.chaincode)
    log_key = load_or_create_log_key(Path(topo.state_dir), origin).verifier

    host = machine()  # before pinning: nproc counts the CPUs this process may use
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"pinned to CPU {cpu}; load average {load}", flush=True)
    results: dict[int, tuple[list[Figure], dict[str, Any]]] = {}
    for b in sizes:
        results[b] = bench_size(outs[b], trust_dir, log_key, args.seconds)
        figures, info = results[b]
        done = json.loads((outs[b] / "done.json").read_text())
        print(
            f"\nbatch size {b}: {done['records']} records; blocks "
            f"{[(x['number'], x['transactions']) for x in done['blocks']]}; "
            f"single-record bundle ~{info['bundle_bytes_median']:,} bytes; compact "
            "min/median/max {:,}/{:,}/{:,} bytes".format(*info["compact_bytes"])
        )
        for f in figures:
            print(
                f"  {f.name}: {f.rate:,.0f} {f.unit}/s (CPU-time rate {f.cpu_rate:,.0f}/s, "
                f"rounds {f.spread}/s, "
                f"{1e6 / f.cpu_rate:,.0f} µs CPU each; {f.items} in {f.seconds:.2f}s)"
            )
        print(
            "  profile, single-record bundles (self time):\n    "
            + info["profile_single"].replace("\n", "\n    ")
        )
        print(
            "  profile, multi-record bundle (self time):\n    "
            + info["profile_multi"].replace("\n", "\n    ")
        )
        for policy_name in ("chain", "signatures"):
            print(
                f"  profile, compact bundles, {policy_name} policy (self time):\n    "
                + info[f"profile_compact_{policy_name}"].replace("\n", "\n    ")
            )
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if not args.no_doc:
        write_doc(args, topo, sizes, outs, results, host, cpu, load, load_after)


def write_doc(
    args: argparse.Namespace,
    topo: Topology,
    sizes: list[int],
    outs: dict[int, Path],
    results: dict[int, tuple[list[Figure], dict[str, Any]]],
    host: str,
    cpu: int,
    load: str,
    load_after: str,
) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "uv run python scripts/bench_verify.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:]
    )
    lines = [
        "",
        f"## Offline evidence verification — {now}",
        "",
        f"- machine: {host}; the benchmark process pinned to CPU {cpu} (one core)",
        f"- load average before / after: {load} / {load_after} (the machine is shared with other work)",
        f"- bundles: built by `build_bundle` from records anchored on the running network "
        f"(Fabric {topo.fabric_version}, 3 Raft orderers, 3 orgs, MAJORITY endorsement); "
        f"{args.singles} single-record bundle files per batch size",
        f"- command: `{command.strip()}`",
        "",
        "| batch size | blocks (txs in each) | single bundle | measurement | rate | CPU-time rate, "
        "median of 5 rounds (range) | CPU per item |",
        "|---:|---|---:|---|---:|---:|---:|",
    ]
    for b in sizes:
        figures, info = results[b]
        done = json.loads((outs[b] / "done.json").read_text())
        blocks = ", ".join(f"#{x['number']} ({x['transactions']})" for x in done["blocks"])
        for f in figures:
            if "CBOR" in f.name:
                size = f"{info['cbor_bytes'][1]:,} B"
            elif f.name.startswith("(c)"):
                size = f"{info['compact_bytes'][1]:,} B"
            else:
                size = f"{info['bundle_bytes_median'] / 1024:,.0f} KiB"
            lines.append(
                f"| {b} | {blocks} | {size} | {f.name} | "
                f"**{f.rate:,.0f} {f.unit}/s** | {f.cpu_rate:,.0f}/s ({f.spread}) | "
                f"{1e6 / f.cpu_rate:,.0f} µs |"
            )
    for b in sizes:
        _, info = results[b]
        lines += [
            "",
            f"Where the time goes, batch size {b} — single-record bundles, fresh verifier "
            "(cProfile self time):",
            "",
            "```",
            info["profile_single"],
            "```",
            "",
            f"Multi-record bundle of {info['multi_records']} records:",
            "",
            "```",
            info["profile_multi"],
            "```",
            "",
            "Compact single-record bundles ({:,} / {:,} / {:,} bytes min / median / max as JSON, "
            "{:,} / {:,} / {:,} as CBOR; log size {:,}), chain policy:".format(
                *info["compact_bytes"],
                *info["cbor_bytes"],
                json.loads((outs[b] / "done.json").read_text())["log_size"],
            ),
            "",
            "```",
            info["profile_compact_chain"],
            "```",
            "",
            "Compact single-record bundles, signatures policy:",
            "",
            "```",
            info["profile_compact_signatures"],
            "```",
        ]
    with DOC.open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"\nappended to {DOC}")


if __name__ == "__main__":
    main()
