"""Background processes that the ops CLI starts and stops, tracked by pid files.

A pid file holds the pid and the process's start time (from /proc), so a later `down` never
signals an unrelated process that happens to reuse the pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ledger_service.errors import LedgerError


class ProcessError(LedgerError, RuntimeError):
    """A node could not be started or stopped; the message says which and why."""

    code: ClassVar[str] = "process_failed"


# /proc states of a process that has ended but is not yet reaped (zombie, dead): a SIGKILLed
# daemon stays a zombie until its parent (often pid 1 in a container) collects it, which can
# take seconds; it must not count as running, or `start` in that window would start nothing.
_ENDED_STATES = frozenset("ZXx")


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, as text), None if it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name (which may hold spaces): state is field 3,
    # starttime field 22.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in _ENDED_STATES:
        return None
    return fields[19]


@dataclass(frozen=True, kw_only=True)
class ManagedProcess:
    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid if the process we started is still alive, else None."""
        try:
            info = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(info["pid"])
        if _start_time(pid) != info.get("start_time"):
            return None
        return pid

    def start(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None) -> int:
        if (pid := self.pid()) is not None:
            return pid
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n==== start {time.strftime('%Y-%m-%dT%H:%M:%S')} ====\n".encode())
            log.flush()
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI; its own process group
            )
        info = {"pid": proc.pid, "start_time": _start_time(proc.pid), "argv": list(argv)}
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, self.pid_file)
        return proc.pid

    def stop(self, *, timeout: float = 10.0, sig: signal.Signals = signal.SIGTERM) -> bool:
        """Stop the process if it is ours and alive; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            _reap(pid)
            time.sleep(0.05)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while self.pid() is not None:
                _reap(pid)
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL, for fault tests: the node gets no chance to shut down cleanly."""
        return self.stop(timeout=5.0, sig=signal.SIGKILL)

    def log_tail(self, lines: int = 20) -> str:
        try:
            data = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(data[-lines:])


def _reap(pid: int) -> None:
    # Only our direct children can be reaped; zombies of others are not ours to collect.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def wait_for_port(port: int, *, timeout: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.1)
    return False
