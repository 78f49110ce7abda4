"""Gateway: the connection to a Fabric Gateway peer, and the entry point of the API."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import grpc
import grpc.aio
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2
from google.protobuf.message import DecodeError

from . import hash as hashes
from ._grpc import AsyncRpc, SyncRpc
from ._protocol import ClientCore, SigningContext, Timeouts
from .commit import AsyncCommit, Commit
from .errors import GatewayError
from .events import (
    AsyncBlockEventsRequest,
    AsyncChaincodeEventsRequest,
    BlockEventsRequest,
    ChaincodeEventsRequest,
    block_of,
    filtered_block_of,
    private_block_of,
)
from .hash import Hash
from .identity import Identity
from .network import AsyncNetwork, Network
from .proposal import AsyncProposal, Proposal
from .signing import Signer
from .transaction import AsyncTransaction, Transaction

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncGateway", "Gateway", "connect", "connect_async"]


def _decode_error(what: str, exc: Exception) -> GatewayError:
    return GatewayError(f"not a serialized {what}: {exc}")


def _proposed(
    data: builtins.bytes, signature: builtins.bytes | None
) -> gateway_pb2.ProposedTransaction:
    try:
        proposed = gateway_pb2.ProposedTransaction.FromString(data)
    except DecodeError as exc:
        raise _decode_error("proposal", exc) from exc
    if signature is not None:
        proposed.proposal.signature = signature
    return proposed


def _prepared(
    data: builtins.bytes, signature: builtins.bytes | None
) -> gateway_pb2.PreparedTransaction:
    try:
        prepared = gateway_pb2.PreparedTransaction.FromString(data)
    except DecodeError as exc:
        raise _decode_error("transaction", exc) from exc
    if signature is not None:
        prepared.envelope.signature = signature
    return prepared


def _events_request(
    data: builtins.bytes, signature: builtins.bytes
) -> gateway_pb2.SignedChaincodeEventsRequest:
    try:
        signed = gateway_pb2.SignedChaincodeEventsRequest.FromString(data)
        gateway_pb2.ChaincodeEventsRequest.FromString(signed.request)
    except DecodeError as exc:
        raise _decode_error("chaincode events request", exc) from exc
    signed.signature = signature
    return signed


def _seek_envelope(data: builtins.bytes, signature: builtins.bytes) -> common_pb2.Envelope:
    try:
        envelope = common_pb2.Envelope.FromString(data)
        common_pb2.Payload.FromString(envelope.payload)
    except DecodeError as exc:
        raise _decode_error("block events request", exc) from exc
    envelope.signature = signature
    return envelope


def _commit_request(
    data: builtins.bytes, signature: builtins.bytes | None
) -> tuple[gateway_pb2.SignedCommitStatusRequest, str]:
    try:
        signed = gateway_pb2.SignedCommitStatusRequest.FromString(data)
        request = gateway_pb2.CommitStatusRequest.FromString(signed.request)
    except DecodeError as exc:
        raise _decode_error("commit status request", exc) from exc
    if signature is not None:
        signed.signature = signature
    return signed, request.transaction_id


class _GatewayBase:
    __slots__ = ("_core",)

    def __init__(
        self, *, identity: Identity, signer: Signer | None, hash: Hash, timeouts: Timeouts
    ) -> None:
        self._core = ClientCore(
            signing=SigningContext(identity=identity, signer=signer, hash=hash),
            timeouts=timeouts,
        )

    @property
    def identity(self) -> Identity:
        return self._core.signing.identity

    @property
    def timeouts(self) -> Timeouts:
        return self._core.timeouts

    def __repr__(self) -> str:
        return f"{type(self).__name__}(msp_id={self.identity.msp_id!r})"


class Gateway(_GatewayBase):
    """Connection to a Fabric Gateway peer (blocking API). Create with :func:`connect`.

    The gRPC channel belongs to the caller: close it when done.
    """

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        identity: Identity,
        signer: Signer | None,
        channel: grpc.Channel,
        hash: Hash = hashes.sha256,
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(
            identity=identity, signer=signer, hash=hash, timeouts=timeouts or Timeouts()
        )
        self._rpc = SyncRpc(channel)

    def get_network(self, name: str) -> Network:
        """The channel ``name``."""
        return Network(core=self._core, rpc=self._rpc, name=name)

    def new_proposal(self, data: builtins.bytes) -> Proposal:
        """Recreate a proposal from :meth:`Proposal.bytes`."""
        return Proposal(core=self._core, rpc=self._rpc, proposed=_proposed(data, None))

    def new_signed_proposal(self, data: builtins.bytes, signature: builtins.bytes) -> Proposal:
        """Recreate a proposal from its bytes with a signature of its :meth:`~Proposal.digest`."""
        return Proposal(core=self._core, rpc=self._rpc, proposed=_proposed(data, signature))

    def new_transaction(self, data: builtins.bytes) -> Transaction:
        """Recreate a transaction from :meth:`Transaction.bytes` (e.g. to resubmit it)."""
        return Transaction(core=self._core, rpc=self._rpc, prepared=_prepared(data, None))

    def new_signed_transaction(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> Transaction:
        """Recreate a transaction with a signature of its :meth:`~Transaction.digest`."""
        return Transaction(core=self._core, rpc=self._rpc, prepared=_prepared(data, signature))

    def new_commit(self, data: builtins.bytes) -> Commit:
        """Recreate a commit status request from :meth:`Commit.bytes`."""
        request, tx_id = _commit_request(data, None)
        return Commit(core=self._core, rpc=self._rpc, request=request, transaction_id=tx_id)

    def new_signed_commit(self, data: builtins.bytes, signature: builtins.bytes) -> Commit:
        """Recreate a commit status request with a signature of its :meth:`~Commit.digest`."""
        request, tx_id = _commit_request(data, signature)
        return Commit(core=self._core, rpc=self._rpc, request=request, transaction_id=tx_id)

    def new_signed_chaincode_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> ChaincodeEventsRequest:
        """Recreate a chaincode events request with a signature of its digest."""
        return ChaincodeEventsRequest(
            core=self._core, rpc=self._rpc, request=_events_request(data, signature)
        )

    def new_signed_block_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> BlockEventsRequest[common_pb2.Block]:
        """Recreate a block events request with a signature of its digest."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="block",
            extract=block_of,
        )

    def new_signed_filtered_block_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> BlockEventsRequest[events_pb2.FilteredBlock]:
        """Recreate a filtered block events request with a signature of its digest."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="filtered",
            extract=filtered_block_of,
        )

    def new_signed_block_and_private_data_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> BlockEventsRequest[events_pb2.BlockAndPrivateData]:
        """Recreate a block-and-private-data events request with a signature of its digest."""
        return BlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="private",
            extract=private_block_of,
        )

    def close(self) -> None:
        """Release nothing: the gRPC channel is owned (and closed) by the caller."""

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncGateway(_GatewayBase):
    """Connection to a Fabric Gateway peer (asyncio API). Create with :func:`connect_async`."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        identity: Identity,
        signer: Signer | None,
        channel: grpc.aio.Channel,
        hash: Hash = hashes.sha256,
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(
            identity=identity, signer=signer, hash=hash, timeouts=timeouts or Timeouts()
        )
        self._rpc = AsyncRpc(channel)

    def get_network(self, name: str) -> AsyncNetwork:
        return AsyncNetwork(core=self._core, rpc=self._rpc, name=name)

    def new_proposal(self, data: builtins.bytes) -> AsyncProposal:
        return AsyncProposal(core=self._core, rpc=self._rpc, proposed=_proposed(data, None))

    def new_signed_proposal(self, data: builtins.bytes, signature: builtins.bytes) -> AsyncProposal:
        return AsyncProposal(core=self._core, rpc=self._rpc, proposed=_proposed(data, signature))

    def new_transaction(self, data: builtins.bytes) -> AsyncTransaction:
        return AsyncTransaction(core=self._core, rpc=self._rpc, prepared=_prepared(data, None))

    def new_signed_transaction(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> AsyncTransaction:
        return AsyncTransaction(core=self._core, rpc=self._rpc, prepared=_prepared(data, signature))

    def new_commit(self, data: builtins.bytes) -> AsyncCommit:
        request, tx_id = _commit_request(data, None)
        return AsyncCommit(core=self._core, rpc=self._rpc, request=request, transaction_id=tx_id)

    def new_signed_commit(self, data: builtins.bytes, signature: builtins.bytes) -> AsyncCommit:
        request, tx_id = _commit_request(data, signature)
        return AsyncCommit(core=self._core, rpc=self._rpc, request=request, transaction_id=tx_id)

    def new_signed_chaincode_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> AsyncChaincodeEventsRequest:
        """Recreate a chaincode events request with a signature of its digest."""
        return AsyncChaincodeEventsRequest(
            core=self._core, rpc=self._rpc, request=_events_request(data, signature)
        )

    def new_signed_block_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> AsyncBlockEventsRequest[common_pb2.Block]:
        """Recreate a block events request with a signature of its digest."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="block",
            extract=block_of,
        )

    def new_signed_filtered_block_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> AsyncBlockEventsRequest[events_pb2.FilteredBlock]:
        """Recreate a filtered block events request with a signature of its digest."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="filtered",
            extract=filtered_block_of,
        )

    def new_signed_block_and_private_data_events_request(
        self, data: builtins.bytes, signature: builtins.bytes
    ) -> AsyncBlockEventsRequest[events_pb2.BlockAndPrivateData]:
        """Recreate a block-and-private-data events request with a signature of its digest."""
        return AsyncBlockEventsRequest(
            core=self._core,
            rpc=self._rpc,
            envelope=_seek_envelope(data, signature),
            kind="private",
            extract=private_block_of,
        )

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def _timeouts(evaluate: float, endorse: float, submit: float, commit_status: float) -> Timeouts:
    return Timeouts(evaluate=evaluate, endorse=endorse, submit=submit, commit_status=commit_status)


def connect(
    *,
    identity: Identity,
    channel: grpc.Channel,
    signer: Signer | None = None,
    hash: Hash = hashes.sha256,
    evaluate_timeout: float = 5.0,
    endorse_timeout: float = 15.0,
    submit_timeout: float = 5.0,
    commit_status_timeout: float = 60.0,
) -> Gateway:
    """Connect to a Fabric Gateway peer over an existing ``grpc.Channel``.

    ``signer`` may be omitted for offline signing: then every request must be signed
    through its ``digest()`` and the gateway's ``new_signed_*`` methods. Timeouts are the
    default deadlines in seconds of each call; each call accepts ``timeout=`` to override.
    """
    return Gateway(
        identity=identity,
        signer=signer,
        channel=channel,
        hash=hash,
        timeouts=_timeouts(
            evaluate_timeout, endorse_timeout, submit_timeout, commit_status_timeout
        ),
    )


def connect_async(
    *,
    identity: Identity,
    channel: grpc.aio.Channel,
    signer: Signer | None = None,
    hash: Hash = hashes.sha256,
    evaluate_timeout: float = 5.0,
    endorse_timeout: float = 15.0,
    submit_timeout: float = 5.0,
    commit_status_timeout: float = 60.0,
) -> AsyncGateway:
    """Like :func:`connect`, over a ``grpc.aio.Channel``; returns an :class:`AsyncGateway`."""
    return AsyncGateway(
        identity=identity,
        signer=signer,
        channel=channel,
        hash=hash,
        timeouts=_timeouts(
            evaluate_timeout, endorse_timeout, submit_timeout, commit_status_timeout
        ),
    )
