"""The network's shape: which nodes exist, their names, ports and files.

One `Topology` is derived from a state directory and a base port; everything else (process
start-up, the chaincode deployment, the service's gateway connection, the tests) reads it from
`network.json` in the state directory, so there is one description of the network.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHANNEL = "ledger"
CHAINCODE = "ledger"
DEFAULT_BASE_PORT = 27000
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, kw_only=True)
class Org:
    name: str  # short name, e.g. "platform"
    msp_id: str
    domain: str
    crypto_dir: str  # peerOrganizations/<domain>
    admin_msp: str
    user_msp: str
    ca_cert: str  # the org's signing CA: endorsement and creator certificates chain to it
    tls_ca_cert: str


@dataclass(frozen=True, kw_only=True)
class Orderer:
    name: str
    host: str
    port: int  # client and Raft cluster traffic
    admin_port: int  # channel participation API (osnadmin)
    operations_port: int
    msp_dir: str
    tls_dir: str
    data_dir: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, kw_only=True)
class Peer:
    name: str
    org: str
    msp_id: str
    host: str
    port: int
    chaincode_port: int  # the peer's own chaincode listener (unused with CCaaS, still bound)
    operations_port: int
    ccaas_port: int  # where this org's chaincode server listens
    msp_dir: str
    tls_dir: str
    data_dir: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def tls_ca_cert(self) -> str:
        return str(Path(self.tls_dir) / "ca.crt")


@dataclass(kw_only=True)
class Topology:
    state_dir: str
    base_port: int
    channel: str = CHANNEL
    chaincode: str = CHAINCODE
    fabric_version: str = ""
    orderer_org_tls_ca: str = ""
    orderer_org_ca: str = ""
    orderer_admin_msp: str = ""
    orgs: list[Org] = field(default_factory=list)
    orderers: list[Orderer] = field(default_factory=list)
    peers: list[Peer] = field(default_factory=list)

    # -- derived paths -------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return Path(self.state_dir)

    @property
    def crypto(self) -> Path:
        return self.root / "crypto"

    @property
    def genesis_block(self) -> Path:
        return self.root / "channel" / f"{self.channel}.block"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def org(self, msp_id: str) -> Org:
        for o in self.orgs:
            if o.msp_id == msp_id:
                return o
        raise KeyError(f"no org with MSP id {msp_id!r} (have {[o.msp_id for o in self.orgs]})")

    def peer_of(self, msp_id: str) -> Peer:
        for p in self.peers:
            if p.msp_id == msp_id:
                return p
        raise KeyError(f"no peer for MSP id {msp_id!r}")

    @property
    def api_port(self) -> int:
        """The REST API's loopback port: the last but one of the network's 60."""
        return self.base_port + 58

    def all_ports(self) -> dict[int, str]:
        """Every port the network binds, with the node and role that binds it."""
        ports: dict[int, str] = {}
        for o in self.orderers:
            ports[o.port] = f"{o.name} (client/cluster)"
            ports[o.admin_port] = f"{o.name} (admin)"
            ports[o.operations_port] = f"{o.name} (operations)"
        for p in self.peers:
            ports[p.port] = f"{p.name} (peer)"
            ports[p.chaincode_port] = f"{p.name} (chaincode listener)"
            ports[p.operations_port] = f"{p.name} (operations)"
            ports[p.ccaas_port] = f"chaincode server of {p.msp_id}"
        return ports

    # -- persistence ---------------------------------------------------------------------------
    @property
    def description_file(self) -> Path:
        return self.root / "network.json"

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.description_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, self.description_file)

    @classmethod
    def load(cls, state_dir: Path) -> Topology:
        path = state_dir / "network.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: no network was set up in {state_dir} "
                "(run `ledgerctl network up`)"
            )
        raw = json.loads(path.read_text())
        return cls(
            state_dir=raw["state_dir"],
            base_port=raw["base_port"],
            channel=raw["channel"],
            chaincode=raw["chaincode"],
            fabric_version=raw.get("fabric_version", ""),
            orderer_org_tls_ca=raw["orderer_org_tls_ca"],
            orderer_org_ca=raw["orderer_org_ca"],
            orderer_admin_msp=raw["orderer_admin_msp"],
            orgs=[Org(**o) for o in raw["orgs"]],
            orderers=[Orderer(**o) for o in raw["orderers"]],
            peers=[Peer(**p) for p in raw["peers"]],
        )


ORG_SPECS = (("platform", "PlatformMSP"), ("bank", "BankMSP"), ("regulator", "RegulatorMSP"))


def build_topology(state_dir: Path, base_port: int = DEFAULT_BASE_PORT) -> Topology:
    """The default topology: 3 Raft orderers, 3 orgs with one peer each, on loopback.

    Port layout from `base_port` (B): orderer i at B+i (admin B+10+i, operations B+20+i);
    the peer of org j at B+30+10j, its chaincode listener +1, operations +2, and the org's
    chaincode server +3. Everything fits in B..B+59.
    """
    state = state_dir.resolve()
    crypto = state / "crypto"
    ord_root = crypto / "ordererOrganizations" / "orderer.ledger.local"
    topo = Topology(
        state_dir=str(state),
        base_port=base_port,
        orderer_org_tls_ca=str(ord_root / "tlsca" / "tlsca.orderer.ledger.local-cert.pem"),
        orderer_org_ca=str(ord_root / "ca" / "ca.orderer.ledger.local-cert.pem"),
        orderer_admin_msp=str(ord_root / "users" / "Admin@orderer.ledger.local" / "msp"),
    )
    for i in range(3):
        name = f"orderer{i + 1}.orderer.ledger.local"
        node = ord_root / "orderers" / name
        topo.orderers.append(
            Orderer(
                name=name,
                host="127.0.0.1",
                port=base_port + i,
                admin_port=base_port + 10 + i,
                operations_port=base_port + 20 + i,
                msp_dir=str(node / "msp"),
                tls_dir=str(node / "tls"),
                data_dir=str(state / "data" / name),
            )
        )
    for j, (short, msp_id) in enumerate(ORG_SPECS):
        domain = f"{short}.ledger.local"
        org_dir = crypto / "peerOrganizations" / domain
        topo.orgs.append(
            Org(
                name=short,
                msp_id=msp_id,
                domain=domain,
                crypto_dir=str(org_dir),
                admin_msp=str(org_dir / "users" / f"Admin@{domain}" / "msp"),
                user_msp=str(org_dir / "users" / f"User1@{domain}" / "msp"),
                ca_cert=str(org_dir / "ca" / f"ca.{domain}-cert.pem"),
                tls_ca_cert=str(org_dir / "tlsca" / f"tlsca.{domain}-cert.pem"),
            )
        )
        name = f"peer0.{domain}"
        node = org_dir / "peers" / name
        port = base_port + 30 + 10 * j
        topo.peers.append(
            Peer(
                name=name,
                org=short,
                msp_id=msp_id,
                host="127.0.0.1",
                port=port,
                chaincode_port=port + 1,
                operations_port=port + 2,
                ccaas_port=port + 3,
                msp_dir=str(node / "msp"),
                tls_dir=str(node / "tls"),
                data_dir=str(state / "data" / name),
            )
        )
    return topo


def default_state_dir() -> Path:
    return Path(os.environ.get("LEDGER_STATE_DIR", REPO_ROOT / ".state"))
