"""Chaincode lifecycle for chaincode-as-a-service: build, package, install, approve, commit, serve.

Each org runs its own chaincode server (its own process, port and TLS identity); the peer
reaches it over mutual TLS, using the address and certificates in the package's
connection.json. Because that address differs per org, so do the packages and their ids;
the chaincode *definition* (name, version, sequence, policy) is the same for all.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import ipaddress
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ledger_service.ops.fabric import FabricInstall, FabricToolError
from ledger_service.ops.network import NetworkError, admin_env, orderer_cli_args, process_for
from ledger_service.ops.processes import port_in_use, wait_for_port
from ledger_service.ops.topology import REPO_ROOT, Org, Peer, Topology

CHAINCODE_SRC = REPO_ROOT / "chaincode"
WRITER_MSPS = "PlatformMSP"


def server_name(p: Peer) -> str:
    return f"ccaas.{p.org}"


def _cc_dir(topo: Topology) -> Path:
    return topo.root / "chaincode"


# -- build --------------------------------------------------------------------------------------


def build_binary(topo: Topology) -> Path:
    """Compile the Go chaincode server (cached by Go's build cache, so rebuilds are cheap)."""
    out = _cc_dir(topo) / "bin" / "ledgercc"
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["go", "build", "-o", str(out), "."],
        cwd=CHAINCODE_SRC,
        env={**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise NetworkError(f"building the chaincode failed:\n{proc.stderr.strip()}")
    return out


# -- TLS material for peer <-> chaincode server ---------------------------------------------------


def _issue_server_cert(org: Org, out_dir: Path) -> None:
    """A TLS server certificate for the org's chaincode server, issued by the org's TLS CA."""
    if (out_dir / "server.crt").exists():
        return
    tlsca_dir = Path(org.crypto_dir) / "tlsca"
    ca_key = serialization.load_pem_private_key((tlsca_dir / "priv_sk").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(Path(org.tls_ca_cert).read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ccaas.{org.domain}")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    key_path = out_dir / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    (out_dir / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _tls_dir(topo: Topology, p: Peer) -> Path:
    return _cc_dir(topo) / "tls" / p.org


# -- packaging ----------------------------------------------------------------------------------


def _tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzipped tar with fixed mtimes everywhere (tar entries AND the gzip header), so the
    same inputs always give the same bytes and hence the same package id. A package id that
    changes on every deploy would make the peer launch a chaincode id no server answers to.
    """
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(tar.getvalue())
    return out.getvalue()


def make_package(topo: Topology, p: Peer, label: str) -> tuple[Path, str]:
    """The CCaaS package for one org; returns its path and package id (label:sha256)."""
    org = topo.org(p.msp_id)
    tls = _tls_dir(topo, p)
    _issue_server_cert(org, tls)
    peer_tls = Path(p.tls_dir)
    connection = {
        "address": f"{p.host}:{p.ccaas_port}",
        "dial_timeout": "10s",
        "tls_required": True,
        "client_auth_required": True,
        "client_key": (peer_tls / "server.key").read_text(),
        "client_cert": (peer_tls / "server.crt").read_text(),
        "root_cert": Path(org.tls_ca_cert).read_text(),
    }
    code = _tar_gz({"connection.json": json.dumps(connection, indent=1).encode()})
    metadata = json.dumps({"type": "ccaas", "label": label}).encode()
    pkg = _tar_gz({"metadata.json": metadata, "code.tar.gz": code})
    path = _cc_dir(topo) / "packages" / f"{label}-{p.org}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pkg)
    path.chmod(0o600)  # holds the peer's TLS client key
    return path, f"{label}:{hashlib.sha256(pkg).hexdigest()}"


# -- lifecycle steps ----------------------------------------------------------------------------


def install(topo: Topology, fabric: FabricInstall, p: Peer, package: Path, package_id: str) -> None:
    env = admin_env(topo, p.msp_id)
    out = fabric.run(
        "peer", ["lifecycle", "chaincode", "queryinstalled", "-O", "json"], env=env
    ).stdout
    installed = json.loads(out or "{}").get("installed_chaincodes") or []
    if any(c["package_id"] == package_id for c in installed):
        return
    fabric.run("peer", ["lifecycle", "chaincode", "install", str(package)], env=env, timeout=300)


def committed_definition(topo: Topology, fabric: FabricInstall) -> dict[str, Any] | None:
    env = admin_env(topo, topo.peers[0].msp_id)
    proc = fabric.run(
        "peer",
        [
            "lifecycle",
            "chaincode",
            "querycommitted",
            "-C",
            topo.channel,
            "-n",
            topo.chaincode,
            "-O",
            "json",
        ],
        env=env,
        check=False,
        timeout=30,
    )
    if proc.returncode != 0:
        return None
    body = json.loads(proc.stdout)
    return {
        "version": body.get("version"),
        "sequence": int(body.get("sequence", 0)),
        "approvals": body.get("approvals", {}),
    }


def approved_package_id(
    topo: Topology, fabric: FabricInstall, p: Peer, *, sequence: int
) -> str | None:
    """The package id `p`'s org approved for `sequence`, if it approved one."""
    q = fabric.run(
        "peer",
        [
            "lifecycle",
            "chaincode",
            "queryapproved",
            "-C",
            topo.channel,
            "-n",
            topo.chaincode,
            "--sequence",
            str(sequence),
            "-O",
            "json",
        ],
        env=admin_env(topo, p.msp_id),
        check=False,
    )
    if q.returncode != 0:
        return None
    source = json.loads(q.stdout).get("source") or {}
    package_id = source.get("Type", {}).get("LocalPackage", {}).get("package_id")
    return str(package_id) if package_id else None


def approve(
    topo: Topology, fabric: FabricInstall, p: Peer, *, version: str, sequence: int, package_id: str
) -> None:
    env = admin_env(topo, p.msp_id)
    if approved_package_id(topo, fabric, p, sequence=sequence) == package_id:
        return
    fabric.run(
        "peer",
        [
            "lifecycle",
            "chaincode",
            "approveformyorg",
            *orderer_cli_args(topo),
            "--channelID",
            topo.channel,
            "--name",
            topo.chaincode,
            "--version",
            version,
            "--package-id",
            package_id,
            "--sequence",
            str(sequence),
            "--waitForEvent",
        ],
        env=env,
        timeout=120,
    )


def commit(topo: Topology, fabric: FabricInstall, *, version: str, sequence: int) -> None:
    peer_args: list[str] = []
    for p in topo.peers:
        peer_args += ["--peerAddresses", p.address, "--tlsRootCertFiles", p.tls_ca_cert]
    fabric.run(
        "peer",
        [
            "lifecycle",
            "chaincode",
            "commit",
            *orderer_cli_args(topo),
            "--channelID",
            topo.channel,
            "--name",
            topo.chaincode,
            "--version",
            version,
            "--sequence",
            str(sequence),
            *peer_args,
            "--waitForEvent",
        ],
        env=admin_env(topo, topo.peers[0].msp_id),
        timeout=120,
    )


# -- chaincode servers --------------------------------------------------------------------------


def _server_state_file(topo: Topology) -> Path:
    return _cc_dir(topo) / "servers.json"


def start_server(topo: Topology, p: Peer, binary: Path, package_id: str) -> None:
    proc = process_for(topo, server_name(p))
    state = _load_servers(topo)
    if proc.pid() is not None and state.get(p.org) == package_id:
        return
    proc.stop()
    if port_in_use(p.ccaas_port):
        raise NetworkError(
            f"port {p.ccaas_port} (chaincode server of {p.msp_id}) is already in use by "
            "another process"
        )
    tls = _tls_dir(topo, p)
    env = {
        "PATH": "/usr/bin:/bin",
        "CHAINCODE_ID": package_id,
        "CHAINCODE_SERVER_ADDRESS": f"{p.host}:{p.ccaas_port}",
        "CHAINCODE_TLS_KEY_FILE": str(tls / "server.key"),
        "CHAINCODE_TLS_CERT_FILE": str(tls / "server.crt"),
        "CHAINCODE_TLS_CLIENT_CACERT_FILE": topo.org(p.msp_id).tls_ca_cert,
        "LEDGER_WRITER_MSPS": WRITER_MSPS,
    }
    proc.start([str(binary)], env=env)
    if not wait_for_port(p.ccaas_port, timeout=20):
        raise NetworkError(
            f"chaincode server of {p.msp_id} did not listen on {p.ccaas_port}; "
            f"log:\n{proc.log_tail(15)}"
        )
    state[p.org] = package_id
    _save_servers(topo, state)


def _load_servers(topo: Topology) -> dict[str, str]:
    try:
        data: dict[str, str] = json.loads(_server_state_file(topo).read_text())
        return data
    except (OSError, ValueError):
        return {}


def _save_servers(topo: Topology, state: dict[str, str]) -> None:
    path = _server_state_file(topo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1))


def server_states(topo: Topology) -> dict[str, bool]:
    return {p.msp_id: process_for(topo, server_name(p)).pid() is not None for p in topo.peers}


def query_cli(
    topo: Topology, fabric: FabricInstall, msp_id: str, fn: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """Evaluate a chaincode function on `msp_id`'s peer through the `peer` CLI (not checked)."""
    return fabric.run(
        "peer",
        [
            "chaincode",
            "query",
            "-C",
            topo.channel,
            "-n",
            topo.chaincode,
            "-c",
            json.dumps({"Args": [fn, *args]}),
        ],
        env=admin_env(topo, msp_id),
        check=False,
        timeout=30,
    )


def invoke_cli(
    topo: Topology,
    fabric: FabricInstall,
    msp_id: str,
    fn: str,
    *args: str,
    endorsers: list[Peer] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Submit a transaction through the `peer` CLI as `msp_id`'s admin and wait for commit.

    `endorsers` defaults to the first two peers: a majority, as the policy needs.
    """
    peer_args: list[str] = []
    for p in endorsers or topo.peers[:2]:
        peer_args += ["--peerAddresses", p.address, "--tlsRootCertFiles", p.tls_ca_cert]
    orderer = next(
        (o for o in topo.orderers if process_for(topo, o.name).pid() is not None),
        topo.orderers[0],
    )
    return fabric.run(
        "peer",
        [
            "chaincode",
            "invoke",
            *orderer_cli_args(topo, orderer),
            "-C",
            topo.channel,
            "-n",
            topo.chaincode,
            *peer_args,
            "--waitForEvent",
            "--waitForEventTimeout",
            "60s",
            "-c",
            json.dumps({"Args": [fn, *args]}),
        ],
        env=admin_env(topo, msp_id),
        check=False,
        timeout=90,
    )


def wait_answering(topo: Topology, fabric: FabricInstall, timeout: float = 60) -> None:
    """Until every org's peer gets an answer from its chaincode server."""
    for p in topo.peers:
        deadline = time.monotonic() + timeout
        while True:
            proc = query_cli(topo, fabric, p.msp_id, "Ping")
            if proc.returncode == 0 and "pong" in proc.stdout:
                break
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"chaincode does not answer on {p.name}: {(proc.stdout + proc.stderr).strip()}"
                )
            time.sleep(0.5)


def restart_servers(topo: Topology) -> None:
    """Start any org's chaincode server that is down (e.g. after a crash or reboot)."""
    binary = _cc_dir(topo) / "bin" / "ledgercc"
    for org, package_id in _load_servers(topo).items():
        p = next(x for x in topo.peers if x.org == org)
        if process_for(topo, server_name(p)).pid() is None:
            start_server(topo, p, binary, package_id)


def deploy(
    topo: Topology,
    fabric: FabricInstall,
    *,
    version: str | None = None,
    upgrade: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Deploy (sequence 1) or upgrade (sequence + 1) the chaincode. Idempotent for deploy."""
    say = progress or (lambda _m: None)
    current = committed_definition(topo, fabric)
    if current is None:
        sequence = 1
    elif upgrade:
        sequence = current["sequence"] + 1
    else:
        sequence = current["sequence"]
    version = version or (current["version"] if current and not upgrade else f"{sequence}.0")
    label = f"{topo.chaincode}_{version}"
    say("building chaincode")
    binary = build_binary(topo)
    for p in topo.peers:
        package, package_id = make_package(topo, p, label)
        if current is not None and not upgrade:
            # Already deployed: keep serving exactly what this org approved (its package may
            # have been built from other TLS material, e.g. before a certificate renewal).
            package_id = approved_package_id(topo, fabric, p, sequence=sequence) or package_id
        say(f"installing on {p.name}")
        install(topo, fabric, p, package, package_id)
        say(f"starting chaincode server for {p.msp_id}")
        start_server(topo, p, binary, package_id)
        say(f"approving for {p.msp_id}")
        try:
            approve(topo, fabric, p, version=version, sequence=sequence, package_id=package_id)
        except FabricToolError as exc:
            if current is not None and not upgrade and "attempted to redefine" in exc.output:
                continue  # already approved under this sequence
            raise
    if current is None or current["sequence"] != sequence:
        say(f"committing {topo.chaincode} version {version} sequence {sequence}")
        commit(topo, fabric, version=version, sequence=sequence)
    say("waiting for the chaincode to answer on every peer")
    wait_answering(topo, fabric)
    result = committed_definition(topo, fabric)
    assert result is not None
    return result
