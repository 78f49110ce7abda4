"""Submit throughput and latency: fabric_gateway (Python, asyncio) vs the official Go client.

Both clients run against the same network in the same run, doing the same calls: N
concurrent submitters, each looping endorse + submit + wait-for-commit of a cheap chaincode
writer-only function (``Touch``: one read, one write of a key of its own per call) through
the same gateway peer as the same (writer) user. Figures:
committed transactions per second, latency p50/p99 (submit start → commit status), and the
ratio ours ÷ official in tx/s. Appends the result to docs/benchmarks.md.

    uv run ledgerctl network up && uv run ledgerctl chaincode deploy   # if not running
    uv run python scripts/bench_gateway.py --concurrency 32 --duration 20

The Go program lives in scripts/bench/gateway/ (github.com/hyperledger/fabric-gateway
v1.7.1, pinned; built with GOFLAGS=-mod=mod).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
import grpc.aio
from benchlib import machine  # scripts/ is on sys.path when a script runs
from fabric_gateway import connect_async, load_msp

ROOT = Path(__file__).resolve().parents[1]
GO_DIR = ROOT / "scripts" / "bench" / "gateway"


@dataclass
class Result:
    client: str
    concurrency: int
    function: str
    transactions: int
    errors: int
    seconds: float
    tps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_tx: float = 0.0
    first_error: str = ""


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[int(p * (len(sorted_values) - 1))]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_network(state_dir: Path) -> dict[str, object]:
    path = state_dir / "network.json"
    if not path.exists():
        sys.exit(f"{path} not found: start the network (uv run ledgerctl network up)")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def endpoint(network: dict[str, object], msp_id: str) -> tuple[dict[str, str], dict[str, str]]:
    peers = [p for p in network["peers"] if p["msp_id"] == msp_id]  # type: ignore[attr-defined]
    orgs = [o for o in network["orgs"] if o["msp_id"] == msp_id]  # type: ignore[attr-defined]
    if not peers or not orgs:
        sys.exit(f"no peer/org with MSP id {msp_id}")
    return peers[0], orgs[0]


async def run_python(
    network: dict[str, object],
    msp_id: str,
    fn: str,
    concurrency: int,
    duration: float,
    warmup: float,
) -> Result:
    peer, org = endpoint(network, msp_id)
    creds = load_msp(org["user_msp"], msp_id=msp_id)
    ca = Path(org["tls_ca_cert"]).read_bytes()
    latencies: list[float] = []
    errors = 0
    first_error = ""
    measuring = False
    stop = False
    async with grpc.aio.secure_channel(
        f"{peer['host']}:{peer['port']}",
        grpc.ssl_channel_credentials(ca),
        options=[("grpc.ssl_target_name_override", peer["name"])],
    ) as channel:
        gateway = connect_async(identity=creds.identity, signer=creds.signer, channel=channel)
        contract = gateway.get_network(str(network["channel"])).get_contract(
            str(network["chaincode"])
        )

        # A fresh network's gateway needs gossip to learn the other orgs' peers first.
        deadline = time.monotonic() + 120
        while True:
            try:
                await contract.new_proposal("Ping").endorse()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)

        async def worker(w: int) -> None:
            nonlocal errors, first_error
            i = 0
            while not stop:
                t0 = time.perf_counter()
                try:
                    await contract.submit(fn, args=[f"py-w{w}-{i}"])
                except Exception as exc:
                    if measuring:
                        errors += 1
                        first_error = first_error or str(exc)
                else:
                    if measuring:
                        latencies.append(time.perf_counter() - t0)
                i += 1

        tasks = [asyncio.create_task(worker(w)) for w in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        start = time.perf_counter()
        cpu_start = cpu_seconds()
        await asyncio.sleep(duration)
        measuring = False
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds() - cpu_start
        stop = True
        await asyncio.gather(*tasks)
    latencies.sort()
    return Result(
        client="python:fabric_gateway (asyncio)",
        concurrency=concurrency,
        function=fn,
        transactions=len(latencies),
        errors=errors,
        seconds=elapsed,
        tps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        cpu_ms_per_tx=cpu * 1000 / len(latencies) if latencies else 0.0,
        first_error=first_error,
    )


def build_go() -> Path:
    out = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "credit-ledger"
    out.mkdir(parents=True, exist_ok=True)
    binary = out / "gateway-bench"
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=GO_DIR, env=env, check=True)
    return binary


def run_go(
    binary: Path,
    network: dict[str, object],
    msp_id: str,
    fn: str,
    concurrency: int,
    duration: float,
    warmup: float,
) -> Result:
    peer, org = endpoint(network, msp_id)
    argv = [
        str(binary),
        f"-peer={peer['host']}:{peer['port']}",
        f"-target={peer['name']}",
        f"-tls-ca={org['tls_ca_cert']}",
        f"-msp-dir={org['user_msp']}",
        f"-msp-id={msp_id}",
        f"-channel={network['channel']}",
        f"-chaincode={network['chaincode']}",
        f"-fn={fn}",
        f"-concurrency={concurrency}",
        f"-duration={duration}s",
        f"-warmup={warmup}s",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"Go benchmark failed: {proc.stderr}")
    data = json.loads(proc.stdout)
    return Result(**{k: data.get(k, "") for k in Result.__dataclass_fields__})  # type: ignore[arg-type]


def topology(network: dict[str, object]) -> str:
    return (
        f"{len(network['orderers'])} Raft orderers, {len(network['peers'])} peers "  # type: ignore[arg-type]
        f"({', '.join(o['msp_id'] for o in network['orgs'])}), channel "  # type: ignore[attr-defined]
        f"`{network['channel']}`, chaincode `{network['chaincode']}` (CCaaS), MAJORITY "
        f"endorsement, TLS; Fabric {network.get('fabric_version', '?')}; all on this machine"
    )


def append_report(
    path: Path,
    results: list[Result],
    rounds: list[Result],
    ratio: float,
    network: dict[str, object],
    args: str,
    msp: str,
    load: tuple[float, float, float],
) -> None:
    lines = [
        "",
        f"## Gateway client submit throughput — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- topology: {topology(network)}",
        f"- workload: concurrent submitters, each looping submit (endorse + submit + wait for "
        f"commit) of `{results[0].function}` through {msp}'s peer as its User1",
        f"- command: `uv run python scripts/bench_gateway.py {args}`",
        f"- load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(the machine may be shared with other work; rounds alternate the clients)",
        "",
        "| client | concurrency | tx | errors | seconds | tx/s | p50 ms | p99 ms "
        "| client CPU ms/tx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| **{r.client}** (all rounds) | {r.concurrency} | {r.transactions} | {r.errors} "
            f"| {r.seconds:.1f} | {r.tps:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.cpu_ms_per_tx:.2f} |"
        )
    if len(rounds) > len(results):
        for i, r in enumerate(rounds):
            lines.append(
                f"| {r.client} (round {i // len(results) + 1}) | {r.concurrency} "
                f"| {r.transactions} | {r.errors} | {r.seconds:.1f} | {r.tps:.1f} "
                f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.cpu_ms_per_tx:.2f} |"
            )
    lines += ["", f"Ratio ours ÷ official (tx/s): **{ratio:.3f}**", ""]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Benchmarks\n")
    with path.open("a") as handle:
        handle.write("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get("LEDGER_STATE_DIR", ROOT / ".state"))
    )
    parser.add_argument("--msp-id", default="PlatformMSP")
    parser.add_argument("--fn", default="Touch")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=1, help="alternate Python/Go this many times")
    parser.add_argument("--no-go", action="store_true", help="skip the Go client")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    network = load_network(args.state_dir)
    load = os.getloadavg()
    binary = None if args.no_go else build_go()
    ours: list[Result] = []
    theirs: list[Result] = []
    rounds: list[Result] = []
    for _ in range(args.rounds):
        ours.append(
            asyncio.run(
                run_python(
                    network, args.msp_id, args.fn, args.concurrency, args.duration, args.warmup
                )
            )
        )
        rounds.append(ours[-1])
        print(json.dumps(asdict(ours[-1])), flush=True)
        if binary is not None:
            theirs.append(
                run_go(
                    binary,
                    network,
                    args.msp_id,
                    args.fn,
                    args.concurrency,
                    args.duration,
                    args.warmup,
                )
            )
            rounds.append(theirs[-1])
            print(json.dumps(asdict(theirs[-1])), flush=True)

    def merged(rs: list[Result]) -> Result:
        tx = sum(r.transactions for r in rs)
        secs = sum(r.seconds for r in rs)
        return Result(
            client=rs[0].client,
            concurrency=rs[0].concurrency,
            function=rs[0].function,
            transactions=tx,
            errors=sum(r.errors for r in rs),
            seconds=secs,
            tps=tx / secs,
            p50_ms=sorted(r.p50_ms for r in rs)[len(rs) // 2],
            p99_ms=max(r.p99_ms for r in rs),
            cpu_ms_per_tx=sum(r.cpu_ms_per_tx * r.transactions for r in rs) / tx if tx else 0.0,
            first_error=next((r.first_error for r in rs if r.first_error), ""),
        )

    results = [merged(ours)] + ([merged(theirs)] if theirs else [])
    print()
    print(f"{'client':40} {'tx/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'cpu ms/tx':>9}")
    for r in results:
        print(
            f"{r.client:40} {r.tps:8.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.errors:7d} "
            f"{r.cpu_ms_per_tx:9.2f}"
        )
        if r.first_error:
            print(f"  first error: {r.first_error.splitlines()[0]}")
    if len(results) == 2:
        ratio = results[0].tps / results[1].tps if results[1].tps else float("inf")
        print(f"\nratio ours / official (tx/s): {ratio:.3f}")
        if not args.no_append:
            append_report(
                ROOT / "docs" / "benchmarks.md",
                results,
                rounds,
                ratio,
                network,
                shlex.join(sys.argv[1:]),
                args.msp_id,
                load,
            )
            print("appended to docs/benchmarks.md")


if __name__ == "__main__":
    main()
