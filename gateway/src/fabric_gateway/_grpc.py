"""The only module that talks gRPC.

:class:`SyncRpc` (over ``grpc.Channel``) and :class:`AsyncRpc` (over ``grpc.aio.Channel``)
make every call of the ``gateway.Gateway`` and ``protos.Deliver`` services, apply the
per-call deadline and turn ``grpc.RpcError`` into the error class named for the step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Generic, Protocol, TypeVar

import grpc
import grpc.aio
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2

from .errors import (
    CommitStatusError,
    EndorseError,
    EvaluateError,
    EventsError,
    RpcError,
    SubmitError,
)

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _Cancellable(Protocol):
    def cancel(self) -> bool: ...


class _AsyncCall(Protocol[_T_co]):
    def cancel(self) -> bool: ...

    def __aiter__(self) -> AsyncIterator[_T_co]: ...


_GATEWAY = "/gateway.Gateway/"
_DELIVER = "/protos.Deliver/"


def _convert(
    kind: type[RpcError],
    error: grpc.RpcError,
    transaction_id: str | None,
    timeout: float | None,
) -> RpcError:
    return kind.from_grpc(error, transaction_id=transaction_id, timeout=timeout)


class SyncStream(Generic[_T]):
    """Iterator over a server stream; errors become :class:`EventsError`; ``close()`` cancels."""

    __slots__ = ("_call", "_closed", "_iter")

    def __init__(self, call: grpc.CallIterator[_T]) -> None:
        self._call: _Cancellable = call
        self._iter: Iterator[_T] = iter(call)
        self._closed = False

    def __iter__(self) -> SyncStream[_T]:
        return self

    def __next__(self) -> _T:
        try:
            return next(self._iter)
        except grpc.RpcError as exc:
            if self._closed or _is_cancelled(exc):
                raise StopIteration from None
            raise _convert(EventsError, exc, None, None) from exc

    def close(self) -> None:
        self._closed = True
        self._call.cancel()


class AsyncStream(Generic[_T]):
    """Async iterator over a server stream; errors become :class:`EventsError`."""

    __slots__ = ("_call", "_closed", "_iter")

    def __init__(self, call: _AsyncCall[_T]) -> None:
        self._call = call
        self._iter: AsyncIterator[_T] = call.__aiter__()
        self._closed = False

    def __aiter__(self) -> AsyncStream[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            return await self._iter.__anext__()
        except grpc.RpcError as exc:
            if self._closed or _is_cancelled(exc):
                raise StopAsyncIteration from None
            raise _convert(EventsError, exc, None, None) from exc
        except BaseException:
            if self._closed:
                raise StopAsyncIteration from None
            raise

    def close(self) -> None:
        self._closed = True
        self._call.cancel()


def _is_cancelled(exc: grpc.RpcError) -> bool:
    code = getattr(exc, "code", None)
    try:
        return code is not None and code() is grpc.StatusCode.CANCELLED
    except Exception:
        return False


class _Methods:
    """Method paths with (de)serializers, shared by both channel kinds."""

    EVALUATE = (
        _GATEWAY + "Evaluate",
        gateway_pb2.EvaluateRequest.SerializeToString,
        gateway_pb2.EvaluateResponse.FromString,
    )
    ENDORSE = (
        _GATEWAY + "Endorse",
        gateway_pb2.EndorseRequest.SerializeToString,
        gateway_pb2.EndorseResponse.FromString,
    )
    SUBMIT = (
        _GATEWAY + "Submit",
        gateway_pb2.SubmitRequest.SerializeToString,
        gateway_pb2.SubmitResponse.FromString,
    )
    COMMIT_STATUS = (
        _GATEWAY + "CommitStatus",
        gateway_pb2.SignedCommitStatusRequest.SerializeToString,
        gateway_pb2.CommitStatusResponse.FromString,
    )
    CHAINCODE_EVENTS = (
        _GATEWAY + "ChaincodeEvents",
        gateway_pb2.SignedChaincodeEventsRequest.SerializeToString,
        gateway_pb2.ChaincodeEventsResponse.FromString,
    )
    DELIVER = (
        _DELIVER + "Deliver",
        common_pb2.Envelope.SerializeToString,
        events_pb2.DeliverResponse.FromString,
    )
    DELIVER_FILTERED = (
        _DELIVER + "DeliverFiltered",
        common_pb2.Envelope.SerializeToString,
        events_pb2.DeliverResponse.FromString,
    )
    DELIVER_WITH_PRIVATE_DATA = (
        _DELIVER + "DeliverWithPrivateData",
        common_pb2.Envelope.SerializeToString,
        events_pb2.DeliverResponse.FromString,
    )


DELIVER_KINDS = ("block", "filtered", "private")


class SyncRpc:
    """Blocking calls over a ``grpc.Channel``."""

    def __init__(self, channel: grpc.Channel) -> None:
        if isinstance(channel, grpc.aio.Channel):
            raise TypeError("connect() needs a grpc.Channel; use connect_async() for grpc.aio")
        m = _Methods
        self._evaluate: grpc.UnaryUnaryMultiCallable[
            gateway_pb2.EvaluateRequest, gateway_pb2.EvaluateResponse
        ] = channel.unary_unary(*m.EVALUATE)
        self._endorse: grpc.UnaryUnaryMultiCallable[
            gateway_pb2.EndorseRequest, gateway_pb2.EndorseResponse
        ] = channel.unary_unary(*m.ENDORSE)
        self._submit: grpc.UnaryUnaryMultiCallable[
            gateway_pb2.SubmitRequest, gateway_pb2.SubmitResponse
        ] = channel.unary_unary(*m.SUBMIT)
        self._commit_status: grpc.UnaryUnaryMultiCallable[
            gateway_pb2.SignedCommitStatusRequest, gateway_pb2.CommitStatusResponse
        ] = channel.unary_unary(*m.COMMIT_STATUS)
        self._chaincode_events: grpc.UnaryStreamMultiCallable[
            gateway_pb2.SignedChaincodeEventsRequest, gateway_pb2.ChaincodeEventsResponse
        ] = channel.unary_stream(*m.CHAINCODE_EVENTS)
        self._deliver: dict[
            str, grpc.StreamStreamMultiCallable[common_pb2.Envelope, events_pb2.DeliverResponse]
        ] = {
            "block": channel.stream_stream(*m.DELIVER),
            "filtered": channel.stream_stream(*m.DELIVER_FILTERED),
            "private": channel.stream_stream(*m.DELIVER_WITH_PRIVATE_DATA),
        }

    def evaluate(
        self, request: gateway_pb2.EvaluateRequest, *, timeout: float
    ) -> gateway_pb2.EvaluateResponse:
        try:
            return self._evaluate(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(EvaluateError, exc, request.transaction_id, timeout) from exc

    def endorse(
        self, request: gateway_pb2.EndorseRequest, *, timeout: float
    ) -> gateway_pb2.EndorseResponse:
        try:
            return self._endorse(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(EndorseError, exc, request.transaction_id, timeout) from exc

    def submit(
        self, request: gateway_pb2.SubmitRequest, *, timeout: float
    ) -> gateway_pb2.SubmitResponse:
        try:
            return self._submit(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(SubmitError, exc, request.transaction_id, timeout) from exc

    def commit_status(
        self,
        request: gateway_pb2.SignedCommitStatusRequest,
        *,
        transaction_id: str,
        timeout: float,
    ) -> gateway_pb2.CommitStatusResponse:
        try:
            return self._commit_status(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(CommitStatusError, exc, transaction_id, timeout) from exc

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, *, timeout: float | None
    ) -> SyncStream[gateway_pb2.ChaincodeEventsResponse]:
        try:
            return SyncStream(self._chaincode_events(request, timeout=timeout))
        except grpc.RpcError as exc:
            raise _convert(EventsError, exc, None, timeout) from exc

    def deliver(
        self, kind: str, envelope: common_pb2.Envelope, *, timeout: float | None
    ) -> SyncStream[events_pb2.DeliverResponse]:
        try:
            return SyncStream(self._deliver[kind](iter((envelope,)), timeout=timeout))
        except grpc.RpcError as exc:
            raise _convert(EventsError, exc, None, timeout) from exc


class AsyncRpc:
    """Awaitable calls over a ``grpc.aio.Channel``."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        if not isinstance(channel, grpc.aio.Channel):
            raise TypeError("connect_async() needs a grpc.aio.Channel; use connect() for grpc")
        m = _Methods
        self._evaluate: grpc.aio.UnaryUnaryMultiCallable[
            gateway_pb2.EvaluateRequest, gateway_pb2.EvaluateResponse
        ] = channel.unary_unary(*m.EVALUATE)
        self._endorse: grpc.aio.UnaryUnaryMultiCallable[
            gateway_pb2.EndorseRequest, gateway_pb2.EndorseResponse
        ] = channel.unary_unary(*m.ENDORSE)
        self._submit: grpc.aio.UnaryUnaryMultiCallable[
            gateway_pb2.SubmitRequest, gateway_pb2.SubmitResponse
        ] = channel.unary_unary(*m.SUBMIT)
        self._commit_status: grpc.aio.UnaryUnaryMultiCallable[
            gateway_pb2.SignedCommitStatusRequest, gateway_pb2.CommitStatusResponse
        ] = channel.unary_unary(*m.COMMIT_STATUS)
        self._chaincode_events: grpc.aio.UnaryStreamMultiCallable[
            gateway_pb2.SignedChaincodeEventsRequest, gateway_pb2.ChaincodeEventsResponse
        ] = channel.unary_stream(*m.CHAINCODE_EVENTS)
        self._deliver: dict[
            str,
            grpc.aio.StreamStreamMultiCallable[common_pb2.Envelope, events_pb2.DeliverResponse],
        ] = {
            "block": channel.stream_stream(*m.DELIVER),
            "filtered": channel.stream_stream(*m.DELIVER_FILTERED),
            "private": channel.stream_stream(*m.DELIVER_WITH_PRIVATE_DATA),
        }

    async def evaluate(
        self, request: gateway_pb2.EvaluateRequest, *, timeout: float
    ) -> gateway_pb2.EvaluateResponse:
        try:
            return await self._evaluate(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(EvaluateError, exc, request.transaction_id, timeout) from exc

    async def endorse(
        self, request: gateway_pb2.EndorseRequest, *, timeout: float
    ) -> gateway_pb2.EndorseResponse:
        try:
            return await self._endorse(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(EndorseError, exc, request.transaction_id, timeout) from exc

    async def submit(
        self, request: gateway_pb2.SubmitRequest, *, timeout: float
    ) -> gateway_pb2.SubmitResponse:
        try:
            return await self._submit(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(SubmitError, exc, request.transaction_id, timeout) from exc

    async def commit_status(
        self,
        request: gateway_pb2.SignedCommitStatusRequest,
        *,
        transaction_id: str,
        timeout: float,
    ) -> gateway_pb2.CommitStatusResponse:
        try:
            return await self._commit_status(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _convert(CommitStatusError, exc, transaction_id, timeout) from exc

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, *, timeout: float | None
    ) -> AsyncStream[gateway_pb2.ChaincodeEventsResponse]:
        return AsyncStream(self._chaincode_events(request, timeout=timeout))

    def deliver(
        self, kind: str, envelope: common_pb2.Envelope, *, timeout: float | None
    ) -> AsyncStream[events_pb2.DeliverResponse]:
        return AsyncStream(self._deliver[kind](iter((envelope,)), timeout=timeout))
