"""Contract stage: invoke the transaction functions of one chaincode (and contract)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fabric_protos.gateway import gateway_pb2

from ._grpc import AsyncRpc, SyncRpc
from ._protocol import Arg, ClientCore, new_proposed_transaction
from .proposal import AsyncProposal, Proposal

__all__ = ["AsyncContract", "Contract"]


class _ContractBase:
    __slots__ = ("_chaincode", "_channel", "_contract", "_core")

    def __init__(
        self, *, core: ClientCore, channel: str, chaincode_name: str, contract_name: str | None
    ) -> None:
        if not chaincode_name:
            raise ValueError("chaincode name must not be empty")
        self._core = core
        self._channel = channel
        self._chaincode = chaincode_name
        self._contract = contract_name or None

    @property
    def chaincode_name(self) -> str:
        return self._chaincode

    @property
    def contract_name(self) -> str | None:
        return self._contract

    @property
    def channel_name(self) -> str:
        return self._channel

    def transaction_name(self, function: str) -> str:
        """Qualified function name sent to the chaincode (``contract:function`` if named)."""
        return f"{self._contract}:{function}" if self._contract else function

    def _proposed(
        self,
        function: str,
        args: Sequence[Arg],
        transient: Mapping[str, bytes] | None,
        endorsing_organizations: Sequence[str] | None,
    ) -> gateway_pb2.ProposedTransaction:
        if isinstance(args, str | bytes):
            raise TypeError("args must be a sequence of arguments, not a single str/bytes")
        return new_proposed_transaction(
            self._core.signing,
            channel=self._channel,
            chaincode=self._chaincode,
            transaction_name=self.transaction_name(function),
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(channel={self._channel!r}, chaincode={self._chaincode!r}, "
            f"contract={self._contract!r})"
        )


class Contract(_ContractBase):
    """A chaincode on a channel (blocking API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: SyncRpc,
        channel: str,
        chaincode_name: str,
        contract_name: str | None = None,
    ) -> None:
        super().__init__(
            core=core, channel=channel, chaincode_name=chaincode_name, contract_name=contract_name
        )
        self._rpc = rpc

    def new_proposal(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
    ) -> Proposal:
        """Build (but neither sign nor send) a proposal to invoke ``function``."""
        return Proposal(
            core=self._core,
            rpc=self._rpc,
            proposed=self._proposed(function, args, transient, endorsing_organizations),
            channel=self._channel,
        )

    def evaluate(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Evaluate a query on one peer; returns the chaincode's response payload."""
        proposal = self.new_proposal(
            function,
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        return proposal.evaluate(timeout=timeout)

    def submit(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
        commit_status_timeout: float | None = None,
    ) -> bytes:
        """Endorse, submit and wait for commit; returns the chaincode's response payload.

        Raises :class:`~fabric_gateway.EndorseError`, :class:`~fabric_gateway.SubmitError`,
        :class:`~fabric_gateway.CommitStatusError`, or :class:`~fabric_gateway.CommitError`
        when the transaction was committed as invalid.
        """
        proposal = self.new_proposal(
            function,
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        transaction = proposal.endorse(timeout=endorse_timeout)
        commit = transaction.submit(timeout=submit_timeout)
        commit.status(timeout=commit_status_timeout).raise_for_status()
        return transaction.result


class AsyncContract(_ContractBase):
    """A chaincode on a channel (asyncio API)."""

    __slots__ = ("_rpc",)

    def __init__(
        self,
        *,
        core: ClientCore,
        rpc: AsyncRpc,
        channel: str,
        chaincode_name: str,
        contract_name: str | None = None,
    ) -> None:
        super().__init__(
            core=core, channel=channel, chaincode_name=chaincode_name, contract_name=contract_name
        )
        self._rpc = rpc

    def new_proposal(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
    ) -> AsyncProposal:
        """Build (but neither sign nor send) a proposal to invoke ``function``."""
        return AsyncProposal(
            core=self._core,
            rpc=self._rpc,
            proposed=self._proposed(function, args, transient, endorsing_organizations),
            channel=self._channel,
        )

    async def evaluate(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Evaluate a query on one peer; returns the chaincode's response payload."""
        proposal = self.new_proposal(
            function,
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        return await proposal.evaluate(timeout=timeout)

    async def submit(
        self,
        function: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
        commit_status_timeout: float | None = None,
    ) -> bytes:
        """Endorse, submit and wait for commit (see :meth:`Contract.submit`)."""
        proposal = self.new_proposal(
            function,
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        transaction = await proposal.endorse(timeout=endorse_timeout)
        commit = await transaction.submit(timeout=submit_timeout)
        (await commit.status(timeout=commit_status_timeout)).raise_for_status()
        return transaction.result
