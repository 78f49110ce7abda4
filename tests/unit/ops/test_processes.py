"""Pid-file tracking of background processes (no network)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from ledger_service.ops.processes import ManagedProcess


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_killed_but_unreaped_process_is_not_running(tmp_path: Path) -> None:
    """A SIGKILLed daemon is a zombie until its parent reaps it; `pid()` must already say it
    is gone, so that `start` in that window starts a new one instead of trusting the pid."""
    proc = ManagedProcess(name="sleeper", run_dir=tmp_path / "run", log_dir=tmp_path / "logs")
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    pid = proc.start(argv, env=dict(os.environ))
    try:
        assert proc.pid() == pid
        os.kill(pid, signal.SIGKILL)
        # we are its parent and do not reap it: it stays a zombie
        deadline = time.monotonic() + 10
        while _state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _state(pid) == "Z"
        assert proc.pid() is None
        restarted = proc.start(argv, env=dict(os.environ))
        assert restarted != pid
        assert proc.pid() == restarted
    finally:
        proc.stop(timeout=5)
        # subprocess may already have reaped it when `start` made the next Popen
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
