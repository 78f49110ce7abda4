"""The global log's checkpoints through the SDK (sync and async): the signed note as served,
the consistency proof as a tlog-witness request, and a cosignature refused by role. The
in-process service gets a network description (channel and chaincode name its log) and a
checkpoint of the empty log (no Fabric is reached)."""

from __future__ import annotations

import datetime as dt

import pytest
from credit_ledger_client import Forbidden, NotFound
from credit_ledger_verify.merkle import EMPTY_ROOT
from credit_ledger_verify.tlog import CheckpointPolicy, verify_checkpoint
from sdk_testutil import InProcessLedger

from ledger_service.index.session import write_session
from ledger_service.ops.topology import Topology
from ledger_service.tlog.checkpoints import (
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)


@pytest.fixture
def log_key_and_note(ledger: InProcessLedger) -> tuple[CheckpointPolicy, bytes]:
    state_dir = ledger.context.config.state_dir
    Topology(state_dir=str(state_dir), base_port=0).save()
    key = load_or_create_log_key(state_dir, platform_origin("ledger", "ledger"))
    with write_session(ledger.context.session_factory) as session:
        issued = issue_checkpoint(session, key, dt.datetime.now(dt.UTC))
    return CheckpointPolicy(key.verifier), issued.note


def test_checkpoint_and_proof(
    ledger: InProcessLedger, log_key_and_note: tuple[CheckpointPolicy, bytes]
) -> None:
    policy, note = log_key_and_note
    with ledger.client("verifier") as bank:
        latest = bank.checkpoint()
        assert latest.note == note
        assert (latest.size, latest.checkpoint.root) == (0, EMPTY_ROOT)
        assert verify_checkpoint(bank.checkpoint(0).note, policy).checkpoint.size == 0
        proof = bank.consistency_proof(0, 0)
        assert (proof.old_size, proof.proof, proof.note) == (0, (), note)
        with pytest.raises(NotFound, match="no checkpoint of size 1"):
            bank.checkpoint(1)
        with pytest.raises(ValueError, match="tree size"):
            bank.checkpoint(-1)
        with pytest.raises(Forbidden, match="submit_cosignature"):
            bank.submit_cosignature(0, "— bank AAAA")


async def test_async_checkpoint_and_proof(
    ledger: InProcessLedger, log_key_and_note: tuple[CheckpointPolicy, bytes]
) -> None:
    _, note = log_key_and_note
    async with ledger.async_client("witness") as witness:
        assert (await witness.checkpoint()).note == note
        assert (await witness.consistency_proof(0, 0)).note == note
