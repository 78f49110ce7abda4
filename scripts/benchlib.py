"""What every benchmark script records about the machine it ran on (docs/benchmarks.md)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


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
