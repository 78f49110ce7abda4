"""Generate a realistic ledger (ledger_service.samples.generator) and bulk-load it into an
index database (ledger_service.samples.loader): migrated schema, the service's tables and
indexes, committed (not chain-backed) anchoring facts for all but the last month.

    uv run --frozen python scripts/gen_ledger.py --records 100000 \
        --db sqlite:////work/scale-data/sqlite-100k/index.db

Prints progress and the load time. The same --records and --seed give the same ledger.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from ledger_service.samples.generator import LedgerGenerator
from ledger_service.samples.loader import copy_index, load_ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000, help="records to generate")
    parser.add_argument(
        "--seed", type=int, default=1, help="generator seed (same seed, same ledger)"
    )
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a new index database")
    parser.add_argument("--chunk", type=int, default=50_000, help="records per transaction")
    parser.add_argument("--batch-size", type=int, default=4096, help="records per anchoring batch")
    parser.add_argument("--report", help="write the load figures to this JSON file")
    parser.add_argument(
        "--from-index",
        metavar="URL",
        help="instead of generating, copy the ledger an earlier run loaded into this index",
    )
    args = parser.parse_args()
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(line, flush=True)  # a log file sees it as it happens

    if args.from_index:
        report = copy_index(args.from_index, args.db, chunk=args.chunk, progress=progress)
    else:
        generator = LedgerGenerator(args.records, seed=args.seed)
        report = load_ledger(
            args.db,
            generator.records(),
            generator.writers,
            chunk=args.chunk,
            batch_size=args.batch_size,
            progress=progress,
        )
    print(
        f"done: {report.records:,} records in {time.perf_counter() - started:.1f} s "
        f"(end to end; insert {report.insert_seconds:.1f} s, indexes "
        f"{report.index_seconds:.1f} s, ANALYZE {report.analyze_seconds:.1f} s)",
        flush=True,
    )
    if args.report:
        figures = dataclasses.asdict(report) | {"total_seconds": report.total_seconds}
        db = args.db.split("@")[-1]  # no password in the report
        source = (
            f"--from-index {args.from_index}"
            if args.from_index
            else (f"--records {args.records} --seed {args.seed}")
        )
        command = f"scripts/gen_ledger.py {source} --db …{db}"
        figures |= {"command": command, "argv": [a for a in sys.argv if "@" not in a]}
        Path(args.report).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
