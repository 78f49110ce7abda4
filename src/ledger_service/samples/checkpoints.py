"""Anchor a checkpoint of the global log by hand (tests, the golden-data generator and the
benchmark; the service's periodic checkpointer is separate and not used here).

One call: replay the chain into the index's mirror (the global log is computed from it), issue
and sign the checkpoint of its head with the log key of the network's state directory
(:mod:`ledger_service.tlog.checkpoints`), and submit ``AnchorCheckpoint`` with the
consistency proof from the chain's anchored head — unless the head already has that size.
"""

from __future__ import annotations

import datetime as dt

from credit_ledger_verify.onchain_tlog import CheckpointValue, encode_anchor_checkpoint
from fabric_gateway import Gateway

from ledger_service.context import LedgerContext
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.fabric.checkpoints import GatewayAnchoredCheckpoints
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import (
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)
from ledger_service.tlog.global_log import LogView

__all__ = ["anchor_checkpoint"]


def anchor_checkpoint(context: LedgerContext, gateway: Gateway) -> CheckpointValue:
    """Bring the global log to the chain's end and anchor its signed head; the anchored value.

    Raises:
        CheckpointChainError: the chaincode refused the checkpoint (e.g. another log key is
            registered, or the chain's head is not a prefix of this index's log).
    """
    target = context.fabric_target
    context.replay(DeliverBlockStream(gateway, target.channel))
    key = load_or_create_log_key(
        context.config.state_dir, platform_origin(target.channel, target.chaincode)
    )
    chain = GatewayAnchoredCheckpoints(gateway, target.channel, target.chaincode)
    with write_session(context.session_factory) as session:
        issued = issue_checkpoint(session, key, dt.datetime.now(dt.UTC))
        head = chain.head()
        previous = 0 if head is None else head.size
        if head is not None and head.size == issued.checkpoint.size:
            return head
        view = LogView(session, issued.checkpoint.origin)
        proof = view.consistency_proof(previous, issued.checkpoint.size)
    argument = encode_anchor_checkpoint(
        issued.note.decode(), previous, proof, key.verifier.encode()
    )
    return chain.anchor(argument)
