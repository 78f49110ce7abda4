"""Errors, each named for the step that failed and carrying the peers' error details.

Every failed gRPC call made by this client raises a subclass of :class:`RpcError`:
:class:`EvaluateError`, :class:`EndorseError`, :class:`SubmitError`,
:class:`CommitStatusError` or :class:`EventsError`. Each carries the transaction id (when
there is one), the gRPC status ``code``, the gateway's message and ``details``: one
:class:`ErrorDetail` per peer or orderer that the gateway reported as failing (parsed from
the ``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer).

A transaction that was ordered but failed validation raises :class:`CommitError` from
:meth:`Contract.submit <fabric_gateway.Contract.submit>`; :meth:`Commit.status
<fabric_gateway.Commit.status>` reports such a transaction without raising.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import grpc
from fabric_protos.gateway import gateway_pb2
from google.protobuf import any_pb2

__all__ = [
    "CommitError",
    "CommitStatusError",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "EventsError",
    "GatewayError",
    "RpcError",
    "SignerRequiredError",
    "SubmitError",
    "parse_status_details",
]

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_DETAIL_TYPE = "type.googleapis.com/gateway.ErrorDetail"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One node's error as reported by the gateway peer."""

    address: str
    msp_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.address} ({self.msp_id}): {self.message}"


class GatewayError(Exception):
    """Base class of every error raised by :mod:`fabric_gateway`."""


class SignerRequiredError(GatewayError):
    """A request needs signing but the gateway has no signer (use offline signing)."""


class RpcError(GatewayError):
    """A gRPC call to the gateway peer failed."""

    step: ClassVar[str] = "gateway call"

    def __init__(
        self,
        *,
        code: grpc.StatusCode,
        message: str,
        details: Sequence[ErrorDetail] = (),
        transaction_id: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        self.transaction_id = transaction_id
        self.timeout = timeout
        super().__init__(self._format())

    def _format(self) -> str:
        subject = f" for transaction {self.transaction_id}" if self.transaction_id else ""
        lines = [f"{self.step} failed{subject}: {self.code.name}: {self.message}"]
        if self.code is grpc.StatusCode.DEADLINE_EXCEEDED and self.timeout is not None:
            lines[0] += f" (timeout {self.timeout:g}s; pass a larger timeout= to retry)"
        elif self.code is grpc.StatusCode.UNAVAILABLE:
            lines[0] += (
                " (gateway peer unreachable: check its address, TLS settings, and that it runs)"
            )
        for detail in self.details:
            lines.append(f"  - {detail}")
        return "\n".join(lines)

    @classmethod
    def from_grpc(
        cls,
        error: grpc.RpcError,
        *,
        transaction_id: str | None = None,
        timeout: float | None = None,
        trailing_metadata: Iterable[tuple[str, str | bytes]] | None = None,
    ) -> RpcError:
        """Convert a ``grpc.RpcError`` (sync or aio) raised by a call."""
        code = _call(error, "code") or grpc.StatusCode.UNKNOWN
        message = _call(error, "details") or str(error)
        metadata = trailing_metadata
        if metadata is None:
            metadata = _call(error, "trailing_metadata")
        return cls(
            code=code,
            message=message,
            details=parse_status_details(metadata),
            transaction_id=transaction_id,
            timeout=timeout,
        )


def _call(obj: object, name: str) -> Any:
    method = getattr(obj, name, None)
    if method is None:
        return None
    try:
        return method()
    except Exception:
        return None


class EvaluateError(RpcError):
    """Evaluating a transaction failed (no peer returned a successful response)."""

    step = "evaluate"


class EndorseError(RpcError):
    """Endorsing a transaction failed (e.g. chaincode error or policy not satisfied)."""

    step = "endorse"


class SubmitError(RpcError):
    """Submitting an endorsed transaction to the ordering service failed."""

    step = "submit"


class CommitStatusError(RpcError):
    """Obtaining the commit status of a submitted transaction failed (e.g. timeout)."""

    step = "commit status"


class EventsError(RpcError):
    """A chaincode or block event stream failed."""

    step = "events"


class CommitError(GatewayError):
    """A submitted transaction was committed to a block but marked invalid."""

    def __init__(
        self, *, transaction_id: str, code: int, code_name: str, block_number: int | None = None
    ) -> None:
        self.transaction_id = transaction_id
        self.code = code
        self.code_name = code_name
        self.block_number = block_number
        where = f" in block {block_number}" if block_number is not None else ""
        hint = ""
        if code_name == "MVCC_READ_CONFLICT":
            hint = "; a concurrent transaction changed a key it read: endorse it again and resubmit"
        elif code_name == "ENDORSEMENT_POLICY_FAILURE":
            hint = "; its endorsements do not satisfy the chaincode's endorsement policy"
        super().__init__(
            f"commit failed: transaction {transaction_id} is invalid{where} "
            f"with validation code {code} ({code_name}){hint}"
        )


# -- google.rpc.Status decoding -------------------------------------------------------------


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _iter_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield ``(field number, value)`` for each field of a serialized protobuf message."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
            yield number, value
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated length-delimited field")
            yield number, data[pos : pos + length]
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")


def _details_from_status_bytes(status: bytes) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for number, value in _iter_fields(status):
        if number != 3 or not isinstance(value, bytes):  # google.rpc.Status.details
            continue
        packed = any_pb2.Any.FromString(value)
        if packed.type_url.rsplit("/", 1)[-1] != "gateway.ErrorDetail":
            continue
        detail = gateway_pb2.ErrorDetail.FromString(packed.value)
        details.append(
            ErrorDetail(address=detail.address, msp_id=detail.msp_id, message=detail.message)
        )
    return details


def parse_status_details(
    metadata: Iterable[tuple[str, str | bytes]] | None,
) -> tuple[ErrorDetail, ...]:
    """Extract the gateway ``ErrorDetail`` entries from a call's trailing metadata.

    Malformed detail payloads are ignored: the error itself still carries the code and the
    gateway's message.
    """
    if not metadata:
        return ()
    details: list[ErrorDetail] = []
    for item in metadata:
        key, value = item
        if key != _STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            details.extend(_details_from_status_bytes(value))
        except Exception:  # noqa: S112 - a malformed trailer must not hide the real error
            continue
    return tuple(details)
