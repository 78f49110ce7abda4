"""The service's connection to the Fabric network, built from the network description.

The service writes as a *client* identity of the writer org (PlatformMSP by default) through
that org's peer's Gateway service, over TLS verified against the org's TLS CA.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio
from fabric_gateway import AsyncGateway, Gateway, GatewayError, connect, connect_async, load_msp

from ledger_service.ops.topology import Peer, Topology

#: gRPC limits: a batch transaction (and a block holding it) can be tens of MB.
_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 60_000),
]
#: Endorsing a batch of tens of thousands of records takes seconds on a loaded machine.
ENDORSE_TIMEOUT = 120.0


@dataclass(frozen=True, kw_only=True)
class FabricTarget:
    """Which peer and identity the service uses, and the channel/chaincode names."""

    peer: Peer
    msp_id: str
    msp_dir: Path
    channel: str
    chaincode: str

    @classmethod
    def from_topology(cls, topo: Topology, *, msp_id: str = "PlatformMSP") -> FabricTarget:
        return cls(
            peer=topo.peer_of(msp_id),
            msp_id=msp_id,
            msp_dir=Path(topo.org(msp_id).user_msp),
            channel=topo.channel,
            chaincode=topo.chaincode,
        )

    def _credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=Path(self.peer.tls_ca_cert).read_bytes()
        )

    def wait_endorsable(self, timeout: float = 60.0) -> None:
        """Until the gateway can gather a MAJORITY endorsement (a read-only `Ping` proposal).

        Right after start-up the gateway peer needs a few seconds of gossip to discover the
        other orgs' peers; until then endorsements fail for want of endorsers.
        """
        deadline = time.monotonic() + timeout
        with self.gateway() as gw:
            contract = gw.get_network(self.channel).get_contract(self.chaincode)
            while True:
                try:
                    contract.new_proposal("Ping").endorse(timeout=10)
                    return
                except GatewayError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)

    @contextmanager
    def gateway(self) -> Iterator[Gateway]:
        """A blocking Gateway connection; the gRPC channel is closed on exit."""
        creds = load_msp(self.msp_dir, msp_id=self.msp_id)
        channel = grpc.secure_channel(self.peer.address, self._credentials(), _CHANNEL_OPTIONS)
        try:
            yield connect(
                identity=creds.identity,
                signer=creds.signer,
                channel=channel,
                endorse_timeout=ENDORSE_TIMEOUT,
            )
        finally:
            channel.close()

    @asynccontextmanager
    async def gateway_async(self) -> AsyncIterator[AsyncGateway]:
        """An asyncio Gateway connection; the gRPC channel is closed on exit."""
        creds = load_msp(self.msp_dir, msp_id=self.msp_id)
        channel = grpc.aio.secure_channel(self.peer.address, self._credentials(), _CHANNEL_OPTIONS)
        try:
            yield connect_async(
                identity=creds.identity,
                signer=creds.signer,
                channel=channel,
                endorse_timeout=ENDORSE_TIMEOUT,
            )
        finally:
            await channel.close(grace=None)
