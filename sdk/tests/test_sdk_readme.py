"""sdk/README.md's python examples run, in order, against the service's app served by uvicorn
on a loopback port inside this process (the README's code is unchanged: real HTTP, no
injected transport)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sdk_testutil import SEED, InProcessLedger, in_process_ledger

README = Path(__file__).parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[InProcessLedger, str]]:
    with in_process_ledger(tmp_path) as ledger, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(ledger.app, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield ledger, url
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def test_the_readme_has_examples_for_each_part() -> None:
    text = "\n".join(_blocks())
    for call in ("append(", "IdempotencyConflict", "Forbidden", ".lineage(", ".evidence(",
                 "verify_evidence(", "AsyncClient("):  # fmt: skip
        assert call in text, call


def test_the_readme_examples_run(
    served: tuple[InProcessLedger, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger, url = served
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {
        "LEDGER_URL": url,
        "WRITER_TOKEN": ledger.tokens["writer"],
        "BANK_TOKEN": ledger.tokens["verifier"],
        "AUDITOR_TOKEN": ledger.tokens["auditor"],
        "WRITER_SEED": SEED,
    }
    for number, block in enumerate(_blocks(), 1):
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "250/250 acknowledged" in out
    assert "409 readme-tax-7 0" in out
    assert "403 forbidden" in out
    assert "not anchored yet" in out
    assert ledger.stored_count() == 250
    assert httpx.get(f"{url}/healthz").status_code == 200
