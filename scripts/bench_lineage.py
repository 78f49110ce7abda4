"""Lineage query latency on a loaded ledger (issue 9, Benchmarks), on SQLite and PostgreSQL.

Load the ledger first with scripts/gen_ledger.py (it writes a --report JSON); then, for each
--db (with its --load-report, in the same order):

    uv run --frozen python scripts/bench_lineage.py --samples 1000 \
        --db sqlite:////work/scale-data/sqlite-1m/index.db \
        --load-report /work/scale-data/sqlite-1m/load.json \
        --db postgresql+psycopg://...:55444/ledger_1m --load-report /work/scale-data/pg-1m.json

Measures, with the library functions of ledger_service.queries.lineage and one session per
query (as a service request would), over random samples drawn through the index:

* upstream lineage of random decided loans, depth 6, as of the decision and now
  (``loan_lineage``);
* downstream impact of random data updates, depth 4 (``downstream``);
* timelines of random enterprises (``timeline``);

p50 / p99 / max milliseconds and nodes returned (median / max), plus the load time from the
loader's report and the size on disk (SQLite: the file and, where SQLite has ``dbstat``,
each table and index; PostgreSQL: ``pg_total_relation_size`` per table, ``pg_relation_size``
per index). ``--breakdown`` also times the phases of a loan lineage (loan look-up, recursive
walk, node fetch, edge fetch). Appends a section to docs/benchmarks.md unless --no-append.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import make_engine, make_session_factory
from ledger_service.queries.lineage import downstream, loan_lineage, timeline
from ledger_service.queries.lineage import loans as loans_module
from ledger_service.queries.lineage import walk as walk_module
from ledger_service.samples.data import enterprise_code

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine

REPO = Path(__file__).resolve().parents[1]
QUERIES = ("loan lineage, as of decision", "loan lineage, now", "downstream impact", "timeline")


def _enterprises(session: Session) -> int:
    """How many enterprises the generated ledger has (codes are numbered: see generator)."""
    top = session.execute(text("SELECT max(subject) FROM records")).scalar_one()
    return int(top[10:17]) + 1


def draw_samples(session: Session, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Random decided loans, data updates and subjects, found through the index."""
    enterprises = _enterprises(session)
    loans: list[str] = []
    updates: list[str] = []
    subjects: list[str] = []
    next_loan = text("SELECT loan_id FROM records WHERE loan_id >= :start ORDER BY loan_id LIMIT 1")
    decided = text(
        "SELECT 1 FROM records WHERE loan_id = :loan AND loan_event IN ('approval', 'rejection')"
    )
    updates_of = text(
        "SELECT record_id FROM records WHERE subject = :subject AND kind = 'data_update'"
    )
    while len(loans) < count:
        loan = session.execute(
            next_loan, {"start": f"loan-{rng.randrange(enterprises):07d}"}
        ).scalar()
        if loan is not None and session.execute(decided, {"loan": loan}).first() is not None:
            loans.append(loan)
    while len(updates) < count:
        subject = enterprise_code(rng.randrange(enterprises))
        ids = list(session.execute(updates_of, {"subject": subject}).scalars())
        if ids:
            updates.append(rng.choice(ids))
    for _ in range(count):
        subjects.append(enterprise_code(rng.randrange(enterprises)))
    return {"loans": loans, "updates": updates, "subjects": subjects}


class CpuClock:
    """CPU seconds spent on a query: this process's, plus (PostgreSQL, same machine) those of
    the server backend serving the pool's one connection. Wall time minus CPU time is time
    spent waiting — for the disk, or for a core on this shared 2-core machine."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.backend_stat: Path | None = None
        with factory() as session:
            if session.get_bind().dialect.name == "postgresql":
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                # nanoseconds on a CPU (the scheduler's count; /proc/PID/stat has 10 ms ticks)
                self.backend_stat = Path(f"/proc/{pid}/schedstat")

    def __call__(self) -> float:
        seconds = time.process_time()
        if self.backend_stat is not None:
            seconds += int(self.backend_stat.read_text().split()[0]) / 1e9
        return seconds


def run_queries(
    factory: sessionmaker[Session], samples: dict[str, list[str]], warmup: int
) -> dict[str, list[tuple[float, int, float]]]:
    """(wall ms, nodes, CPU ms) per query kind, interleaved sample by sample."""
    calls: dict[str, Callable[[Session, int], int]] = {
        QUERIES[0]: lambda s, i: len(
            loan_lineage(s, samples["loans"][i], depth=6, as_of="decision").nodes
        ),
        QUERIES[1]: lambda s, i: len(loan_lineage(s, samples["loans"][i], depth=6).nodes),
        QUERIES[2]: lambda s, i: len(downstream(s, [samples["updates"][i]], depth=4).nodes),
        QUERIES[3]: lambda s, i: len(timeline(s, samples["subjects"][i])),
    }
    results: dict[str, list[tuple[float, int, float]]] = {name: [] for name in calls}
    cpu = CpuClock(factory)
    total = len(samples["loans"])
    for i in range(total):
        for name, call in calls.items():
            cpu_started = cpu()
            started = time.perf_counter()
            with factory() as session:
                nodes = call(session, i)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (cpu() - cpu_started) * 1000
            if i >= warmup:
                results[name].append((elapsed, nodes, cpu_ms))
    return results


@contextmanager
def _phase_timers(totals: dict[str, float]) -> Any:
    """Time the walk's phases by wrapping its module functions (restored afterwards)."""
    targets = [
        (loans_module, "find_loan", "loan look-up (find_loan)"),
        (walk_module, "_recorded", "start records check"),
        (walk_module, "_reachable", "recursive walk"),
        (walk_module, "_nodes", "node fetch (columns, status, anchors)"),
        (walk_module, "_edges_between", "edge fetch"),
    ]
    saved = []
    for module, name, label in targets:
        original = getattr(module, name)
        saved.append((module, name, original))

        def timed(*args: Any, _f: Any = original, _label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_label] = totals.get(_label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def breakdown(factory: sessionmaker[Session], loans: list[str]) -> dict[str, float]:
    """Mean ms per loan lineage (as of decision) spent in each phase."""
    totals: dict[str, float] = {}
    started = time.perf_counter()
    with _phase_timers(totals):
        for loan in loans:
            with factory() as session:
                loan_lineage(session, loan, depth=6, as_of="decision")
    totals["whole call"] = time.perf_counter() - started
    return {label: seconds * 1000 / len(loans) for label, seconds in totals.items()}


def sizes(engine: Engine) -> list[tuple[str, int]]:
    """(object, bytes) — the database total first."""
    url = make_url(engine.url)
    if engine.dialect.name == "sqlite":
        path = Path(str(url.database))
        total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        out = [("database file (+ WAL)", total)]
        with sqlite3.connect(path) as connection:
            try:
                rows = connection.execute(
                    "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                ).fetchall()
            except sqlite3.Error:
                rows = []  # this SQLite has no dbstat: the file size only
        return out + [(name, int(size)) for name, size in rows]
    with engine.connect() as connection:
        total = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
        tables = connection.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC"
            )
        ).all()
        indexes = connection.execute(
            text(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relkind = 'i' "
                "AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC"
            )
        ).all()
    return (
        [("database (pg_database_size)", int(total or 0))]
        + [(f"table {name} (total, with indexes)", int(size)) for name, size in tables]
        + [(f"index {name}", int(size)) for name, size in indexes]
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summarise(results: dict[str, list[tuple[float, int, float]]]) -> dict[str, dict[str, float]]:
    out = {}
    for name, rows in results.items():
        ms = [r[0] for r in rows]
        nodes = [r[1] for r in rows]
        cpu = [r[2] for r in rows]
        out[name] = {
            "cpu_p50": _pct(cpu, 0.50),
            "cpu_p99": _pct(cpu, 0.99),
            "n": len(rows),
            "p50": _pct(ms, 0.50),
            "p99": _pct(ms, 0.99),
            "max": max(ms),
            "nodes_median": statistics.median(nodes),
            "nodes_max": max(nodes),
        }
    return out


def disk_line(path: str) -> str:
    usage = shutil.disk_usage(path)
    device = (
        subprocess.run(
            ["df", "--output=source,fstype", path], capture_output=True, text=True, check=False
        )
        .stdout.split("\n")[1]
        .split()
    )
    name = Path(device[0]).name if device else "?"
    rotational = Path(f"/sys/block/{name}/queue/rotational")
    kind = "rotational" if rotational.exists() and rotational.read_text().strip() == "1" else "SSD"
    return f"{device[0]} ({device[1]}, {kind}), {usage.total / 2**30:.0f} GiB, {usage.free / 2**30:.0f} GiB free"


def bench_one(url: str, report_path: str | None, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    load = json.loads(Path(report_path).read_text()) if report_path else None
    rng = random.Random(args.seed)
    count = text("SELECT count(*) FROM records")
    with factory() as session:
        started = time.perf_counter()
        samples = draw_samples(session, args.samples + args.warmup, rng)
        sample_seconds = time.perf_counter() - started
        # the loader's count when there is one (a PostgreSQL count(*) reads the whole table)
        records = load["records"] if load else session.execute(count).scalar_one()
    print(f"{engine.dialect.name}: {records:,} records; samples drawn in {sample_seconds:.1f} s")
    results = run_queries(factory, samples, args.warmup)
    summary = summarise(results)
    for name, row in summary.items():
        print(
            f"  {name:32} p50 {row['p50']:7.2f} ms  p99 {row['p99']:7.2f} ms  max "
            f"{row['max']:7.2f} ms  nodes median {row['nodes_median']:.0f} max {row['nodes_max']}"
            f"  CPU p50 {row['cpu_p50']:.2f} p99 {row['cpu_p99']:.2f} ms"
        )
    phases = breakdown(factory, samples["loans"][: args.breakdown]) if args.breakdown else {}
    for label, ms in phases.items():
        print(f"  phase {label:40} {ms:7.2f} ms per loan")
    size_rows = sizes(engine)
    version = ""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            version = "PostgreSQL " + str(connection.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return {
        "backend": engine.dialect.name,
        "version": version,
        "records": records,
        "summary": summary,
        "phases": phases,
        "sizes": size_rows,
        "load": load,
    }


def section(runs: list[dict[str, Any]], args: argparse.Namespace, load_before: Any) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    records = max(run["records"] for run in runs)
    lines = [
        f"\n## Lineage queries at {records:,} records — {now}\n",
        f"- machine: {machine()}; disk: {disk_line(args.data_dir)}",
        "- command: `uv run --frozen python scripts/bench_lineage.py "
        + " ".join(re.sub(r"//[^/@]*@", "//…@", a) for a in sys.argv[1:])
        + "` (PostgreSQL credentials elided)",
        f"- load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}"
        " (2 cores shared with other engineers' work)",
        f"- {args.samples} random samples per query (after {args.warmup} warm-up rounds), one "
        "session per query, OS page cache warm from the load; ms are wall-clock, CPU ms are "
        "the benchmark process's CPU time plus (PostgreSQL) its server backend's, so wall minus "
        "CPU is time spent waiting for the disk or for a core; the ledger is generated "
        "(`scripts/gen_ledger.py`, `ledger_service.samples.generator`); its anchoring facts are "
        "committed batches in the index, not on a chain",
        "",
    ]
    for run in runs:
        load = run["load"]
        lines.append(f"### {run['version']}, {run['records']:,} records\n")
        if load:
            lines.append(
                f"Load: `{load['command']}` — **{load['total_seconds']:.0f} s** "
                f"({load['records'] / load['total_seconds']:,.0f} records/s end to end: "
                f"insert {load['insert_seconds']:.0f} s, indexes and constraints "
                f"{load['index_seconds']:.0f} s, ANALYZE {load['analyze_seconds']:.0f} s); "
                f"{load['edges']:,} lineage edges, {load['batches']:,} batches "
                f"({load['anchored']:,} records anchored).\n"
            )
        lines.append(
            "| query | p50 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms | nodes median "
            "| nodes max |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, row in run["summary"].items():
            lines.append(
                f"| {name} | {row['p50']:.2f} | **{row['p99']:.2f}** | {row['max']:.2f} | "
                f"{row['cpu_p50']:.2f} | {row['cpu_p99']:.2f} | {row['nodes_median']:.0f} | "
                f"{row['nodes_max']} |"
            )
        if run["phases"]:
            phases = ", ".join(f"{k} {v:.2f}" for k, v in run["phases"].items())
            lines.append(
                f"\nWhere a loan lineage (as of decision) spends its time, mean ms: {phases}."
            )
        lines.append("\nSize on disk: " + "; ".join(
            f"{name} {size / 2**20:,.0f} MiB" for name, size in run["sizes"] if size >= 2**20
        ) + ".\n")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, help="index URL (repeatable)")
    parser.add_argument(
        "--load-report", action="append", default=[], help="gen_ledger.py --report, per --db"
    )
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--breakdown", type=int, default=200, help="loans for the phase timing")
    parser.add_argument("--data-dir", default="/work/scale-data", help="where the data lives")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()
    reports = args.load_report + [None] * (len(args.db) - len(args.load_report))
    runs = [bench_one(url, report, args) for url, report in zip(args.db, reports, strict=True)]
    text_ = section(runs, args, load_before)
    print(text_)
    if not args.no_append:
        with (REPO / "docs" / "benchmarks.md").open("a") as f:
            f.write(text_)
        print("appended to docs/benchmarks.md")


if __name__ == "__main__":
    main()
