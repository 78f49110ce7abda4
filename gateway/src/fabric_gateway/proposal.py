"""Proposal stage: a signed chaincode invocation proposal, to evaluate or endorse."""

from __future__ import annotations

import builtins

from fabric_protos.gateway import gateway_pb2

from ._grpc import AsyncRpc, SyncRpc
from ._protocol import ClientCore, proposal_channel
from .errors import GatewayError
from .transaction import AsyncTransaction, Transaction

__all__ = ["AsyncProposal", "Proposal"]


class _ProposalBase:
    __slots__ = ("_channel", "_core", "_proposed")

    def __init__(
        self,
        *,
        core: ClientCore,
        proposed: gateway_pb2.ProposedTransaction,
        channel: str | None = None,
    ) -> None:
        self._core = core
        self._proposed = proposed
        self._channel = channel or proposal_channel(proposed.proposal.proposal_bytes)

    @property
    def transaction_id(self) -> str:
        return self._proposed.transaction_id

    @property
    def channel_name(self) -> str:
        return self._channel

    @property
    def endorsing_organizations(self) -> tuple[str, ...]:
        return tuple(self._proposed.endorsing_organizations)

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.ProposedTransaction`` (signed if already signed)."""
        return self._proposed.SerializeToString()

    def digest(self) -> builtins.bytes:
        """The bytes to sign offline: the hash of the proposal bytes."""
        return self._core.signing.digest(self._proposed.proposal.proposal_bytes)

    @property
    def signed(self) -> bool:
        return bool(self._proposed.proposal.signature)

    def sign(self) -> None:
        """Sign the proposal now (a no-op if already signed) without sending it."""
        self._signed()

    def _signed(self) -> gateway_pb2.ProposedTransaction:
        if not self._proposed.proposal.signature:
            self._proposed.proposal.signature = self._core.signing.sign(
                self._proposed.proposal.proposal_bytes, "proposal"
            )
        return self._proposed

    def _evaluate_request(self) -> gateway_pb2.EvaluateRequest:
        proposed = self._signed()
        return gateway_pb2.EvaluateRequest(
            transaction_id=proposed.transaction_id,
            channel_id=self._channel,
            proposed_transaction=proposed.proposal,
            target_organizations=proposed.endorsing_organizations,
        )

    def _endorse_request(self) -> gateway_pb2.EndorseRequest:
        proposed = self._signed()
        return gateway_pb2.EndorseRequest(
            transaction_id=proposed.transaction_id,
            channel_id=self._channel,
            proposed_transaction=proposed.proposal,
            endorsing_organizations=proposed.endorsing_organizations,
        )

    def _prepared(self, response: gateway_pb2.EndorseResponse) -> gateway_pb2.PreparedTransaction:
        if not response.HasField("prepared_transaction"):
            raise GatewayError(
                f"endorse of transaction {self.transaction_id} returned no prepared transaction"
            )
        return gateway_pb2.PreparedTransaction(
            transaction_id=self.transaction_id, envelope=response.prepared_transaction
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transaction_id={self.transaction_id!r})"


class Proposal(_ProposalBase):
    """A transaction proposal (blocking API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: SyncRpc,
        proposed: gateway_pb2.ProposedTransaction,
        channel: str | None = None,
    ) -> None:
        super().__init__(core=core, proposed=proposed, channel=channel)
        self._rpc = rpc

    def evaluate(self, *, timeout: float | None = None) -> builtins.bytes:
        """Run the transaction function on one peer without ordering it; returns its result."""
        response = self._rpc.evaluate(
            self._evaluate_request(), timeout=timeout or self._core.timeouts.evaluate
        )
        return response.result.payload

    def endorse(self, *, timeout: float | None = None) -> Transaction:
        """Collect endorsements satisfying the chaincode's policy; returns the transaction."""
        response = self._rpc.endorse(
            self._endorse_request(), timeout=timeout or self._core.timeouts.endorse
        )
        return Transaction(core=self._core, rpc=self._rpc, prepared=self._prepared(response))


class AsyncProposal(_ProposalBase):
    """A transaction proposal (asyncio API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: AsyncRpc,
        proposed: gateway_pb2.ProposedTransaction,
        channel: str | None = None,
    ) -> None:
        super().__init__(core=core, proposed=proposed, channel=channel)
        self._rpc = rpc

    async def evaluate(self, *, timeout: float | None = None) -> builtins.bytes:
        """Run the transaction function on one peer without ordering it; returns its result."""
        response = await self._rpc.evaluate(
            self._evaluate_request(), timeout=timeout or self._core.timeouts.evaluate
        )
        return response.result.payload

    async def endorse(self, *, timeout: float | None = None) -> AsyncTransaction:
        """Collect endorsements satisfying the chaincode's policy; returns the transaction."""
        response = await self._rpc.endorse(
            self._endorse_request(), timeout=timeout or self._core.timeouts.endorse
        )
        return AsyncTransaction(core=self._core, rpc=self._rpc, prepared=self._prepared(response))
