"""Before/after of ``scripts/bench_sdk.py`` in one run: the benchmark of a base commit and of
this checkout, alternating, each in its own processes (client, server and in-process path all
from that tree), so both see the same machine load.

The base commit's tree is exported with ``git archive`` into a temporary directory and run
with its packages first on ``PYTHONPATH`` (same virtual environment: the comparison is of
this repository's code, not of its dependencies).

    uv run python scripts/bench_sdk_ab.py --base ed06068            # 3 alternations
    uv run python scripts/bench_sdk_ab.py --base main --pairs 1 --records 2000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("src", "gateway/src", "verify/src", "sdk/src")
ROUND = re.compile(r"^round \d+ (?P<path>in-process|HTTP \+ SDK): (?P<rate>[\d,]+) records/s$")


def export(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, records: int) -> dict[str, list[float]]:
    """One ``bench_sdk.py --rounds 2`` (both orders) of ``tree``: records/s per path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / d) for d in PACKAGE_DIRS)}
    command = [sys.executable, str(tree / "scripts" / "bench_sdk.py"), "--rounds", "2"]
    command += ["--records", str(records), "--no-append"]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    rates: dict[str, list[float]] = {"in-process": [], "HTTP + SDK": []}
    for line in out.splitlines():
        match = ROUND.match(line.strip())
        if match:
            rates[match["path"]].append(float(match["rate"].replace(",", "")))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--pairs", type=int, default=3, help="alternations (base, this)")
    parser.add_argument("--records", type=int, default=6000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        trees = {"before": export(args.base, Path(tmp)), "after": ROOT}
        results: dict[str, dict[str, list[float]]] = {
            name: {"in-process": [], "HTTP + SDK": []} for name in trees
        }
        for pair in range(args.pairs):
            order = ("before", "after") if pair % 2 == 0 else ("after", "before")
            for name in order:
                rates = run(trees[name], args.records)
                for path, values in rates.items():
                    results[name][path].extend(values)
                ratio = statistics.median(rates["HTTP + SDK"]) / statistics.median(
                    rates["in-process"]
                )
                print(f"pair {pair + 1} {name}: {rates} HTTP/in-process {ratio:.0%}", flush=True)
    print("\n| tree | in-process, records/s | HTTP + SDK, records/s | HTTP ÷ in-process |")
    print("|---|---:|---:|---:|")
    for name, paths in results.items():
        cells = []
        for path in ("in-process", "HTTP + SDK"):
            values = paths[path]
            cells.append(
                f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"
            )
        ratio = statistics.median(paths["HTTP + SDK"]) / statistics.median(paths["in-process"])
        label = f"before ({args.base})" if name == "before" else "after (this checkout)"
        print(f"| {label} | {cells[0]} | {cells[1]} | {ratio:.0%} |")


if __name__ == "__main__":
    main()
