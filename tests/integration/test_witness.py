"""Witnesses as processes over the real network and a real API server: records anchored,
the chain mirror replayed, `ledgerctl checkpoint issue`; a bank and a regulator witness
(`ledgerctl witness init`, registered with `witness-keys add`, API keys of the `witness`
role) each run `witness run --once` twice across a growth of the log; the served checkpoint
carries both cosignatures and `credit-ledger-verify` with k=2 accepts it. Then a checkpoint
forked with the real log key is put into the table: the witness alarms (exit 3, both notes
in its ALARM file) and refuses to run again. A continuous witness stops cleanly on SIGTERM."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from credit_ledger_verify.merkle import MerkleTree
from credit_ledger_verify.tlog import Checkpoint, sign_checkpoint
from typer.testing import CliRunner

from ledger_service.api import ApiKeys
from ledger_service.cli import app
from ledger_service.index.log_models import LogCheckpoint
from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import stories
from ledger_service.samples.demo import demo_api_keys
from ledger_service.samples.demo_witnesses import (
    DEMO_WITNESSES,
    issue_demo_checkpoint,
    run_demo_witnesses,
)
from ledger_service.samples.ledger import AnchoredLedger, make_anchored_ledger
from ledger_service.tlog.checkpoints import load_or_create_log_key
from ledger_service.tlog.global_log import tree_at
from tests.integration.api_process import running_api
from tests.integration.test_rebuild import run_replay

pytestmark = pytest.mark.fabric

WITNESSES = ("bank-witness", "regulator-witness")


@dataclass
class Setup:
    ledger: AnchoredLedger
    url: str
    env: dict[str, str]
    dirs: dict[str, Path]
    key_files: dict[str, Path]
    token_files: dict[str, Path]
    tmp: Path

    def ledgerctl(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, (args, result.output)
        return result.output

    def witness(self, name: str, *more: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ledger_service.cli",
            "witness",
            "run",
            "--api",
            self.url,
            "--api-key-file",
            str(self.token_files[name]),
            "--state",
            str(self.dirs[name]),
            *more,
        ]

    def run_once(self, name: str) -> subprocess.CompletedProcess[str]:
        command = self.witness(name, "--once")
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)

    def grow_and_issue(self, stories_count: int) -> str:
        """Append and anchor more records, replay the chain into the mirror, issue."""
        if stories_count:
            tag = f"w{uuid.uuid4().hex[:8]}"
            self.ledger.append(list(stories(self.ledger.writer, stories_count, prefix=tag)))
            self.ledger.anchor(batch_size=16)
        run_replay(self.ledger, self.ledger.session_factory)
        return self.ledgerctl("checkpoint", "issue")


@pytest.fixture(scope="module")
def setup(fabric_network: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("witness")
    ledger = make_anchored_ledger(
        fabric_network, tmp, count=20, prefix=f"w{uuid.uuid4().hex[:8]}", batch_size=16
    )
    env = {
        **os.environ,
        "LEDGER_STATE_DIR": fabric_network.state_dir,
        "LEDGER_DB_URL": ledger.db_url,
    }
    keys = ApiKeys(ledger.session_factory)
    token_files = {}
    for name, org in zip(WITNESSES, ("Example Bank", "Regulator"), strict=True):
        token_files[name] = tmp / f"{name}.token"
        token_files[name].write_text(keys.create(role="witness", org=org, name=name)[1] + "\n")
    with running_api(tmp / "api.log", env=env) as url:
        yield Setup(ledger, url, env, {}, {}, token_files, tmp)


def test_two_witnesses_cosign_across_a_growth_and_k2_accepts(setup: Setup) -> None:
    log_pub = setup.tmp / "log.pub"
    log_pub.write_text(setup.ledgerctl("checkpoint", "log-key"))
    for name in WITNESSES:
        setup.dirs[name] = setup.tmp / "witness" / name
        out = setup.ledgerctl(
            "witness", "init", "--name", name, "--state", str(setup.dirs[name]),
            "--log-key", f"@{log_pub}",
        )  # fmt: skip
        setup.key_files[name] = setup.tmp / f"{name}.pub"
        setup.key_files[name].write_text(out)
        assert "registered" in setup.ledgerctl("witness-keys", "add", out.strip())
        assert oct(setup.dirs[name].joinpath("witness.key").stat().st_mode & 0o777) == "0o600"

    first = setup.grow_and_issue(0)
    for name in WITNESSES:
        done = setup.run_once(name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "accept" in done.stdout
        assert setup.dirs[name].joinpath("checkpoint").read_text() == first
    second = setup.grow_and_issue(3)
    assert second != first
    for name in WITNESSES:
        done = setup.run_once(name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert setup.dirs[name].joinpath("checkpoint").read_text() == second

    token = setup.token_files["bank-witness"].read_text().strip()
    served = httpx.get(
        f"{setup.url}/v1/checkpoints/latest",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert served.status_code == 200, served.text
    assert served.text.startswith(second)  # the log's note, then the cosignature lines
    assert {line.split(" ")[1] for line in served.text.splitlines()[-2:]} == set(WITNESSES)
    note = setup.tmp / "latest.note"
    note.write_bytes(served.content)
    verify = [sys.executable, "-m", "credit_ledger_verify", "--checkpoint", str(note)]
    verify += ["--log-key", str(log_pub), "--min-cosignatures", "2"]
    for name in WITNESSES:
        verify += ["--witness-key", str(setup.key_files[name])]
    checked = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "cosigned by bank-witness, regulator-witness" in checked.stdout


def test_a_continuous_witness_stops_cleanly_on_sigterm(setup: Setup) -> None:
    name = "regulator-witness"
    log = (setup.tmp / "continuous.log").open("w")
    proc = subprocess.Popen(
        setup.witness(name, "--interval", "0.5"), env=setup.env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 90  # the first round: the handlers are installed
        while "cosigned size" not in (setup.tmp / "continuous.log").read_text():
            assert proc.poll() is None, (setup.tmp / "continuous.log").read_text()
            assert time.monotonic() < deadline, "no round within 90 s"
            time.sleep(0.2)
        time.sleep(1)  # more rounds on the unchanged log: each cosigns it again
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (setup.tmp / "continuous.log").read_text()
    assert "cosigned size" in output
    assert "witness stopped" in output


def test_a_forked_checkpoint_signed_with_the_real_key_makes_the_witness_alarm(
    setup: Setup,
) -> None:
    name = "bank-witness"
    witnessed = setup.dirs[name].joinpath("checkpoint").read_bytes()
    topology = setup.ledger.topology
    origin = witnessed.decode().split("\n")[0]
    size = int(witnessed.decode().split("\n")[1])
    log_key = load_or_create_log_key(Path(topology.state_dir), origin)
    sessions = setup.ledger.session_factory
    with sessions() as session:
        leaves = list(tree_at(session, size).leaf_hashes)
    leaves[0] = hashlib.sha256(b"a history rewritten").digest()
    forked = MerkleTree.from_leaf_hashes(leaves)
    fork = sign_checkpoint(Checkpoint(origin, size, forked.root), log_key)
    with write_session(sessions) as session:
        row = session.get(LogCheckpoint, (origin, size))
        assert row is not None
        row.root, row.note = forked.root, fork

    alarmed = setup.run_once(name)
    assert alarmed.returncode == 3, alarmed.stdout + alarmed.stderr
    assert "ALARM split_view" in " ".join((alarmed.stderr + alarmed.stdout).split())
    alarm = json.loads(setup.dirs[name].joinpath("ALARM").read_text())
    assert alarm["witnessed_note"].encode() == witnessed
    assert alarm["conflicting_note"].encode() == fork
    assert setup.dirs[name].joinpath("checkpoint").read_bytes() == witnessed
    again = setup.run_once(name)
    assert again.returncode == 3
    assert "until an operator" in " ".join((again.stderr + again.stdout).split())


def test_the_demo_initialises_registers_and_runs_both_witnesses(
    fabric_network: Topology, tmp_path: Path
) -> None:
    """What `ledgerctl demo` does after anchoring (samples/demo_witnesses.py), over its own
    index; a second run reuses the witnesses' keys and state."""
    ledger = make_anchored_ledger(
        fabric_network, tmp_path, count=5, prefix=f"d{uuid.uuid4().hex[:8]}", batch_size=16
    )
    env = {**os.environ, "LEDGER_STATE_DIR": fabric_network.state_dir}
    env["LEDGER_DB_URL"] = ledger.db_url
    tokens = demo_api_keys(ApiKeys(ledger.session_factory), tmp_path, ledger.writer.actor)
    with running_api(tmp_path / "api.log", env=env) as url:
        issued = issue_demo_checkpoint(ledger.context)
        first = run_demo_witnesses(ledger.context, url, tokens)
        again = run_demo_witnesses(ledger.context, url, tokens)
    for outcome in (*first, *again):
        assert outcome.outcome == f"accept: cosigned size {issued.checkpoint.size}", outcome
    assert {o.directory for o in first} == {
        Path(fabric_network.state_dir) / "witness" / name for name in DEMO_WITNESSES
    }
