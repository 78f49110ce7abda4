"""What every benchmark script records about the machine it ran on (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable
from pathlib import Path

from ledger_service.samples.data import ordered_record_ids

#: `--ids`: which record ids the sample records get. "ordered": in creation order, like a
#: platform's sequence/ULID ids (and like the ids of every run before 2026-11-30); "keyed":
#: the demo's random-looking keyed hashes — the worst case for the index's B-trees.
ID_SCHEMES = ("ordered", "keyed")


def add_ids_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ids",
        choices=ID_SCHEMES,
        default="ordered",
        help="record ids: in creation order (default) or random-looking keyed hashes",
    )


def record_ids(scheme: str, prefix: str) -> Callable[[int, str], str] | None:
    """The id function for `stories(record_ids=...)` (None: the writer's keyed hashes)."""
    return ordered_record_ids(prefix) if scheme == "ordered" else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine() -> str:
    """One line: cores, CPU model, memory, kernel, Python."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores (nproc), {cpu_model()}, {mem:.0f} GiB, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )
