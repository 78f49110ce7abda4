"""Record intake throughput: ``LedgerService.append`` on SQLite and PostgreSQL, step by step.

Each *variant* switches the intake optimisations on one at a time (cumulatively), so the
before/after figure of every change comes from the same run, on the same records:

``baseline``      the intake as it was: the pure-Python ``rfc8785`` canonicaliser, each record
                  canonicalised twice (signing form, committed form), Core ``insert()``
                  executemany of dicts;
``+fast-jcs``     the C-encoder RFC 8785 fast path (still two canonicalisations);
``+one-jcs``      one canonicalisation per record, the signature spliced into the committed form;
``+driver-bulk``  bulk inserts through the driver (SQLite ``executemany`` of tuples,
                  PostgreSQL ``COPY``): the current code, as configured by default;
``+2-verify-threads``  the current code with ``verify_threads=2``: signatures verified on two
                  threads (libsodium releases the GIL), i.e. using the second core.

Every variant gets a fresh, migrated database (a new SQLite file; a new database on a
throw-away PostgreSQL server started with ``scripts/pg.sh``), one untimed warm-up request,
then ``--calls`` timed requests of ``--records`` signed sample records each
(``samples.data.stories``). Variants run round-robin ``--rounds`` times; the best round of
each is reported (the machine is shared: the best round is the least disturbed one).
Figures: records/s by wall clock, and the service process's CPU time per record (for
PostgreSQL the server's CPU is not included). Then micro-benchmarks (canonicalisation, Ed25519
verification with pynacl vs ``cryptography``) and a cProfile summary of one request of the
current code per backend. Appends the result to docs/benchmarks.md.

    uv run python scripts/bench_intake.py                 # SQLite and PostgreSQL
    uv run python scripts/bench_intake.py --no-postgres --rounds 1 --calls 2 --no-append
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import gc
import io
import os
import platform
import pstats
import secrets
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import add_ids_option, cpu_model, record_ids  # scripts/ is on sys.path when run
from credit_ledger_verify import canonical
from credit_ledger_verify.records import Record
from credit_ledger_verify.records import envelope as envelope_module
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger_service.index import make_engine, make_session_factory, sqlite_url, upgrade
from ledger_service.index.bulk import RowWriter
from ledger_service.intake import LedgerService
from ledger_service.samples.data import SampleWriter, stories

ROOT = Path(__file__).resolve().parents[1]
PG_SCRIPT = ROOT / "scripts" / "pg.sh"

VARIANTS = ("baseline", "+fast-jcs", "+one-jcs", "+driver-bulk", "+2-verify-threads")


# ---------------------------------------------------------------------------- variants


def _two_canonicalisations(self: Record) -> tuple[bytes, bytes]:
    # The intake before: signing_bytes() and canonical_bytes() separately, the signing form
    # through model_dump(exclude={"signature"}).
    canonicalize = vars(envelope_module)["canonicalize"]  # as patched by the variant
    signing = canonicalize(self.to_json_dict(include_signature=False))
    return signing, canonicalize(self.to_json_dict())


def _core_writer(connection: Any) -> RowWriter:
    return RowWriter(connection, "core")


@contextmanager
def variant(name: str) -> Iterator[None]:
    """Patch the current code back to the state before the optimisations ``name`` lacks."""
    level = VARIANTS.index(name)
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, attribute: str, value: Any) -> None:
        saved.append((owner, attribute, owner.__dict__[attribute]))
        setattr(owner, attribute, value)

    if level < 1:
        patch(envelope_module, "canonicalize", canonical.canonicalize_reference)
    if level < 2:
        patch(Record, "signing_and_canonical_bytes", _two_canonicalisations)
    if level < 3:
        patch(RowWriter, "for_connection", staticmethod(_core_writer))
    try:
        yield
    finally:
        for owner, attribute, value in reversed(saved):
            setattr(owner, attribute, value)


# ---------------------------------------------------------------------------- databases


class Postgres:
    """A throw-away server (scripts/pg.sh) and one fresh database per variant run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = _run(["bash", str(PG_SCRIPT), "start", str(directory)]).strip()
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            self.version = str(connection.execute(text("SHOW server_version")).scalar())

    def fresh_url(self) -> str:
        name = f"bench_{secrets.token_hex(5)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))

    def stop(self) -> None:
        self._admin.dispose()
        _run(["bash", str(PG_SCRIPT), "stop", str(self.directory)])


def _run(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{completed.stderr}")
    return completed.stdout


def verify_threads(name: str) -> int:
    return 2 if VARIANTS.index(name) >= 4 else 1


@contextmanager
def fresh_service(
    backend: str, postgres: Postgres | None, workdir: Path, threads: int = 1
) -> Iterator[Any]:
    if backend == "sqlite":
        url = sqlite_url(workdir / f"sqlite-{secrets.token_hex(4)}")
    else:
        assert postgres is not None
        url = postgres.fresh_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield LedgerService(session_factory=make_session_factory(engine), verify_threads=threads)
    finally:
        engine.dispose()
        if postgres is not None and backend == "postgresql":
            postgres.drop(url)


# ---------------------------------------------------------------------------- measuring


@dataclass
class Run:
    backend: str
    variant: str
    records: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    per_call_rps: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.records / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.records * 1e6 if self.records else 0.0


def run_variant(
    backend: str,
    name: str,
    writer: SampleWriter,
    warmup: list[Record],
    batches: list[list[Record]],
    postgres: Postgres | None,
    workdir: Path,
) -> Run:
    run = Run(backend, name)
    threads = verify_threads(name)
    with variant(name), fresh_service(backend, postgres, workdir, threads) as service:
        service.register_writer(writer.actor, writer.public_key)
        service.append(warmup)
        for batch in batches:
            cpu = time.process_time()
            wall = time.perf_counter()
            results = service.append(batch)
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            if len(results) != len(batch) or results[-1].status != "created":
                raise SystemExit(f"{backend} {name}: unexpected append results")
            run.records += len(batch)
            run.wall_s += wall
            run.cpu_s += cpu
            run.per_call_rps.append(len(batch) / wall)
    return run


# Where the time of a profiled request goes, by the module a function lives in.
CATEGORIES = (
    ("Ed25519 verify (libsodium)", ("nacl", "_sodium")),
    (
        "canonicalisation (JSON)",
        ("credit_ledger_verify/canonical.py", "rfc8785", "/json/", "_json"),
    ),
    ("pydantic model_dump", ("pydantic", "records/types.py", "records/envelope.py")),
    ("DB driver (sqlite3 / psycopg + server wait)", ("sqlite3", "psycopg", "_psycopg")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("hashing / salts", ("hashlib", "_hashlib", "secrets", "commitments.py")),
    ("intake logic (intake/, index/bulk.py)", ("ledger_service/intake/", "index/bulk.py")),
)


def _category(filename: str, function: str) -> str:
    where = f"{filename} {function}"
    for label, needles in CATEGORIES:
        if any(needle in where for needle in needles):
            return label
    return "other"


def profile_request(
    backend: str,
    writer: SampleWriter,
    warmup: list[Record],
    batch: list[Record],
    postgres: Postgres | None,
    workdir: Path,
    top: int,
) -> str:
    profiler = cProfile.Profile()
    with fresh_service(backend, postgres, workdir) as service:
        service.register_writer(writer.actor, writer.public_key)
        service.append(warmup)
        profiler.enable()
        service.append(batch)
        profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    by_category: dict[str, float] = {}
    for (filename, _line, function), entry in raw.items():
        label = _category(filename, function)
        by_category[label] = by_category.get(label, 0.0) + entry[2]
    lines = [f"cProfile of one {len(batch)}-record request, {backend} (own time by module):", ""]
    lines.append("| where | share of profiled time |")
    lines.append("|---|---:|")
    for label, seconds in sorted(by_category.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {label} | {seconds / total:.0%} |")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    body = out.getvalue()
    start = body.find("   ncalls")
    lines += ["", "```", body[start:].rstrip() if start >= 0 else body.rstrip(), "```"]
    return "\n".join(lines)


def _best_cpu_us(function: Callable[[], object], count: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def micro_benchmarks(batch: list[Record], public_key: bytes) -> list[tuple[str, float]]:
    """CPU µs per record (best of 5) of the steps the variants change, and of verification."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    sample = batch[:2000]
    n = len(sample)
    dicts = [record.to_json_dict() for record in sample]
    figures = [
        ("model_dump(mode='json') of a record", _best_cpu_us(lambda: [r.to_json_dict() for r in sample], n)),
        ("canonicalise, rfc8785 (reference)", _best_cpu_us(lambda: [canonical.canonicalize_reference(d) for d in dicts], n)),
        ("canonicalise, fast path", _best_cpu_us(lambda: [canonical.canonicalize(d) for d in dicts], n)),
        ("signing + committed bytes, before (2 dumps, 2 × rfc8785)", _best_cpu_us(lambda: [_reference_pair(r) for r in sample], n)),
        ("signing + committed bytes, now (signing_and_canonical_bytes)", _best_cpu_us(lambda: [r.signing_and_canonical_bytes() for r in sample], n)),
    ]  # fmt: skip

    nacl_key = VerifyKey(public_key)
    openssl_key = Ed25519PublicKey.from_public_bytes(public_key)
    pairs = [(r.signing_bytes(), base64.b64decode(r.signature or "")) for r in sample]

    def nacl_all() -> None:
        for message, signature in pairs:
            nacl_key.verify(message, signature)

    def openssl_all() -> None:
        for message, signature in pairs:
            openssl_key.verify(signature, message)

    # Same verdicts on a tampered message before comparing speed.
    message, signature = pairs[0]
    for verify, error in (
        (lambda m, s: nacl_key.verify(m, s), BadSignatureError),
        (lambda m, s: openssl_key.verify(s, m), InvalidSignature),
    ):
        verify(message, signature)
        try:
            verify(message + b" ", signature)
        except error:
            pass
        else:
            raise SystemExit("a tampered message verified")
    figures.append(("Ed25519 verify, pynacl (libsodium) — used", _best_cpu_us(nacl_all, n)))
    figures.append(("Ed25519 verify, cryptography (OpenSSL)", _best_cpu_us(openssl_all, n)))
    return figures


def _reference_pair(record: Record) -> tuple[bytes, bytes]:
    return (
        canonical.canonicalize_reference(record.to_json_dict(include_signature=False)),
        canonical.canonicalize_reference(record.to_json_dict()),
    )


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    model = cpu_model()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def results_table(
    runs: dict[tuple[str, str], Run], backends: list[str], variants: list[str]
) -> list[str]:
    lines = [
        "| backend | variant | records/s (wall) | service CPU µs/record | "
        "records/s per timed call | vs baseline (wall) |",
        "|---|---|---:|---:|---|---:|",
    ]
    for backend in backends:
        base = runs[(backend, "baseline")].rps
        for name in variants:
            run = runs[(backend, name)]
            calls = ", ".join(f"{x:,.0f}" for x in run.per_call_rps)
            lines.append(
                f"| {backend} | {name} | {run.rps:,.0f} | {run.cpu_us:.1f} | {calls} | "
                f"{run.rps / base:.2f}× |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="records per request")
    parser.add_argument("--calls", type=int, default=3, help="timed requests per variant run")
    parser.add_argument("--rounds", type=int, default=2, help="round-robin rounds of variants")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    parser.add_argument("--profile-top", type=int, default=15, help="rows of the cProfile table")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    add_ids_option(parser)
    args = parser.parse_args()
    chosen = [v for v in args.variants.split(",") if v]
    unknown = set(chosen) - set(VARIANTS)
    if unknown or "baseline" not in chosen:
        raise SystemExit(f"--variants: choose from {', '.join(VARIANTS)} (baseline included)")
    variants = [v for v in VARIANTS if v in chosen]
    backends = ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]

    started = dt.datetime.now(dt.UTC)
    load_before = load_average()
    writer = SampleWriter()
    print(f"signing {args.calls} × {args.records} sample records ...", flush=True)
    warmup = list(stories(writer, 90, prefix="warm", record_ids=record_ids(args.ids, "warm")))
    batches = [
        list(
            stories(
                writer,
                args.records,
                prefix=f"b{i}",
                start=i * args.records,
                record_ids=record_ids(args.ids, f"b{i}"),
            )
        )
        for i in range(args.calls)
    ]

    # The pre-signed records are the benchmark's, not the service's: keep the cyclic GC from
    # walking them again and again during the timed requests.
    gc.collect()
    gc.freeze()

    runs: dict[tuple[str, str], Run] = {}
    profiles: list[str] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-intake-")))
        postgres: Postgres | None = None
        if "postgresql" in backends:
            pg_dir = Path(tempfile.mkdtemp(prefix="bench-intake-pg-", dir="/tmp"))
            stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)  # after the stop below
            postgres = Postgres(pg_dir)
            stack.callback(postgres.stop)
        for round_number in range(1, args.rounds + 1):
            for backend in backends:
                for name in variants:
                    run = run_variant(backend, name, writer, warmup, batches, postgres, workdir)
                    best = runs.get((backend, name))
                    if best is None or run.rps > best.rps:
                        runs[(backend, name)] = run
                    print(
                        f"round {round_number} {backend:10s} {name:13s} {run.rps:9,.0f} rec/s "
                        f"(wall)  {run.cpu_us:6.1f} µs CPU/record  load {load_average()}",
                        flush=True,
                    )
        for backend in backends:
            profiles.append(
                profile_request(
                    backend, writer, warmup, batches[0], postgres, workdir, args.profile_top
                )
            )
        pg_version = postgres.version if postgres is not None else ""
    micro = micro_benchmarks(batches[0], writer.public_key)
    load_after = load_average()

    info = machine()
    command = "uv run python scripts/bench_intake.py" + (
        " " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
    )
    report = [
        f"## Record intake (`LedgerService.append`) — {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {info['nproc']} cores (nproc), {info['cpu']}, {info['kernel']}; "
        f"Python {info['python']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {pg_version} (same machine, fsync on)" if pg_version else ""),
        f"- load average (1/5/15 min) before: {load_before}, after: {load_after} "
        "(the machine is shared; wall-clock figures move with it, CPU µs/record much less)",
        f"- workload: `samples.data.stories` (9-record enterprise stories, parents first), "
        f"{args.records:,} records per `append`, {args.calls} timed calls per fresh database "
        f"after one warm-up request, best of {args.rounds} round-robin rounds",
        f"- command: `{command}`",
        "",
        *results_table(runs, backends, variants),
        "",
        "Variants are cumulative: `baseline` = the intake before this work (rfc8785, two "
        "canonicalisations per record, Core `insert()` of dicts); `+fast-jcs` = C-encoder "
        "RFC 8785 fast path; `+one-jcs` = one canonicalisation per record (signature spliced "
        "in); `+driver-bulk` = driver bulk inserts (SQLite executemany of tuples, PostgreSQL "
        "COPY) = the current code with its defaults; `+2-verify-threads` = the same with "
        "`LedgerService(verify_threads=2)` (signatures verified on two threads: the second "
        "core; the CPU column is then the sum over threads). PostgreSQL CPU is the service "
        "process only.",
        "",
        "Micro-benchmarks (service CPU µs per record, best of 5, 2,000 records):",
        "",
        "| step | µs/record |",
        "|---|---:|",
        *(f"| {label} | {value:.1f} |" for label, value in micro),
        "",
        *("\n\n".join(profiles).splitlines()),
        "",
    ]
    text_report = "\n".join(report)
    print()
    print(text_report)
    if not args.no_append:
        target = ROOT / "docs" / "benchmarks.md"
        with target.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text_report)
        print(f"appended to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
