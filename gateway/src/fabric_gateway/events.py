"""Event streams: chaincode events (Gateway service) and block events (Deliver service).

Streams are iterators (sync) or async iterators (asyncio) that run until closed. Close
them with ``close()`` or use them as context managers. Errors while streaming raise
:class:`~fabric_gateway.EventsError`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2

from ._grpc import AsyncRpc, AsyncStream, SyncRpc, SyncStream
from ._protocol import ClientCore
from .errors import EventsError

if TYPE_CHECKING:
    from types import TracebackType

    from .checkpoint import Checkpoint

__all__ = [
    "AsyncBlockEvents",
    "AsyncBlockEventsRequest",
    "AsyncChaincodeEvents",
    "AsyncChaincodeEventsRequest",
    "BlockEvents",
    "BlockEventsRequest",
    "ChaincodeEvent",
    "ChaincodeEvents",
    "ChaincodeEventsRequest",
]

_B = TypeVar("_B")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChaincodeEvent:
    """An event emitted by a chaincode in a valid committed transaction."""

    block_number: int
    transaction_id: str
    chaincode_name: str
    event_name: str
    payload: bytes


def resume_position(
    start_block: int | None, checkpoint: Checkpoint | None
) -> tuple[int | None, str | None]:
    """Start block and after-transaction-id: a checkpoint, once set, wins over ``start_block``."""
    if checkpoint is not None and checkpoint.block_number is not None:
        return checkpoint.block_number, checkpoint.transaction_id
    return start_block, None


def _events_of(response: gateway_pb2.ChaincodeEventsResponse) -> list[ChaincodeEvent]:
    return [
        ChaincodeEvent(
            block_number=response.block_number,
            transaction_id=event.tx_id,
            chaincode_name=event.chaincode_id,
            event_name=event.event_name,
            payload=event.payload,
        )
        for event in response.events
    ]


_DELIVER_STATUS_CODES = {
    common_pb2.BAD_REQUEST: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    common_pb2.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    common_pb2.SERVICE_UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    common_pb2.INTERNAL_SERVER_ERROR: grpc.StatusCode.INTERNAL,
}


def deliver_status_error(status: int) -> EventsError:
    name = common_pb2.Status.Name(status) if status in common_pb2.Status.values() else str(status)
    return EventsError(
        code=_DELIVER_STATUS_CODES.get(status, grpc.StatusCode.UNKNOWN),
        message=f"deliver service ended the stream with status {status} ({name})",
    )


def block_of(response: events_pb2.DeliverResponse) -> common_pb2.Block | None:
    return response.block if response.HasField("block") else None


def filtered_block_of(response: events_pb2.DeliverResponse) -> events_pb2.FilteredBlock | None:
    return response.filtered_block if response.HasField("filtered_block") else None


def private_block_of(
    response: events_pb2.DeliverResponse,
) -> events_pb2.BlockAndPrivateData | None:
    return response.block_and_private_data if response.HasField("block_and_private_data") else None


class ChaincodeEvents:
    """Blocking iterator of :class:`ChaincodeEvent` (one chaincode, from a start position)."""

    __slots__ = ("_buffer", "_stream")

    def __init__(self, stream: SyncStream[gateway_pb2.ChaincodeEventsResponse]) -> None:
        self._stream = stream
        self._buffer: Iterator[ChaincodeEvent] = iter(())

    def __iter__(self) -> ChaincodeEvents:
        return self

    def __next__(self) -> ChaincodeEvent:
        while True:
            event = next(self._buffer, None)
            if event is not None:
                return event
            self._buffer = iter(_events_of(next(self._stream)))

    def close(self) -> None:
        """Cancel the stream; iteration then stops."""
        self._stream.close()

    def __enter__(self) -> ChaincodeEvents:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChaincodeEvents:
    """Async iterator of :class:`ChaincodeEvent`."""

    __slots__ = ("_buffer", "_stream")

    def __init__(self, stream: AsyncStream[gateway_pb2.ChaincodeEventsResponse]) -> None:
        self._stream = stream
        self._buffer: Iterator[ChaincodeEvent] = iter(())

    def __aiter__(self) -> AsyncChaincodeEvents:
        return self

    async def __anext__(self) -> ChaincodeEvent:
        while True:
            event = next(self._buffer, None)
            if event is not None:
                return event
            self._buffer = iter(_events_of(await self._stream.__anext__()))

    def close(self) -> None:
        self._stream.close()

    async def __aenter__(self) -> AsyncChaincodeEvents:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class BlockEvents(Generic[_B]):
    """Blocking iterator of blocks from the peer's Deliver service.

    Yields ``common.Block``, ``protos.FilteredBlock`` or ``protos.BlockAndPrivateData``
    depending on the method that created it.
    """

    __slots__ = ("_extract", "_stream")

    def __init__(
        self,
        stream: SyncStream[events_pb2.DeliverResponse],
        extract: Callable[[events_pb2.DeliverResponse], _B | None],
    ) -> None:
        self._stream = stream
        self._extract = extract

    def __iter__(self) -> BlockEvents[_B]:
        return self

    def __next__(self) -> _B:
        while True:
            response = next(self._stream)
            item = self._extract(response)
            if item is not None:
                return item
            if response.HasField("status"):
                self._stream.close()
                if response.status == common_pb2.SUCCESS:
                    raise StopIteration
                raise deliver_status_error(response.status)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> BlockEvents[_B]:
        return self

    def __exit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncBlockEvents(Generic[_B]):
    """Async iterator of blocks from the peer's Deliver service."""

    __slots__ = ("_extract", "_stream")

    def __init__(
        self,
        stream: AsyncStream[events_pb2.DeliverResponse],
        extract: Callable[[events_pb2.DeliverResponse], _B | None],
    ) -> None:
        self._stream = stream
        self._extract = extract

    def __aiter__(self) -> AsyncBlockEvents[_B]:
        return self

    async def __anext__(self) -> _B:
        while True:
            response = await self._stream.__anext__()
            item = self._extract(response)
            if item is not None:
                return item
            if response.HasField("status"):
                self._stream.close()
                if response.status == common_pb2.SUCCESS:
                    raise StopAsyncIteration
                raise deliver_status_error(response.status)

    def close(self) -> None:
        self._stream.close()

    async def __aenter__(self) -> AsyncBlockEvents[_B]:
        return self

    async def __aexit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- requests (for offline signing) -------------------------------------------------------


class _ChaincodeEventsRequestBase:
    __slots__ = ("_core", "_request")

    def __init__(
        self, *, core: ClientCore, request: gateway_pb2.SignedChaincodeEventsRequest
    ) -> None:
        self._core = core
        self._request = request

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.SignedChaincodeEventsRequest`` (signed if already signed)."""
        return self._request.SerializeToString()

    def digest(self) -> builtins.bytes:
        """The bytes to sign offline for this request."""
        return self._core.signing.digest(self._request.request)

    @property
    def signed(self) -> bool:
        return bool(self._request.signature)

    def sign(self) -> None:
        if not self._request.signature:
            self._request.signature = self._core.signing.sign(
                self._request.request, "chaincode events request"
            )


class ChaincodeEventsRequest(_ChaincodeEventsRequestBase):
    """A (possibly offline-signed) chaincode events request; :meth:`events` opens the stream."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: SyncRpc,
        request: gateway_pb2.SignedChaincodeEventsRequest,
    ) -> None:
        super().__init__(core=core, request=request)
        self._rpc = rpc

    def events(self, *, timeout: float | None = None) -> ChaincodeEvents:
        self.sign()
        return ChaincodeEvents(self._rpc.chaincode_events(self._request, timeout=timeout))


class AsyncChaincodeEventsRequest(_ChaincodeEventsRequestBase):
    """Asyncio flavour of :class:`ChaincodeEventsRequest`."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: AsyncRpc,
        request: gateway_pb2.SignedChaincodeEventsRequest,
    ) -> None:
        super().__init__(core=core, request=request)
        self._rpc = rpc

    def events(self, *, timeout: float | None = None) -> AsyncChaincodeEvents:
        self.sign()
        return AsyncChaincodeEvents(self._rpc.chaincode_events(self._request, timeout=timeout))


DeliverKind = Literal["block", "filtered", "private"]


class _BlockEventsRequestBase(Generic[_B]):
    __slots__ = ("_core", "_envelope", "_extract", "_kind")

    def __init__(
        self,
        *,
        core: ClientCore,
        envelope: common_pb2.Envelope,
        kind: DeliverKind,
        extract: Callable[[events_pb2.DeliverResponse], _B | None],
    ) -> None:
        self._core = core
        self._envelope = envelope
        self._kind = kind
        self._extract = extract

    def bytes(self) -> builtins.bytes:
        """Serialized ``common.Envelope`` of the seek request (signed if already signed)."""
        return self._envelope.SerializeToString()

    def digest(self) -> builtins.bytes:
        """The bytes to sign offline for this request."""
        return self._core.signing.digest(self._envelope.payload)

    @property
    def signed(self) -> bool:
        return bool(self._envelope.signature)

    def sign(self) -> None:
        if not self._envelope.signature:
            self._envelope.signature = self._core.signing.sign(
                self._envelope.payload, "block events request"
            )


class BlockEventsRequest(_BlockEventsRequestBase[_B]):
    """A (possibly offline-signed) block events request; :meth:`events` opens the stream."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: SyncRpc,
        envelope: common_pb2.Envelope,
        kind: DeliverKind,
        extract: Callable[[events_pb2.DeliverResponse], _B | None],
    ) -> None:
        super().__init__(core=core, envelope=envelope, kind=kind, extract=extract)
        self._rpc = rpc

    def events(self, *, timeout: float | None = None) -> BlockEvents[_B]:
        self.sign()
        stream = self._rpc.deliver(self._kind, self._envelope, timeout=timeout)
        return BlockEvents(stream, self._extract)


class AsyncBlockEventsRequest(_BlockEventsRequestBase[_B]):
    """Asyncio flavour of :class:`BlockEventsRequest`."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: AsyncRpc,
        envelope: common_pb2.Envelope,
        kind: DeliverKind,
        extract: Callable[[events_pb2.DeliverResponse], _B | None],
    ) -> None:
        super().__init__(core=core, envelope=envelope, kind=kind, extract=extract)
        self._rpc = rpc

    def events(self, *, timeout: float | None = None) -> AsyncBlockEvents[_B]:
        self.sign()
        stream = self._rpc.deliver(self._kind, self._envelope, timeout=timeout)
        return AsyncBlockEvents(stream, self._extract)
