"""Witness rounds against the API in-process: two witnesses follow the log's growth and the
served checkpoint carries both cosignatures (the offline verifier with k=2 accepts it); the
state survives a restart and is on disk before the cosignature leaves; a fork signed with
the real log key raises the alarm, keeps the evidence and stops the witness for good."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from credit_ledger_client import Client, SignedCheckpoint
from credit_ledger_verify import cli as verify_cli
from credit_ledger_verify.merkle import MerkleTree
from credit_ledger_verify.tlog import (
    AddCheckpointRequest,
    Checkpoint,
    CheckpointPolicy,
    CheckpointSignatureError,
    Verdict,
    sign_checkpoint,
    verify_checkpoint,
)
from sqlalchemy import select

from ledger_service.index.log_models import LogCheckpoint, LogCosignature
from ledger_service.index.session import write_session
from ledger_service.tlog.global_log import tree_at
from ledger_service.tlog.witnesses import revoke_witness
from ledger_service.witness import (
    WitnessAlarmed,
    WitnessDir,
    WitnessStateError,
    run_loop,
    run_round,
)
from tests.unit.witness.conftest import NOW, ORIGIN, LogHarness


def _round(client: Client, directory: WitnessDir, seconds: int = 0) -> Verdict:
    return run_round(client, directory, NOW.replace(second=seconds)).decision.verdict


def test_two_witnesses_follow_the_growth_and_k_of_n_accepts_the_served_note(
    harness: LogHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank, bank_client = harness.new_witness("bank-witness")
    regulator, regulator_client = harness.new_witness("regulator-witness")
    harness.grow(5)
    for _ in range(2):  # each witness twice across a growth
        assert _round(bank_client, bank) is Verdict.ACCEPT
        assert _round(regulator_client, regulator) is Verdict.ACCEPT
        latest = harness.grow(3)
    assert _round(bank_client, bank, 1) is Verdict.ACCEPT
    assert _round(regulator_client, regulator, 1) is Verdict.ACCEPT
    assert bank.state_path.read_bytes() == latest.note  # the state is the log-signed note

    served = bank_client.checkpoint()
    assert served.size == 11
    keys = tuple(d.load()[0].key.verifier for d in (bank, regulator))
    policy = CheckpointPolicy(harness.log_key.verifier, keys, 2)
    cosigned = verify_checkpoint(served.note, policy)
    assert sorted(c.name for c in cosigned.cosignatures) == ["bank-witness", "regulator-witness"]

    # the offline verifier's command: k=2 of the two accepts, k=3 of three does not
    files = {"log": harness.log_key.verifier, "bank": keys[0], "regulator": keys[1]}
    for name, key in files.items():
        (tmp_path / f"{name}.pub").write_text(key.encode() + "\n")
    note = served.save(tmp_path / "latest.note")
    args = ["--checkpoint", str(note), "--log-key", str(tmp_path / "log.pub")]
    witnesses = ["--witness-key", str(tmp_path / "bank.pub")]
    witnesses += ["--witness-key", str(tmp_path / "regulator.pub")]
    assert verify_cli.main([*args, *witnesses, "--min-cosignatures", "2"]) == 0
    assert "cosigned by bank-witness, regulator-witness" in capsys.readouterr().out
    other, _ = harness.new_witness("auditor-witness")
    (tmp_path / "other.pub").write_text(other.load()[0].key.verifier.encode())
    three = [*witnesses, "--witness-key", str(tmp_path / "other.pub")]
    assert verify_cli.main([*args, *three, "--min-cosignatures", "3"]) == 1
    assert "checkpoint_signature_invalid: 2 valid witness cosignature(s), 3 required" in (
        capsys.readouterr().out
    )
    assert verify_cli.main([*args, "--witness-key", str(note), "--min-cosignatures", "1"]) == 2

    # a revoked witness's cosignature is no longer served: k=2 then fails
    with write_session(harness.ledger.session_factory) as session:
        revoke_witness(session, "regulator-witness", NOW)
    with pytest.raises(CheckpointSignatureError, match="1 valid witness cosignature"):
        verify_checkpoint(bank_client.checkpoint().note, policy)


class _SubmitFails:
    """The real client, except that the cosignature never reaches the service."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        return self.client.checkpoint(size)

    def consistency_proof(self, old: int, new: int) -> AddCheckpointRequest:
        return self.client.consistency_proof(old, new)

    def submit_cosignature(self, size: int, line: str) -> None:
        raise ConnectionResetError("the process died while sending")


def test_the_state_is_persisted_before_the_cosignature_and_survives_a_restart(
    harness: LogHarness,
) -> None:
    directory, client = harness.new_witness("bank-witness")
    first = harness.grow(4)
    with pytest.raises(ConnectionResetError):
        run_round(_SubmitFails(client), directory, NOW)
    assert directory.state_path.read_bytes() == first.note  # on disk before the send
    assert list(directory.path.glob(".*.tmp")) == []
    with harness.ledger.session_factory() as session:
        assert session.scalars(select(LogCosignature)).all() == []

    harness.grow(6)
    restarted = WitnessDir(Path(str(directory.path)))  # a new process: only the directory
    assert restarted.load()[1] is not None
    assert restarted.load()[1].checkpoint.size == 4  # type: ignore[union-attr]
    result = run_round(client, restarted, NOW)  # proof 4 -> 10, from the persisted state
    assert (result.decision.verdict, result.size) == (Verdict.ACCEPT, 10)
    assert _round(client, restarted) is Verdict.ACCEPT  # nothing new: cosigned again


def test_an_unusable_state_directory_is_refused(harness: LogHarness) -> None:
    directory, client = harness.new_witness("bank-witness")
    with pytest.raises(WitnessStateError, match="already holds a witness"):
        directory.init("bank-witness", harness.log_key.verifier)
    harness.grow(4)
    run_round(client, directory, NOW)
    tampered = directory.state_path.read_bytes().replace(b"\n4\n", b"\n5\n")
    directory.state_path.write_bytes(tampered)
    with pytest.raises(WitnessStateError, match="does not verify under the log key"):
        directory.load()
    os.chmod(directory.key_path, 0o644)
    with pytest.raises(WitnessStateError, match="mode 644; it must be 0600"):
        directory.load()
    with pytest.raises(WitnessStateError, match="run `ledgerctl witness init` first"):
        WitnessDir(directory.path / "nowhere").load()


def _forked_note(harness: LogHarness, size: int) -> tuple[bytes, MerkleTree]:
    """A checkpoint of ``size`` over the log with its third leaf rewritten, signed with the
    real log key: what a compromised log would show one witness."""
    with harness.ledger.session_factory() as session:
        leaves = list(tree_at(session, size).leaf_hashes)
    leaves[2] = hashlib.sha256(b"forked").digest()
    forked = MerkleTree.from_leaf_hashes(leaves)
    return sign_checkpoint(Checkpoint(ORIGIN, size, forked.root), harness.log_key), forked


def test_a_split_view_signed_with_the_real_key_raises_the_alarm_for_good(
    harness: LogHarness,
) -> None:
    directory, client = harness.new_witness("bank-witness")
    honest = harness.grow(8)
    assert _round(client, directory) is Verdict.ACCEPT
    fork, forked = _forked_note(harness, 8)
    with write_session(harness.ledger.session_factory) as session:  # the table now lies
        row = session.get(LogCheckpoint, (ORIGIN, 8))
        assert row is not None
        row.root, row.note = forked.root, fork

    with pytest.raises(WitnessAlarmed, match="split_view"):
        run_round(client, directory, NOW)
    alarm = json.loads(directory.alarm_path.read_text())
    assert alarm["reason"] == "split_view"
    assert alarm["witnessed_note"].encode() == honest.note
    assert alarm["conflicting_note"].encode() == fork
    assert directory.state_path.read_bytes() == honest.note  # the state is kept
    with pytest.raises(WitnessAlarmed, match="until an operator"):
        run_round(client, directory, NOW)  # never cosigns again while the file exists
    with harness.ledger.session_factory() as session:
        lines = session.scalars(select(LogCosignature.line)).all()
    assert len(lines) == 1  # only the honest cosignature (then overwritten: 1 row, 1 line)


class _ServesNote(_SubmitFails):
    """A log that serves ``note`` as its latest checkpoint."""

    def __init__(self, client: Client, note: bytes) -> None:
        super().__init__(client)
        self.note = note

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        return SignedCheckpoint(self.note)


class _ForkedExtension(_ServesNote):
    """A log that extends a fork: its proof is correct for the forked tree only."""

    def __init__(self, client: Client, note: bytes, forked: MerkleTree, old: int) -> None:
        super().__init__(client, note)
        self.forked, self.old = forked, old

    def consistency_proof(self, old: int, new: int) -> AddCheckpointRequest:
        proof = tuple(self.forked.consistency_proof(self.old, new))
        return AddCheckpointRequest(old, proof, self.note)


def test_an_inconsistent_extension_raises_the_alarm(harness: LogHarness) -> None:
    directory, client = harness.new_witness("bank-witness")
    harness.grow(5)
    assert _round(client, directory) is Verdict.ACCEPT
    harness.grow(7)
    fork, forked = _forked_note(harness, 12)
    with pytest.raises(WitnessAlarmed, match="inconsistent_extension"):
        run_round(_ForkedExtension(client, fork, forked, 5), directory, NOW)
    assert json.loads(directory.alarm_path.read_text())["conflicting_note"].encode() == fork


def test_the_loop_stops_on_its_event_and_keeps_going_after_a_failed_round(
    harness: LogHarness,
) -> None:
    directory, client = harness.new_witness("bank-witness")
    stop = threading.Event()
    rounds: list[str] = []

    def one_round() -> object:
        rounds.append("round")
        if len(rounds) == 1:  # the log has no checkpoint yet: NotFound, logged, retried
            return run_round(client, directory, NOW)
        harness.grow(2)
        result = run_round(client, directory, NOW)
        stop.set()  # as SIGTERM would
        return result

    assert run_loop(one_round, interval=0.01, stop=stop, max_rounds=10) == 2  # type: ignore[arg-type]
    assert directory.load()[1] is not None
    assert run_loop(one_round, interval=0.01, stop=threading.Event(), max_rounds=0) == 0  # type: ignore[arg-type]


def test_a_refused_round_keeps_the_state(harness: LogHarness) -> None:
    directory, client = harness.new_witness("bank-witness")
    older = harness.grow(3)
    harness.grow(3)
    assert _round(client, directory) is Verdict.ACCEPT
    result = run_round(_ServesNote(client, older.note), directory, NOW)  # a rollback
    assert (result.decision.verdict, result.decision.reason) == (
        Verdict.REFUSE,
        "smaller_than_witnessed",
    )
    assert directory.load()[1].checkpoint.size == 6  # type: ignore[union-attr]
