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
    AsyncBlockEventsRequest,
    AsyncChaincodeEvents,
    AsyncChaincodeEventsRequest,
    BlockEvents,
    BlockEventsRequest,
    ChaincodeEvents,
    ChaincodeEventsRequest,
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
        return new_chaincode_events_request(
            channel=self._name,
            chaincode=chaincode,
            creator=self._core.signing.creator,
            start_block=start,
            after_transaction_id=after,
        )

    def _deliver_envelope(
        self,
        start_block: int | None,
        checkpointer: Checkpoint | None,
        tls_certificate_hash: bytes,
    ) -> common_pb2.Envelope:
        start, _ = resume_position(start_block, checkpointer)
        return new_deliver_envelope(
            channel=self._name,
            creator=self._core.signing.creator,
            start_block=start,
            tls_certificate_hash=tls_certificate_hash,
        )

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
        return self.new_chaincode_events_request(
            chaincode_name, start_block=start_block, checkpointer=checkpointer
        ).events(timeout=timeout)

    def new_chaincode_events_request(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
    ) -> ChaincodeEventsRequest:
        """Unsigned request for :meth:`chaincode_events` (for offline signing)."""
        return ChaincodeEventsRequest(
            core=self._core,
            rpc=self._rpc,
            request=self._chaincode_events_request(chaincode_name, start_block, checkpointer),
        )

    def new_block_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> BlockEventsRequest[common_pb2.Block]:
        """Unsigned request for :meth:`block_events`, for offline signing."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="block",
            extract=block_of,
        )

    def block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> BlockEvents[common_pb2.Block]:
        """Stream full blocks (``common.Block``) from the peer's Deliver service."""
        return self.new_block_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)

    def new_filtered_block_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> BlockEventsRequest[events_pb2.FilteredBlock]:
        """Unsigned request for :meth:`filtered_block_events`, for offline signing."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="filtered",
            extract=filtered_block_of,
        )

    def filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> BlockEvents[events_pb2.FilteredBlock]:
        """Stream filtered blocks (tx ids, types and validation codes only)."""
        return self.new_filtered_block_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)

    def new_block_and_private_data_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> BlockEventsRequest[events_pb2.BlockAndPrivateData]:
        """Unsigned request for :meth:`block_and_private_data_events`, for offline signing."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="private",
            extract=private_block_of,
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
        return self.new_block_and_private_data_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)


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
        return self.new_chaincode_events_request(
            chaincode_name, start_block=start_block, checkpointer=checkpointer
        ).events(timeout=timeout)

    def new_chaincode_events_request(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
    ) -> AsyncChaincodeEventsRequest:
        """Unsigned request for :meth:`chaincode_events` (for offline signing)."""
        return AsyncChaincodeEventsRequest(
            core=self._core,
            rpc=self._rpc,
            request=self._chaincode_events_request(chaincode_name, start_block, checkpointer),
        )

    def new_block_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> AsyncBlockEventsRequest[common_pb2.Block]:
        """Unsigned request for :meth:`block_events`, for offline signing."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="block",
            extract=block_of,
        )

    def block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncBlockEvents[common_pb2.Block]:
        """Async stream of full blocks."""
        return self.new_block_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)

    def new_filtered_block_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> AsyncBlockEventsRequest[events_pb2.FilteredBlock]:
        """Unsigned request for :meth:`filtered_block_events`, for offline signing."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="filtered",
            extract=filtered_block_of,
        )

    def filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncBlockEvents[events_pb2.FilteredBlock]:
        """Async stream of filtered blocks."""
        return self.new_filtered_block_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)

    def new_block_and_private_data_events_request(
        self,
        *,
        start_block: int | None = None,
        checkpointer: Checkpoint | None = None,
        tls_certificate_hash: bytes = b"",
    ) -> AsyncBlockEventsRequest[events_pb2.BlockAndPrivateData]:
        """Unsigned request for :meth:`block_and_private_data_events`, for offline signing."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=self._deliver_envelope(start_block, checkpointer, tls_certificate_hash),
            kind="private",
            extract=private_block_of,
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
        return self.new_block_and_private_data_events_request(
            start_block=start_block,
            checkpointer=checkpointer,
            tls_certificate_hash=tls_certificate_hash,
        ).events(timeout=timeout)
