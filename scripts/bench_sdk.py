"""Bulk append over HTTP through the SDK next to in-process ``LedgerService.append``: the same
signed records, the same chunk size, a fresh SQLite index for every run, rounds alternating.

HTTP: ``ledgerctl api serve`` (uvicorn, its own process, loopback) over a fresh index, the
SDK's ``Client.append`` timed from the first request to the last acknowledgement (an
acknowledgement is a committed index transaction: durable). In-process: the service's
``append`` on the same chunks. Per run: records/s; per request: p50 / p99 latency. Then a
breakdown of one chunk's server-side work (JSON parse, record validation, signature checks,
the whole ``append`` = canonical form + checks + database) and the SDK's encoding. Appends
its section to docs/benchmarks.md.

    uv run python scripts/bench_sdk.py                       # 6,000 records, chunks of 1,000, 3 rounds
    uv run python scripts/bench_sdk.py --records 2000 --rounds 1 --no-append
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from benchlib import machine  # scripts/ is on sys.path when run
from credit_ledger_client import Client, RetryPolicy, Writer
from credit_ledger_client import _wire as wire
from credit_ledger_verify.records import Record, parse_record
from nacl.signing import VerifyKey

from ledger_service.api import ApiKeys
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.index import sqlite_url
from ledger_service.samples.data import EPOCH, enterprise_code

ROOT = Path(__file__).resolve().parents[1]
ACTOR = "bench-sdk"


def make_records(writer: Writer, count: int) -> list[Record]:
    """Signed data updates and score changes (every third record a score on the two before)."""
    records: list[Record] = []
    for n in range(count):
        common = {
            "record_id": f"bench-{n:08d}",
            "subject": enterprise_code(n // 3),
            "occurred_at": EPOCH + dt.timedelta(seconds=n),
        }
        if n % 3 == 2:
            records.append(
                writer.build(
                    "score_change",
                    source="scoring-engine",
                    parents=[records[-2].record_id, records[-1].record_id],
                    payload={
                        "model_id": "sme-credit",
                        "model_version": "4.1.0",
                        "score_before": "640",
                        "score_after": "688",
                        "grade_before": "BB",
                        "grade_after": "BBB",
                        "dimension_scores": {"tax": "82.5", "social_insurance": "61.0"},
                        "reason_codes": ["TAX_ON_TIME", "SI_ARREARS"],
                    },
                    **common,
                )
            )
        else:
            records.append(
                writer.build(
                    "data_update",
                    source="state-tax-bureau",
                    payload={
                        "dataset": "tax",
                        "fields_changed": {"vat_paid_2025": f"{48_000 + n}.00", "grade": "A"},
                        "source_reference": f"STB-2025-{n:07d}",
                    },
                    **common,
                )
            )
    return records


def fresh_context(root: Path, writer: Writer) -> LedgerContext:
    state = Path(tempfile.mkdtemp(dir=root))
    context = LedgerContext(ServiceConfig(state_dir=state, db_url=sqlite_url(state)))
    context.intake.register_writer(ACTOR, writer.public_key)
    return context


def run_in_process(
    root: Path, writer: Writer, records: list[Record], chunk: int
) -> tuple[float, list[float], float]:
    """Seconds, per-request latencies, CPU seconds."""
    context = fresh_context(root, writer)
    latencies: list[float] = []
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(0, len(records), chunk):
        t0 = time.perf_counter()
        context.intake.append(records[i : i + chunk])
        latencies.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    context.close()
    return total, latencies, cpu


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Timing(httpx.HTTPTransport):
    """The SDK's transport with each request's latency recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.latencies: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        t0 = time.perf_counter()
        response = super().handle_request(request)
        response.read()
        self.latencies.append(time.perf_counter() - t0)
        return response


def run_http(
    root: Path, writer: Writer, records: list[Record], chunk: int
) -> tuple[float, list[float], float]:
    """Seconds, per-request latencies, CPU seconds of client and server together."""
    context = fresh_context(root, writer)
    token = ApiKeys(context.session_factory).create(
        role="writer", org="bench", name="sdk", actors=[ACTOR]
    )[1]
    port = _free_port()
    env = {**os.environ, "LEDGER_STATE_DIR": str(context.config.state_dir)}
    log = (context.config.state_dir / "api.log").open("wb")
    command = [sys.executable, "-m", "ledger_service.cli", "api", "serve", "--port", str(port),
               "--db", context.config.db_url]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        timing = _Timing()
        with Client(
            base_url=url, api_key=token, transport=timing, retries=RetryPolicy(attempts=1)
        ) as client:
            client.whoami()  # connection and key check out of the timed part
            timing.latencies.clear()
            cpu = time.process_time() + _process_cpu(proc.pid)
            started = time.perf_counter()
            results = client.append(records, chunk_size=chunk)
            total = time.perf_counter() - started
            cpu = time.process_time() + _process_cpu(proc.pid) - cpu
        assert len(results) == len(records)
        assert {r.status for r in results} == {"created"}
        return total, timing.latencies, cpu
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        context.close()


def breakdown(root: Path, writer: Writer, records: list[Record], chunk: int) -> dict[str, float]:
    """Milliseconds per chunk of each part of the work (best of 3)."""
    part = records[:chunk]
    encoded = wire.encode_records(part)
    body = wire.append_call(encoded, range(len(part))).content or b""
    data = json.loads(body)["records"]
    parsed = [parse_record(d) for d in data]
    key = VerifyKey(writer.public_key)

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) * 1000

    def verify_all() -> None:
        import base64

        for r in parsed:
            assert r.signature is not None
            key.verify(r.signing_bytes(), base64.b64decode(r.signature))

    def append_fresh() -> None:
        context = fresh_context(root, writer)
        context.intake.append(parsed)
        context.close()

    return {
        "SDK: encode records to JSON": best(lambda: wire.encode_records(part)),
        "server: JSON parse of the body": best(lambda: json.loads(body)),
        "server: record validation (parse_record)": best(lambda: [parse_record(d) for d in data]),
        "server: signature checks (canonical form + Ed25519)": best(verify_all),
        "server: LedgerService.append (checks, signatures, canonical form, database)": best(
            append_fresh
        ),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    writer = Writer(ACTOR, os.urandom(32))
    records = make_records(writer, args.records)
    runs: dict[str, list[float]] = {"in-process": [], "HTTP + SDK": []}
    latencies: dict[str, list[float]] = {"in-process": [], "HTTP + SDK": []}
    cpu_ms: dict[str, list[float]] = {"in-process": [], "HTTP + SDK": []}  # per 1,000 records
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
        root = Path(tmp)
        run_in_process(root, writer, records[: args.chunk], args.chunk)  # warm-up, untimed
        for round_ in range(args.rounds):
            order = (
                ("in-process", "HTTP + SDK") if round_ % 2 == 0 else ("HTTP + SDK", "in-process")
            )
            for name in order:
                fn = run_in_process if name == "in-process" else run_http
                total, lat, cpu = fn(root, writer, records, args.chunk)
                runs[name].append(len(records) / total)
                latencies[name].extend(lat)
                cpu_ms[name].append(cpu * 1e6 / len(records))
                print(
                    f"round {round_ + 1} {name}: {len(records) / total:,.0f} records/s", flush=True
                )
        parts = breakdown(root, writer, records, args.chunk)

    rows = []
    for name in runs:
        rates, lat = runs[name], latencies[name]
        rows.append(
            f"| {name} | {statistics.median(rates):,.0f} | {min(rates):,.0f}–{max(rates):,.0f} "
            f"| {pct(lat, 0.5) * 1000:,.0f} | {pct(lat, 0.99) * 1000:,.0f} "
            f"| {statistics.median(cpu_ms[name]):,.0f} |"
        )
    ratio = statistics.median(runs["HTTP + SDK"]) / statistics.median(runs["in-process"])
    cpu_ratio = statistics.median(cpu_ms["in-process"]) / statistics.median(cpu_ms["HTTP + SDK"])
    command = "uv run python scripts/bench_sdk.py " + shlex.join(sys.argv[1:])
    section = "\n".join(
        [
            "",
            f"## SDK bulk append over HTTP vs in-process ({dt.date.today().isoformat()})",
            "",
            f"Machine: {machine()}. Command: `{command.strip()}` (not under `nice`; the machine "
            "was shared with other work). "
            f"{len(records):,} signed records (2/3 data updates, 1/3 score changes with two "
            f"parents), chunks of {args.chunk:,}, a fresh SQLite index per run, {args.rounds} "
            "rounds alternating which goes first. HTTP = `ledgerctl api serve` (uvicorn, own "
            "process, loopback) and `credit_ledger_client.Client.append`; an acknowledgement "
            "is a committed index transaction (durable) in both.",
            "",
            "| path | records/s (median) | range | p50 per request, ms | p99 per request, ms "
            "| CPU ms per 1,000 records (client + server) |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"HTTP ÷ in-process (medians): **{ratio:.0%}** (goal ≥ 70 %); in CPU per record, "
            f"in-process ÷ HTTP: {cpu_ratio:.0%} (the same figure without the other work on "
            "the machine's cores: what the path costs, not what it waited for).",
            "",
            f"Where one chunk of {args.chunk:,} records' time goes (ms, best of 3, measured "
            "apart; the server's parts overlap: `append` includes the canonical form and "
            "the signature checks):",
            "",
            "| part | ms per chunk |",
            "|---|---:|",
            *(f"| {name} | {ms:,.1f} |" for name, ms in parts.items()),
            "",
        ]
    )
    print(section)
    if not args.no_append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as doc:
            doc.write(section)


if __name__ == "__main__":
    main()
