"""The global log's anchored checkpoints as the chain holds them (``GetCheckpoint``,
``AnchorCheckpoint``) and the block a checkpoint's transaction is in (``qscc
GetBlockByTxID``) — read and written through the Fabric Gateway.

Only the chain is asked: the compact evidence builder finds the newest anchored checkpoint and
its transaction here, never in an index table.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from credit_ledger_verify.onchain import OnChainFormatError, RefusalCode, parse_refusal
from credit_ledger_verify.onchain_tlog import CheckpointValue, decode_checkpoint_value
from fabric_gateway import Gateway, GatewayError

from ledger_service.errors import LedgerError

__all__ = ["AnchoredCheckpoints", "CheckpointChainError", "GatewayAnchoredCheckpoints"]


class CheckpointChainError(LedgerError):
    """The chain's anchored checkpoint could not be read or written (a refusal, a value that
    does not decode, a block the peer does not return)."""

    code: ClassVar[str] = "checkpoint_chain"


class AnchoredCheckpoints(Protocol):
    """What the compact evidence builder asks the chain."""

    def head(self) -> CheckpointValue | None:
        """The newest anchored checkpoint (``None``: none anchored yet)."""
        ...

    def block_of_transaction(self, tx_id: str) -> bytes:
        """The serialized block holding transaction ``tx_id``."""
        ...


class GatewayAnchoredCheckpoints:
    """:class:`AnchoredCheckpoints` through a blocking gateway (reads are evaluated on the
    gateway peer; anchoring is the checkpointer's, ``anchoring.checkpointer``)."""

    def __init__(self, gateway: Gateway, channel: str, chaincode: str) -> None:
        network = gateway.get_network(channel)
        self._channel = channel
        self._contract = network.get_contract(chaincode)
        self._qscc = network.get_contract("qscc")

    def head(self) -> CheckpointValue | None:
        try:
            raw = self._contract.evaluate("GetCheckpoint", args=["head"])
        except GatewayError as exc:
            code, _ = parse_refusal(str(exc))
            if code is RefusalCode.NOT_FOUND:
                return None
            raise CheckpointChainError(f"GetCheckpoint(head) failed: {exc}") from None
        return _decode(raw)

    def block_of_transaction(self, tx_id: str) -> bytes:
        try:
            return self._qscc.evaluate("GetBlockByTxID", args=[self._channel, tx_id])
        except GatewayError as exc:
            raise CheckpointChainError(f"no block for transaction {tx_id}: {exc}") from None


def _decode(raw: bytes) -> CheckpointValue:
    try:
        return decode_checkpoint_value(raw)
    except OnChainFormatError as exc:
        raise CheckpointChainError(f"the chain's checkpoint value does not decode: {exc}") from None
