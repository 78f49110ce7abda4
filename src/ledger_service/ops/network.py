"""Bring the Fabric network up and down as native processes, and report its state.

`up` is idempotent: crypto material and the genesis block are made once; nodes already
running are left alone; dead nodes are restarted from their existing ledgers; channel joins
happen only where missing. Every Fabric link uses TLS (client, cluster, admin, operations).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import ssl
import string
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from ledger_service.errors import LedgerError
from ledger_service.ops.fabric import FabricInstall, FabricToolError
from ledger_service.ops.processes import ManagedProcess, ProcessError, port_in_use
from ledger_service.ops.topology import (
    REPO_ROOT,
    Orderer,
    Peer,
    Topology,
    build_topology,
)

NETWORK_DIR = REPO_ROOT / "network"
Progress = Callable[[str], None]


class NetworkError(LedgerError, RuntimeError):
    """The network could not be brought to the asked state; the message says what to do."""

    code: ClassVar[str] = "network_operation_failed"


def _quiet(_: str) -> None:
    pass


# -- generation ---------------------------------------------------------------------------------


def load_or_create_topology(state_dir: Path, base_port: int | None) -> Topology:
    """Reuse the state directory's topology (its ports are baked into the genesis block)."""
    if (state_dir / "network.json").exists():
        topo = Topology.load(state_dir)
        if base_port is not None and base_port != topo.base_port:
            raise NetworkError(
                f"the network in {state_dir} was created on base port {topo.base_port}, not "
                f"{base_port}; use `ledgerctl network down --purge` first to start afresh"
            )
        return topo
    return build_topology(state_dir, base_port if base_port is not None else 27000)


def generate(topo: Topology, fabric: FabricInstall, progress: Progress = _quiet) -> None:
    """Crypto material, channel genesis block and node configuration, each made once."""
    topo.fabric_version = fabric.version
    if not (topo.crypto / "peerOrganizations").exists():
        progress("generating crypto material (cryptogen)")
        tmp = topo.root / "crypto.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        fabric.run(
            "cryptogen",
            ["generate", "--config", str(NETWORK_DIR / "crypto-config.yaml"), "--output", str(tmp)],
        )
        tmp.rename(topo.crypto)
    if not topo.genesis_block.exists():
        progress("generating the channel genesis block (configtxgen)")
        chan_dir = topo.genesis_block.parent
        chan_dir.mkdir(parents=True, exist_ok=True)
        values = {"CRYPTO": str(topo.crypto)}
        for i, o in enumerate(topo.orderers):
            values[f"ORDERER{i + 1}_PORT"] = str(o.port)
        for p in topo.peers:
            values[f"PEER_{p.org.upper()}_PORT"] = str(p.port)
        template = string.Template((NETWORK_DIR / "configtx.yaml").read_text())
        (chan_dir / "configtx.yaml").write_text(template.substitute(values))
        fabric.run(
            "configtxgen",
            [
                "-profile",
                "LedgerChannel",
                "-channelID",
                topo.channel,
                "-outputBlock",
                str(topo.genesis_block),
                "-configPath",
                str(chan_dir),
            ],
            env={"FABRIC_CFG_PATH": str(chan_dir)},
        )
    write_peer_config(topo, fabric)
    topo.save()


def peer_config_dir(topo: Topology) -> Path:
    return topo.root / "config" / "peer"


def write_peer_config(topo: Topology, fabric: FabricInstall) -> None:
    """Fabric's sample core.yaml, with our external builder; the rest comes from env vars.

    The builder list cannot be given through an environment variable, hence the file.
    """
    core = yaml.safe_load((fabric.config_dir / "core.yaml").read_text())
    core["chaincode"]["externalBuilders"] = [
        {"name": "ccaas", "path": str(NETWORK_DIR / "builders" / "ccaas")}
    ]
    out = peer_config_dir(topo)
    out.mkdir(parents=True, exist_ok=True)
    (out / "core.yaml").write_text(yaml.safe_dump(core, sort_keys=False))


# -- node environments --------------------------------------------------------------------------


def orderer_env(topo: Topology, o: Orderer, fabric: FabricInstall) -> dict[str, str]:
    tls = Path(o.tls_dir)
    return {
        "PATH": "/usr/bin:/bin",
        "FABRIC_CFG_PATH": str(fabric.config_dir),
        "FABRIC_LOGGING_SPEC": "info",
        "ORDERER_GENERAL_LISTENADDRESS": o.host,
        "ORDERER_GENERAL_LISTENPORT": str(o.port),
        "ORDERER_GENERAL_LOCALMSPID": "OrdererMSP",
        "ORDERER_GENERAL_LOCALMSPDIR": o.msp_dir,
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_CLUSTER_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
        "ORDERER_FILELEDGER_LOCATION": str(Path(o.data_dir) / "ledger"),
        "ORDERER_CONSENSUS_WALDIR": str(Path(o.data_dir) / "etcdraft" / "wal"),
        "ORDERER_CONSENSUS_SNAPDIR": str(Path(o.data_dir) / "etcdraft" / "snapshot"),
        "ORDERER_ADMIN_LISTENADDRESS": f"{o.host}:{o.admin_port}",
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_ADMIN_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_ADMIN_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_OPERATIONS_LISTENADDRESS": f"{o.host}:{o.operations_port}",
        "ORDERER_OPERATIONS_TLS_ENABLED": "true",
        "ORDERER_OPERATIONS_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_OPERATIONS_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_OPERATIONS_TLS_CLIENTAUTHREQUIRED": "false",
        "ORDERER_METRICS_PROVIDER": "disabled",
    }


def peer_env(topo: Topology, p: Peer) -> dict[str, str]:
    tls = Path(p.tls_dir)
    return {
        "PATH": "/usr/bin:/bin",
        "FABRIC_CFG_PATH": str(peer_config_dir(topo)),
        "FABRIC_LOGGING_SPEC": "info:gossip,msp=warning",
        "CORE_VM_ENDPOINT": "",  # no Docker: chaincode runs as a service (external builder)
        "CORE_PEER_ID": p.name,
        "CORE_PEER_ADDRESS": p.address,
        "CORE_PEER_LISTENADDRESS": p.address,
        "CORE_PEER_CHAINCODEADDRESS": f"{p.host}:{p.chaincode_port}",
        "CORE_PEER_CHAINCODELISTENADDRESS": f"{p.host}:{p.chaincode_port}",
        "CORE_PEER_GOSSIP_BOOTSTRAP": p.address,
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": p.address,
        "CORE_PEER_LOCALMSPID": p.msp_id,
        "CORE_PEER_MSPCONFIGPATH": p.msp_dir,
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": str(tls / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(tls / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(tls / "ca.crt"),
        "CORE_PEER_FILESYSTEMPATH": str(Path(p.data_dir) / "production"),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(Path(p.data_dir) / "snapshots"),
        "CORE_PEER_GATEWAY_ENABLED": "true",
        "CORE_CHAINCODE_EXECUTETIMEOUT": "120s",
        # Ledger keys are written once and never updated, so a key-history index adds work
        # on every commit and answers nothing.
        "CORE_LEDGER_HISTORY_ENABLEHISTORYDATABASE": "false",
        "CORE_OPERATIONS_LISTENADDRESS": f"{p.host}:{p.operations_port}",
        "CORE_OPERATIONS_TLS_ENABLED": "true",
        "CORE_OPERATIONS_TLS_CERT_FILE": str(tls / "server.crt"),
        "CORE_OPERATIONS_TLS_KEY_FILE": str(tls / "server.key"),
        "CORE_OPERATIONS_TLS_CLIENTAUTHREQUIRED": "false",
        "CORE_METRICS_PROVIDER": "disabled",
        **_pprof_env(p),
    }


# Set LEDGER_PEER_PPROF=1 when starting the network to expose Go's pprof on each peer at
# 127.0.0.1:<peer port + 4> (plain HTTP, loopback only) for profiling benchmarks.
PPROF_ENV = "LEDGER_PEER_PPROF"


def pprof_port(p: Peer) -> int:
    return p.port + 4


def _pprof_env(p: Peer) -> dict[str, str]:
    if os.environ.get(PPROF_ENV) != "1":
        return {}
    return {
        "CORE_PEER_PROFILE_ENABLED": "true",
        "CORE_PEER_PROFILE_LISTENADDRESS": f"{p.host}:{pprof_port(p)}",
    }


def admin_env(topo: Topology, msp_id: str) -> dict[str, str]:
    """Environment for the `peer` CLI acting as an org's admin against its own peer."""
    p = topo.peer_of(msp_id)
    return {
        "FABRIC_CFG_PATH": str(peer_config_dir(topo)),
        "FABRIC_LOGGING_SPEC": "warning",
        "CORE_PEER_LOCALMSPID": msp_id,
        "CORE_PEER_MSPCONFIGPATH": topo.org(msp_id).admin_msp,
        "CORE_PEER_ADDRESS": p.address,
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": p.tls_ca_cert,
    }


def orderer_cli_args(topo: Topology, o: Orderer | None = None) -> list[str]:
    """`peer` CLI flags that reach an orderer over TLS."""
    o = o or topo.orderers[0]
    return ["-o", o.address, "--tls", "--cafile", topo.orderer_org_tls_ca]


def process_for(topo: Topology, name: str) -> ManagedProcess:
    return ManagedProcess(name=name, run_dir=topo.run, log_dir=topo.logs)


# -- health -------------------------------------------------------------------------------------


def healthz(port: int, ca_file: str, timeout: float = 2.0) -> tuple[bool, str]:
    """GET /healthz on a node's operations endpoint (TLS, verified against the org's TLS CA)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/healthz", context=ctx, timeout=timeout
        ) as resp:
            body = json.loads(resp.read() or b"{}")
            return resp.status == 200, str(body.get("status", "OK"))
    except Exception as exc:
        reason = getattr(exc, "reason", exc)
        return False, str(reason)[:80]


def wait_healthy(port: int, ca_file: str, proc: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    reason = "no answer"
    while time.monotonic() < deadline:
        ok, reason = healthz(port, ca_file)
        if ok:
            return
        if proc.pid() is None:
            raise NetworkError(
                f"{proc.name} exited during start-up; last log lines ({proc.log_file}):\n"
                + proc.log_tail(15)
            )
        time.sleep(0.2)
    raise NetworkError(
        f"{proc.name} did not become healthy within {timeout:.0f}s ({reason}); see {proc.log_file}"
    )


# -- up / down ----------------------------------------------------------------------------------


def _check_ports(ports: Iterable[tuple[int, str]]) -> None:
    busy = [f"{port} ({what})" for port, what in ports if port_in_use(port)]
    if busy:
        raise NetworkError(
            "port(s) already in use by another process: "
            + ", ".join(busy)
            + "; stop whatever holds them, or choose other ports with `--base-port`"
        )


def start_orderer(topo: Topology, o: Orderer, fabric: FabricInstall) -> None:
    proc = process_for(topo, o.name)
    if proc.pid() is None:
        _check_ports([(o.port, o.name), (o.admin_port, o.name), (o.operations_port, o.name)])
        Path(o.data_dir).mkdir(parents=True, exist_ok=True)
        proc.start([fabric.tool("orderer")], env=orderer_env(topo, o, fabric))
    wait_healthy(o.operations_port, topo.orderer_org_tls_ca, proc, timeout=60)


def start_peer(topo: Topology, p: Peer, fabric: FabricInstall) -> None:
    proc = process_for(topo, p.name)
    if proc.pid() is None:
        _check_ports([(p.port, p.name), (p.chaincode_port, p.name), (p.operations_port, p.name)])
        Path(p.data_dir).mkdir(parents=True, exist_ok=True)
        proc.start([fabric.tool("peer"), "node", "start"], env=peer_env(topo, p))
    wait_healthy(p.operations_port, p.tls_ca_cert, proc, timeout=60)


def osnadmin_args(topo: Topology, o: Orderer) -> list[str]:
    admin_tls = Path(topo.orderer_admin_msp).parent / "tls"
    return [
        "-o",
        f"{o.host}:{o.admin_port}",
        "--ca-file",
        topo.orderer_org_tls_ca,
        "--client-cert",
        str(admin_tls / "client.crt"),
        "--client-key",
        str(admin_tls / "client.key"),
    ]


def _osnadmin_json(out: str) -> dict[str, Any]:
    # osnadmin prints "Status: 200" then a JSON body.
    body: dict[str, Any] = json.loads(out[out.index("{") :]) if "{" in out else {}
    return body


def orderer_channels(topo: Topology, o: Orderer, fabric: FabricInstall) -> list[str]:
    out = fabric.run("osnadmin", ["channel", "list", *osnadmin_args(topo, o)]).stdout
    return [c["name"] for c in _osnadmin_json(out).get("channels") or []]


def orderer_height(topo: Topology, o: Orderer, fabric: FabricInstall) -> int | None:
    proc = fabric.run(
        "osnadmin",
        ["channel", "list", "--channelID", topo.channel, *osnadmin_args(topo, o)],
        check=False,
        timeout=15,
    )
    height = _osnadmin_json(proc.stdout).get("height") if proc.returncode == 0 else None
    return int(height) if height is not None else None


def join_orderer(topo: Topology, o: Orderer, fabric: FabricInstall) -> bool:
    if topo.channel in orderer_channels(topo, o, fabric):
        return False
    fabric.run(
        "osnadmin",
        [
            "channel",
            "join",
            "--channelID",
            topo.channel,
            "--config-block",
            str(topo.genesis_block),
            *osnadmin_args(topo, o),
        ],
    )
    return True


def peer_channels(topo: Topology, p: Peer, fabric: FabricInstall) -> list[str]:
    out = fabric.run("peer", ["channel", "list"], env=admin_env(topo, p.msp_id)).stdout
    # Output: a header line "Channels peers has joined:" then one channel name per line.
    return [ln.strip() for ln in out.splitlines() if ln.strip() and not ln.rstrip().endswith(":")]


def join_peer(topo: Topology, p: Peer, fabric: FabricInstall) -> bool:
    if topo.channel in peer_channels(topo, p, fabric):
        return False
    fabric.run(
        "peer",
        ["channel", "join", "-b", str(topo.genesis_block)],
        env=admin_env(topo, p.msp_id),
    )
    return True


def block_height(topo: Topology, p: Peer, fabric: FabricInstall) -> int | None:
    proc = fabric.run(
        "peer",
        ["channel", "getinfo", "-c", topo.channel],
        env=admin_env(topo, p.msp_id),
        check=False,
        timeout=15,
    )
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or "{" not in text:
        return None
    info = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return int(info["height"])


def up(
    state_dir: Path,
    fabric: FabricInstall,
    *,
    base_port: int | None = None,
    progress: Progress = _quiet,
) -> Topology:
    topo = load_or_create_topology(state_dir, base_port)
    if not (state_dir / "network.json").exists():
        # A fresh network: every port must be free before we generate anything.
        _check_ports(sorted(topo.all_ports().items()))
    generate(topo, fabric, progress)
    for o in topo.orderers:
        progress(f"starting {o.name}")
        start_orderer(topo, o, fabric)
    for o in topo.orderers:
        # The operations endpoint (our health check) can answer before the admin listener
        # is bound, so the first `osnadmin` call may meet a refused connection.
        if _retrying(functools.partial(join_orderer, topo, o, fabric)):
            progress(f"{o.name} joined channel {topo.channel}")
    for p in topo.peers:
        progress(f"starting {p.name}")
        start_peer(topo, p, fabric)
    for p in topo.peers:
        # The orderers may still be electing a Raft leader right after start-up.
        if _retrying(functools.partial(join_peer, topo, p, fabric)):
            progress(f"{p.name} joined channel {topo.channel}")
    return topo


def _retrying(step: Callable[[], bool], attempts: int = 20, delay: float = 0.5) -> bool:
    """Run a Fabric CLI step, retrying while the node it talks to is still starting."""
    for attempt in range(attempts):
        try:
            return step()
        except FabricToolError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def down(state_dir: Path, *, purge: bool = False, progress: Progress = _quiet) -> list[str]:
    """Stop every process this tool started (by pid file); optionally delete all state."""
    stopped: list[str] = []
    run = state_dir / "run"
    if run.exists():
        for pid_file in sorted(run.glob("*.pid")):
            proc = ManagedProcess(name=pid_file.stem, run_dir=run, log_dir=state_dir / "logs")
            if proc.stop():
                stopped.append(proc.name)
                progress(f"stopped {proc.name}")
    if purge and state_dir.exists():
        if not (state_dir / "network.json").exists() and any(state_dir.iterdir()):
            raise ProcessError(
                f"refusing to delete {state_dir}: it does not look like a ledger state directory"
            )
        shutil.rmtree(state_dir)
        progress(f"deleted {state_dir}")
    return stopped


@dataclass(frozen=True, kw_only=True)
class NodeStatus:
    name: str
    role: str
    org: str
    pid: int | None
    ports: str
    healthy: bool
    health: str
    height: int | None


def status(topo: Topology, fabric: FabricInstall) -> list[NodeStatus]:
    rows: list[NodeStatus] = []
    for o in topo.orderers:
        ok, why = healthz(o.operations_port, topo.orderer_org_tls_ca)
        rows.append(
            NodeStatus(
                name=o.name,
                role="orderer",
                org="OrdererMSP",
                pid=process_for(topo, o.name).pid(),
                ports=f"{o.port}/{o.admin_port}/{o.operations_port}",
                healthy=ok,
                health=why,
                height=orderer_height(topo, o, fabric) if ok else None,
            )
        )
    for p in topo.peers:
        ok, why = healthz(p.operations_port, p.tls_ca_cert)
        rows.append(
            NodeStatus(
                name=p.name,
                role="peer",
                org=p.msp_id,
                pid=process_for(topo, p.name).pid(),
                ports=f"{p.port}/{p.operations_port}/{p.ccaas_port}",
                healthy=ok,
                health=why,
                height=block_height(topo, p, fabric) if ok else None,
            )
        )
    return rows
