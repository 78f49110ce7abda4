"""Network stage: one channel; hands out contracts and event streams."""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2

from ._grpc import AsyncRpc, SyncRpc
from ._protocol import (
    ClientCore,
    new_chaincode_events_request,
    new_commit_status_request,
    new_deliver_envelope,
)
from .checkpoint import Checkpoint
from .commit import AsyncCommit, Commit
from .contract import AsyncContract, Contract
from .events import (
    AsyncBlockEvents,
    AsyncChaincodeEvents,
    BlockEvents,
    ChaincodeEvents,
    block_of,
    filtered_block_of,
    private_block_of,
    resume_position,
)

__all__ = ["AsyncNetwork", "Network"]


class _NetworkBase:
    __slots__ = ("_core", "_name")

    def __init__(self, *, core: ClientCore, name: str) -> None:
        if not name:
            raise ValueError("channel name must not be empty")
        self._core = core
        self._name = name

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    def _chaincode_events_request(
        self, chaincode: str, start_block: int | None, checkpointer: Checkpoint | None
    ) -> gateway_pb2.SignedChaincodeEventsRequest:
        start, after = resume_position(start_block, checkpointer)
        signed = new_chaincode_events_request(
            channel=self._name,
            chaincode=chaincode,
            creator=self._core.signing.creator,
            start_block=start,
            after_transaction_id=after,
        )
        signed.signature = self._core.signing.sign(signed.request, "chaincode events request")
        return signed

    def _deliver_envelope(
        self,
        start_block: int | None,
        checkpointer: Checkpoint | None,
        tls_certificate_hash: bytes,
    ) -> common_pb2.Envelope:
        start, _ = resume_position(start_block, checkpointer)
        envelope = new_deliver_envelope(
            channel=self._name,
            creator=self._core.signing.creator,
            start_block=start,
            tls_certificate_hash=tls_certificate_hash,
        )
        envelope.signature = self._core.signing.sign(envelope.payload, "block events request")
        return envelope

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


class Network(_NetworkBase):
    """A channel (blocking API)."""

    __slots__ = ("_rpc",)

    def __init__(self, *, core: ClientCore, rpc: SyncRpc, name: str) -> None:
        super().__init__(core=core, name=name)
        self._rpc = rpc

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> Contract:
        """A chaincode (and optionally a named contract within it) on this channel."""
        return Contract(
            core=self._core,
            rpc=self._rpc,
            channel=self._name,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )

    def new_commit(self, transaction_id: str) -> Commit:
        """A :class:`Commit` to query the status of any transaction id on this channel."""
        return Commit(
            core=self._core,
            rpc=self._rpc,
            request=new_commit_status_request(
                channel=self._name,
                transaction_id=transaction_id,
                creator=self._core.signing.creator,
            ),
            transaction_id=transaction_id,
        )

    def chaincode_events(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> ChaincodeEvents:
        """Stream events of ``chaincode_name`` from valid transactions.

        Starts at ``start_block`` (default: the next block committed), or where
        ``checkpointer`` says if it holds a checkpoint. ``timeout`` bounds the whole stream.
        """
        request = self._chaincode_events_request(chaincode_name, start_block, checkpointer)
        return ChaincodeEvents(self._rpc.chaincode_events(request, timeout=timeout))

    def block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> BlockEvents[common_pb2.Block]:
        """Stream full blocks (``common.Block``) from the peer's Deliver service."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return BlockEvents(self._rpc.deliver("block", envelope, timeout=timeout), block_of)

    def filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> BlockEvents[events_pb2.FilteredBlock]:
        """Stream filtered blocks (tx ids, types and validation codes only)."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return BlockEvents(
            self._rpc.deliver("filtered", envelope, timeout=timeout), filtered_block_of
        )

    def block_and_private_data_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> BlockEvents[events_pb2.BlockAndPrivateData]:
        """Stream blocks with the private data this client's org may see."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return BlockEvents(
            self._rpc.deliver("private", envelope, timeout=timeout), private_block_of
        )


class AsyncNetwork(_NetworkBase):
    """A channel (asyncio API)."""

    __slots__ = ("_rpc",)

    def __init__(self, *, core: ClientCore, rpc: AsyncRpc, name: str) -> None:
        super().__init__(core=core, name=name)
        self._rpc = rpc

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> AsyncContract:
        """A chaincode (and optionally a named contract within it) on this channel."""
        return AsyncContract(
            core=self._core,
            rpc=self._rpc,
            channel=self._name,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )

    def new_commit(self, transaction_id: str) -> AsyncCommit:
        """An :class:`AsyncCommit` to query the status of any transaction id on this channel."""
        return AsyncCommit(
            core=self._core,
            rpc=self._rpc,
            request=new_commit_status_request(
                channel=self._name,
                transaction_id=transaction_id,
                creator=self._core.signing.creator,
            ),
            transaction_id=transaction_id,
        )

    def chaincode_events(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> AsyncChaincodeEvents:
        """Async stream of chaincode events (see :meth:`Network.chaincode_events`)."""
        request = self._chaincode_events_request(chaincode_name, start_block, checkpointer)
        return AsyncChaincodeEvents(self._rpc.chaincode_events(request, timeout=timeout))

    def block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncBlockEvents[common_pb2.Block]:
        """Async stream of full blocks."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return AsyncBlockEvents(self._rpc.deliver("block", envelope, timeout=timeout), block_of)

    def filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncBlockEvents[events_pb2.FilteredBlock]:
        """Async stream of filtered blocks."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return AsyncBlockEvents(
            self._rpc.deliver("filtered", envelope, timeout=timeout), filtered_block_of
        )

    def block_and_private_data_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncBlockEvents[events_pb2.BlockAndPrivateData]:
        """Async stream of blocks with private data."""
        envelope = self._deliver_envelope(start_block, checkpointer, tls_certificate_hash)
        return AsyncBlockEvents(
            self._rpc.deliver("private", envelope, timeout=timeout), private_block_of
        )
