"""The runnable examples of gateway/README.md (gateway/examples/) work against the real network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fabric_gateway import connect

from ledger_service.ops.topology import Topology
from tests.integration.test_gateway import credentials, grpc_channel, wait_until_endorsable

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module", autouse=True)
def endorsable(fabric_network: Topology) -> None:
    channel = grpc_channel(fabric_network, "PlatformMSP")
    creds = credentials(fabric_network, "PlatformMSP")
    try:
        gateway = connect(identity=creds.identity, signer=creds.signer, channel=channel)
        wait_until_endorsable(gateway, fabric_network)
    finally:
        channel.close()


EXAMPLES = Path(__file__).resolve().parents[2] / "gateway" / "examples"


def _common(topo: Topology) -> list[str]:
    peer = topo.peer_of("PlatformMSP")
    org = topo.org("PlatformMSP")
    return [
        f"--peer={peer.address}",
        f"--tls-ca={org.tls_ca_cert}",
        f"--target={peer.name}",
        f"--msp-dir={org.user_msp}",
        f"--msp-id={org.msp_id}",
        f"--channel={topo.channel}",
        f"--chaincode={topo.chaincode}",
    ]


def _run(script: str, args: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_quickstart_example(fabric_network: Topology) -> None:
    out = _run(
        "quickstart.py",
        [*_common(fabric_network), "--evaluate", "Ping", "--submit", "Touch", "ex-key"],
    )
    assert "evaluate Ping: b'pong'" in out
    assert "committed: VALID" in out
    assert "offline-signed" in out
    assert ": VALID" in out.split("offline-signed", 1)[1]
    assert "creator PlatformMSP" in out


def test_async_example(fabric_network: Topology) -> None:
    out = _run("async_submit.py", [*_common(fabric_network), "--count", "10"])
    assert "10 transactions committed" in out
