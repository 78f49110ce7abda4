"""Whether the ledger holds a transaction id, and how it was validated (``qscc
GetBlockByTxID``): how the anchoring worker and the checkpointer settle a transaction they
may have sent before a crash."""

from __future__ import annotations

from credit_ledger_verify.fabric import blocks
from fabric_gateway import GatewayError
from fabric_protos.common import common_pb2

__all__ = ["is_tx_not_found", "tx_status_in_block"]


def is_tx_not_found(exc: GatewayError) -> bool:
    """Whether ``GetBlockByTxID`` failed because no block holds the transaction id."""
    text = str(exc).lower()
    return "not found" in text or "no such transaction" in text


def tx_status_in_block(raw_block: bytes, tx_id: str) -> tuple[str, int] | None:
    """(validation code name, block number) of ``tx_id`` in the block ``GetBlockByTxID``
    returned; ``None`` if it is not there with a validation code."""
    block = common_pb2.Block()
    block.ParseFromString(raw_block)
    info = blocks.parse_block(block)
    for tx in info.transactions:
        if tx.transaction_id == tx_id and tx.validation_code is not None:
            return blocks.validation_code_name(tx.validation_code), info.number
    return None
