"""Commit stage: wait for a submitted transaction to be committed and report its status."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from ._grpc import AsyncRpc, SyncRpc
from ._protocol import ClientCore, validation_code_name
from .errors import CommitError

__all__ = ["AsyncCommit", "Commit", "Status"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """Commit status of a transaction: validation code and the block it is in."""

    transaction_id: str
    code: int
    """``protos.TxValidationCode`` value (``0`` is ``VALID``)."""
    code_name: str
    """Name of the validation code, e.g. ``"VALID"`` or ``"MVCC_READ_CONFLICT"``."""
    block_number: int

    @property
    def successful(self) -> bool:
        """Whether the transaction was committed as valid (its writes applied)."""
        return self.code == transaction_pb2.VALID

    def raise_for_status(self) -> Status:
        """Raise :class:`~fabric_gateway.CommitError` unless successful; return self."""
        if not self.successful:
            raise CommitError(
                transaction_id=self.transaction_id,
                code=self.code,
                code_name=self.code_name,
                block_number=self.block_number,
            )
        return self


class _CommitBase:
    __slots__ = ("_core", "_request", "_transaction_id")

    def __init__(
        self,
        *,
        core: ClientCore,
        request: gateway_pb2.SignedCommitStatusRequest,
        transaction_id: str,
    ) -> None:
        self._core = core
        self._request = request
        self._transaction_id = transaction_id

    @property
    def transaction_id(self) -> str:
        return self._transaction_id

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.SignedCommitStatusRequest`` (signed if already signed)."""
        return self._request.SerializeToString()

    def digest(self) -> builtins.bytes:
        """The bytes to sign offline for this commit status request."""
        return self._core.signing.digest(self._request.request)

    @property
    def signed(self) -> bool:
        return bool(self._request.signature)

    def sign(self) -> None:
        """Sign the request now (a no-op if already signed) without sending it."""
        self._signed_request()

    def _signed_request(self) -> gateway_pb2.SignedCommitStatusRequest:
        if not self._request.signature:
            self._request.signature = self._core.signing.sign(
                self._request.request, "commit status request"
            )
        return self._request

    def _status(self, response: gateway_pb2.CommitStatusResponse) -> Status:
        return Status(
            transaction_id=self._transaction_id,
            code=response.result,
            code_name=validation_code_name(response.result),
            block_number=response.block_number,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transaction_id={self._transaction_id!r})"


class Commit(_CommitBase):
    """A submitted transaction whose commit status can be awaited (blocking API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: SyncRpc,
        request: gateway_pb2.SignedCommitStatusRequest,
        transaction_id: str,
    ) -> None:
        super().__init__(core=core, request=request, transaction_id=transaction_id)
        self._rpc = rpc

    def status(self, *, timeout: float | None = None) -> Status:
        """Block until the transaction is committed and return its status.

        Does not raise for an invalid transaction (check :attr:`Status.successful`); raises
        :class:`~fabric_gateway.CommitStatusError` if the status cannot be obtained in time.
        """
        response = self._rpc.commit_status(
            self._signed_request(),
            transaction_id=self._transaction_id,
            timeout=timeout or self._core.timeouts.commit_status,
        )
        return self._status(response)


class AsyncCommit(_CommitBase):
    """A submitted transaction whose commit status can be awaited (asyncio API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: AsyncRpc,
        request: gateway_pb2.SignedCommitStatusRequest,
        transaction_id: str,
    ) -> None:
        super().__init__(core=core, request=request, transaction_id=transaction_id)
        self._rpc = rpc

    async def status(self, *, timeout: float | None = None) -> Status:
        """Wait for the commit and return its status (see :meth:`Commit.status`)."""
        response = await self._rpc.commit_status(
            self._signed_request(),
            transaction_id=self._transaction_id,
            timeout=timeout or self._core.timeouts.commit_status,
        )
        return self._status(response)
