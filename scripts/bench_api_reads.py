"""Latency of the API's reads over HTTP on the real network: an evidence bundle for one record
and for 100 records (a bank), a loan's lineage as of its decision, depth 6 (a regulator).

Anchors sample enterprise stories on the running network (a fresh SQLite index), starts
``ledgerctl api serve`` (uvicorn, its own process, loopback) on it and sends the requests
one after the other from one ``httpx.Client`` (a kept-alive connection): p50 / p99 per
request. Then, in this process on the same index and network, where one request's time goes:
the access-log entry (a committed transaction, written before any answer), opening the
gateway connection, fetching the blocks from the peer, building the bundle from fetched
blocks, and encoding the answer the way the route does (``jsonable_encoder`` + JSON).

    uv run python scripts/bench_api_reads.py --state-dir /tmp/perf-state
    uv run python scripts/bench_api_reads.py --state-dir … --requests 100 --no-append
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from bench_sdk import _free_port  # scripts/ is on sys.path when run
from benchlib import machine
from fastapi.encoders import jsonable_encoder

from ledger_service.api import ApiKeys
from ledger_service.api.params import parse_as_of
from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import CachingBlockReader, GatewayBlockReader
from ledger_service.ops.topology import Topology
from ledger_service.queries.lineage import graph_to_json, lineage_of
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger

ROOT = Path(__file__).resolve().parents[1]
BANK = {"purpose": "loan_review"}
REGULATOR = {"purpose": "supervision", "purpose_detail": "latency benchmark"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(send: Callable[[int], httpx.Response], count: int) -> list[float]:
    send(0)  # connection, first-use caches: out of the figures
    latencies = []
    for i in range(count):
        t0 = time.perf_counter()
        response = send(i)
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text[:300]
    return latencies


def start_server(context: LedgerContext, state: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "LEDGER_STATE_DIR": str(context.config.state_dir),
        "LEDGER_DB_URL": context.config.db_url,
    }
    log = (state / "api.log").open("wb")
    command = [sys.executable, "-m", "ledger_service.cli", "api", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise
            time.sleep(0.2)


def over_http(ledger: AnchoredLedger, state: Path, requests: int) -> dict[str, list[float]]:
    context = ledger.context
    keys = ApiKeys(context.session_factory)
    # one key per figure: a few hundred requests stay within a key's burst allowance
    bank_one, bank_many, regulator = (
        keys.create(role=role, org="bench", name=name)[1]
        for role, name in (("verifier", "one"), ("verifier", "many"), ("auditor", "lineage"))
    )
    ids = [r.record_id for r in ledger.records]
    loans = sorted({r.payload.loan_id for r in ledger.records if hasattr(r.payload, "loan_id")})
    proc, url = start_server(context, state)
    try:
        with (
            httpx.Client(base_url=url, timeout=60, headers=_auth(bank_one)) as one,
            httpx.Client(base_url=url, timeout=60, headers=_auth(bank_many)) as many,
            httpx.Client(base_url=url, timeout=60, headers=_auth(regulator)) as auditor,
        ):
            figures = {
                "evidence, 1 record": timed(
                    lambda i: one.post(
                        "/v1/evidence", params=BANK, json={"record_ids": [ids[i % len(ids)]]}
                    ),
                    requests,
                ),
                "evidence, 100 records": timed(
                    lambda i: many.post(
                        "/v1/evidence",
                        params=BANK,
                        json={"record_ids": [ids[(i + k) % len(ids)] for k in range(100)]},
                    ),
                    max(20, requests // 5),
                ),
                "lineage of a loan, depth 6, as of decision": timed(
                    lambda i: auditor.get(
                        f"/v1/lineage/{loans[i % len(loans)]}",
                        params={**REGULATOR, "depth": 6, "as_of": "decision"},
                    ),
                    requests,
                ),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return figures


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def best_ms(fn: Callable[[], object], times: int = 5) -> float:
    runs = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return min(runs) * 1000


def breakdown(ledger: AnchoredLedger) -> dict[str, float]:
    """Milliseconds (best of 5) of each part of one request, in this process; block fetches on
    an open connection unless said otherwise."""
    context = ledger.context
    target = context.fabric_target
    ids = [r.record_id for r in ledger.records]
    loan = next(r.payload.loan_id for r in ledger.records if hasattr(r.payload, "loan_id"))
    parts: dict[str, float] = {}
    parts["access-log entry (one committed transaction)"] = best_ms(
        lambda: context.access_log.log_answer(
            accessor="bench", query="evidence", purpose="loan_review", read=[(None, ids[0])]
        )
    )

    with target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, target.channel)
        first_block = context.records.get_records(ids[:1])[ids[0]].anchor
        assert first_block is not None
        assert first_block.block_number is not None
        number = first_block.block_number

        def connect_and_fetch() -> None:
            # what every evidence request does: a new gateway (gRPC + TLS to the peer)
            with target.gateway() as fresh:
                GatewayBlockReader(fresh, target.channel).get_block(number)

        parts["a new gateway connection and its first block (the route opens one per request)"] = (
            best_ms(connect_and_fetch)
        )
        for label, chosen in (("1 record", ids[:1]), ("100 records", ids[:100])):
            cached = CachingBlockReader(reader)
            bundle = context.build_bundle(chosen, block_reader=cached)
            blocks = sorted(cached._blocks)
            parts[f"{label}: fetch its {len(blocks)} block(s) from the peer"] = best_ms(
                lambda blocks=blocks: [reader.get_block(n) for n in blocks]
            )
            parts[f"{label}: build the bundle from fetched blocks"] = best_ms(
                lambda chosen=chosen, cached=cached: context.build_bundle(
                    chosen, block_reader=cached
                )
            )
            parts[f"{label}: encode the answer (jsonable_encoder + JSON)"] = best_ms(
                lambda bundle=bundle: json.dumps(jsonable_encoder(bundle)).encode()
            )
            parts[f"{label}: bundle size, KB"] = len(json.dumps(bundle)) / 1024
    decision = parse_as_of("decision")
    with context.session_factory() as session:
        graph = lineage_of(session, [loan], depth=6, as_of=decision)
        parts["lineage: the index query (lineage_of)"] = best_ms(
            lambda: lineage_of(session, [loan], depth=6, as_of=decision)
        )
    parts[f"lineage: encode the answer ({len(graph.nodes)} nodes)"] = best_ms(
        lambda: json.dumps(jsonable_encoder(graph_to_json(graph))).encode()
    )
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="a running network")
    parser.add_argument("--records", type=int, default=900, help="sample records to anchor")
    parser.add_argument("--requests", type=int, default=300, help="per figure (100 records: ÷5)")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    topology = Topology.load(args.state_dir)
    with tempfile.TemporaryDirectory(prefix="bench-api-reads-") as tmp:
        state = Path(tmp)
        t0 = time.perf_counter()
        ledger = make_anchored_ledger(
            topology, state, count=args.records, prefix=f"ar{os.getpid()}", batch_size=256
        )
        print(f"anchored {len(ledger.records)} records in {time.perf_counter() - t0:.1f}s")
        figures = over_http(ledger, state, args.requests)
        parts = breakdown(ledger)
        ledger.context.close()

    rows = [
        f"| {name} | {len(lat)} | {pct(lat, 0.5) * 1000:,.1f} | {pct(lat, 0.99) * 1000:,.1f} "
        f"| {statistics.mean(lat) * 1000:,.1f} |"
        for name, lat in figures.items()
    ]
    command = "uv run python scripts/bench_api_reads.py " + shlex.join(sys.argv[1:])
    section = "\n".join(
        [
            "",
            "## API read latency over HTTP: evidence and lineage",
            "",
            f"Machine: {machine()}. Command: `{command.strip()}` (not under `nice`; the machine "
            f"was shared with other work). {len(ledger.records):,} sample records (whole "
            "enterprise stories) anchored in batches of 256 on the real network (3 orderers, "
            "3 peers), a fresh SQLite index; `ledgerctl api serve` (uvicorn, own process, "
            "loopback); requests one after the other on one kept-alive connection, the first "
            "of each kind untimed.",
            "",
            "| request | requests | p50, ms | p99, ms | mean, ms |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            "Where one request's time goes (ms, best of 5, measured apart in the benchmark's "
            "process on the same index and network):",
            "",
            "| part | ms |",
            "|---|---:|",
            *(f"| {name} | {value:,.1f} |" for name, value in parts.items()),
            "",
        ]
    )
    print(section)
    if not args.no_append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as doc:
            doc.write(section)


if __name__ == "__main__":
    main()
