"""Where the Fabric binaries and their sample configuration live, and how to run the CLIs."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ledger_service.errors import LedgerError
from ledger_service.ops.topology import REPO_ROOT

TOOLS = ("peer", "orderer", "configtxgen", "configtxlator", "cryptogen", "osnadmin")


class FabricToolError(LedgerError, RuntimeError):
    """A Fabric command-line tool failed; carries the command and its output."""

    code: ClassVar[str] = "fabric_tool_failed"

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"`{' '.join(self.argv[:4])} ...` exited {returncode}:\n{tail}")


@dataclass(frozen=True)
class FabricInstall:
    bin_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.bin_dir.parent / "config"

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def version(self) -> str:
        m = re.search(r"fabric-(\d+\.\d+\.\d+)", str(self.bin_dir))
        return m.group(1) if m else "unknown"

    def run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        argv = [self.tool(tool), *args]
        full_env = {**os.environ, "FABRIC_CFG_PATH": str(self.config_dir), **(env or {})}
        proc = subprocess.run(
            argv,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise FabricToolError(argv, proc.returncode, proc.stdout + proc.stderr)
        return proc


def find_fabric() -> FabricInstall:
    """Locate the pinned Fabric build (scripts/install-fabric.sh puts it in the cache)."""
    if explicit := os.environ.get("LEDGER_FABRIC_BIN"):
        candidates = [Path(explicit)]
    else:
        cache = Path(os.environ.get("LEDGER_CACHE", Path.home() / ".cache" / "credit-ledger"))
        # Prefer the design's pin (3.1.5) when it was built; else the newest one present.
        candidates = sorted(cache.glob("fabric-*/bin"), reverse=True)
    for c in candidates:
        if all((c / t).is_file() for t in TOOLS) and (c.parent / "config" / "core.yaml").is_file():
            return FabricInstall(c)
    raise FileNotFoundError(
        "Fabric binaries not found (looked in "
        + (", ".join(map(str, candidates)) or "the cache")
        + f"); install them with `bash {REPO_ROOT / 'scripts' / 'install-fabric.sh'}` "
        "(or `make fabric`)"
    )
