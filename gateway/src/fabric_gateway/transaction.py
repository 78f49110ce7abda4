"""Transaction stage: an endorsed transaction, ready to sign and submit for ordering."""

from __future__ import annotations

import builtins

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2

from ._grpc import AsyncRpc, SyncRpc
from ._protocol import ClientCore, new_commit_status_request, parse_prepared_envelope
from .commit import AsyncCommit, Commit
from .errors import GatewayError

__all__ = ["AsyncTransaction", "Transaction"]


class _TransactionBase:
    __slots__ = ("_channel", "_core", "_prepared", "_result")

    def __init__(self, *, core: ClientCore, prepared: gateway_pb2.PreparedTransaction) -> None:
        info = parse_prepared_envelope(prepared.envelope)
        if info.transaction_id != prepared.transaction_id:
            raise GatewayError(
                f"prepared transaction id {prepared.transaction_id!r} does not match its "
                f"envelope's {info.transaction_id!r}"
            )
        self._core = core
        self._prepared = prepared
        self._channel = info.channel
        self._result = info.result

    @property
    def transaction_id(self) -> str:
        return self._prepared.transaction_id

    @property
    def channel_name(self) -> str:
        return self._channel

    @property
    def result(self) -> builtins.bytes:
        """The chaincode response payload returned by the endorsing peers."""
        return self._result

    @property
    def signed(self) -> bool:
        return bool(self._prepared.envelope.signature)

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.PreparedTransaction`` (transaction id + envelope).

        Persist it (after signing, see :meth:`sign`) to resubmit the *same* transaction later
        with :meth:`Gateway.new_transaction <fabric_gateway.Gateway.new_transaction>`.
        """
        return self._prepared.SerializeToString()

    def digest(self) -> builtins.bytes:
        """The bytes to sign offline: the hash of the envelope payload."""
        return self._core.signing.digest(self._prepared.envelope.payload)

    def sign(self) -> None:
        """Sign the envelope now (a no-op if already signed) without submitting it."""
        if not self._prepared.envelope.signature:
            self._prepared.envelope.signature = self._core.signing.sign(
                self._prepared.envelope.payload, "transaction envelope"
            )

    @property
    def envelope(self) -> common_pb2.Envelope:
        """A copy of the transaction's ``common.Envelope`` (signed once signed)."""
        copy = common_pb2.Envelope()
        copy.CopyFrom(self._prepared.envelope)
        return copy

    def envelope_bytes(self) -> builtins.bytes:
        """Serialized signed ``common.Envelope``, exactly as it is ordered and stored in a block."""
        self.sign()
        return self._prepared.envelope.SerializeToString()

    def _submit_request(self) -> gateway_pb2.SubmitRequest:
        self.sign()
        return gateway_pb2.SubmitRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel,
            prepared_transaction=self._prepared.envelope,
        )

    def _commit_request(self) -> gateway_pb2.SignedCommitStatusRequest:
        return new_commit_status_request(
            channel=self._channel,
            transaction_id=self.transaction_id,
            creator=self._core.signing.creator,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transaction_id={self.transaction_id!r})"


class Transaction(_TransactionBase):
    """An endorsed transaction (blocking API).

    Resubmission: submitting again a transaction that was already committed is safe. The
    ordering service accepts the copy, peers mark that later copy ``DUPLICATE_TXID`` without
    applying it, and :meth:`Commit.status` keeps reporting the *first* commit (its block
    number and validation code). So after a crash, resubmit the persisted transaction and
    read its status: no separate "already committed" error needs handling.
    """

    __slots__ = ("_rpc",)

    def __init__(
        self, *, core: ClientCore, rpc: SyncRpc, prepared: gateway_pb2.PreparedTransaction
    ) -> None:
        super().__init__(core=core, prepared=prepared)
        self._rpc = rpc

    def submit(self, *, timeout: float | None = None) -> Commit:
        """Sign (if needed) and send to the ordering service; returns without waiting for commit."""
        self._rpc.submit(self._submit_request(), timeout=timeout or self._core.timeouts.submit)
        return self.commit()

    def commit(self) -> Commit:
        """The :class:`Commit` of this transaction, without submitting it."""
        return Commit(
            core=self._core,
            rpc=self._rpc,
            request=self._commit_request(),
            transaction_id=self.transaction_id,
        )


class AsyncTransaction(_TransactionBase):
    """An endorsed transaction (asyncio API); see :class:`Transaction`."""

    __slots__ = ("_rpc",)

    def __init__(
        self, *, core: ClientCore, rpc: AsyncRpc, prepared: gateway_pb2.PreparedTransaction
    ) -> None:
        super().__init__(core=core, prepared=prepared)
        self._rpc = rpc

    async def submit(self, *, timeout: float | None = None) -> AsyncCommit:
        """Sign (if needed) and send to the ordering service; returns without waiting for commit."""
        await self._rpc.submit(
            self._submit_request(), timeout=timeout or self._core.timeouts.submit
        )
        return self.commit()

    def commit(self) -> AsyncCommit:
        """The :class:`AsyncCommit` of this transaction, without submitting it."""
        return AsyncCommit(
            core=self._core,
            rpc=self._rpc,
            request=self._commit_request(),
            transaction_id=self.transaction_id,
        )
