"""Anchor a checkpoint of the global log on demand (tests, the golden-data generator and the
benchmark): one round of the service's own checkpointer
(:meth:`ledger_service.anchoring.checkpointer.Checkpointer.run_once` — sync the mirror, sign
the log's head, anchor it with the consistency proof from the chain's anchored head), then
the chain's anchored head.
"""

from __future__ import annotations

from credit_ledger_verify.onchain_tlog import CheckpointValue
from fabric_gateway import Gateway

from ledger_service.context import LedgerContext
from ledger_service.fabric.checkpoints import CheckpointChainError

__all__ = ["anchor_checkpoint"]


def anchor_checkpoint(context: LedgerContext, gateway: Gateway) -> CheckpointValue:
    """Bring the global log to the chain's end and anchor its signed head (nothing new: the
    head stays); the anchored head's value.

    Raises:
        CheckpointRefusedError: the chaincode refused the checkpoint (e.g. another log key is
            registered, or the chain's head is not a prefix of this index's log).
        CheckpointChainError: no checkpoint is anchored (an empty log).
    """
    context.checkpointer(gateway).run_once()
    head = context.anchored_checkpoints(gateway).head()
    if head is None:
        raise CheckpointChainError("no checkpoint is anchored: the global log is empty")
    return head
