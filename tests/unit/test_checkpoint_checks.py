"""Reconcile's checks of anchored checkpoints against the global log recomputed from the
mirror (SQLite and PostgreSQL), and the checkpointer's pure parts (refusal → named error,
settings from the environment)."""

from __future__ import annotations

import pytest
from credit_ledger_verify.merkle import build_tree
from credit_ledger_verify.onchain import RefusalCode
from credit_ledger_verify.tlog import Checkpoint, SignerKey, sign_checkpoint
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring.checkpointer import (
    CheckpointerSettings,
    CheckpointForkError,
    CheckpointGapError,
    CheckpointInconsistentError,
    CheckpointRefusedError,
    CheckpointSignatureRefusedError,
    CheckpointSmallerError,
    LogKeyMismatchError,
    refusal_error,
)
from ledger_service.chainsync.checkpoint_checks import checkpoint_mismatches
from ledger_service.chainsync.mismatch import MismatchKind
from ledger_service.index.chain_models import ChainCheckpoint
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import platform_origin
from tests.db.fixtures import IndexDatabase
from tests.unit.test_global_log import ORIGIN, _mirror_batch

KEY = SignerKey.generate(ORIGIN)


def _anchor(
    sessions: sessionmaker[Session],
    size: int,
    prev_size: int,
    root: bytes,
    key: SignerKey = KEY,
    note_root: bytes | None = None,
) -> None:
    note = sign_checkpoint(Checkpoint(key.name, size, note_root or root), key)
    with write_session(sessions) as s:
        s.add(
            ChainCheckpoint(
                size=size,
                root=root,
                prev_size=prev_size,
                note=note,
                tx_id=f"tx-cp-{size}",
                block_number=100 + size,
                tx_index=0,
                creator_msp="PlatformMSP",
                ts="2026-11-30T04:00:00Z",
            )
        )


def _kinds(sessions: sessionmaker[Session], with_key: bool = True) -> list[tuple[str, int]]:
    with sessions() as s:
        found = checkpoint_mismatches(s.connection(), KEY.verifier if with_key else None)
        return [(m.kind.value, m.checkpoint_size or 0) for m in found]


def _log(sessions: sessionmaker[Session]) -> list[bytes]:
    leaves = _mirror_batch(sessions, "cp-a", 3, 0, 6) + _mirror_batch(sessions, "cp-b", 4, 0, 7)
    return [leaf.commitment for leaf in leaves]


def test_consistent_anchored_checkpoints_have_no_mismatch(index_db: IndexDatabase) -> None:
    sessions = index_db.session_factory
    tree = build_tree(_log(sessions))
    _anchor(sessions, 6, 0, tree.root_at(6))
    _anchor(sessions, 13, 6, tree.root_at(13))
    assert _kinds(sessions) == []


def test_each_kind_of_checkpoint_mismatch_is_named(index_db: IndexDatabase) -> None:
    sessions = index_db.session_factory
    tree = build_tree(_log(sessions))
    other = SignerKey.generate(ORIGIN)
    _anchor(sessions, 2, 0, tree.root_at(2))
    _anchor(sessions, 5, 2, tree.root_at(4))  # another root than the log's at 5
    _anchor(sessions, 7, 3, tree.root_at(7))  # does not extend 5
    _anchor(sessions, 9, 7, tree.root_at(9), key=other)  # signed by another key
    _anchor(sessions, 10, 9, tree.root_at(10), note_root=tree.root_at(9))  # note ≠ value
    _anchor(sessions, 20, 10, b"\x07" * 32)  # the mirror holds 13 leaves
    assert sorted(_kinds(sessions)) == sorted(
        [
            ("checkpoint_root_mismatch", 5),
            ("checkpoint_chain_broken", 7),
            ("checkpoint_signature_invalid", 9),
            ("checkpoint_signature_invalid", 10),
            ("checkpoint_beyond_log", 20),
        ]
    )
    # without the log key only the roots and the succession are checked
    assert {k for k, _ in _kinds(sessions, with_key=False)} == {
        MismatchKind.CHECKPOINT_ROOT_MISMATCH.value,
        MismatchKind.CHECKPOINT_CHAIN_BROKEN.value,
        MismatchKind.CHECKPOINT_BEYOND_LOG.value,
    }


@pytest.mark.parametrize(
    ("code", "cls", "alarm"),
    [
        (RefusalCode.CHECKPOINT_FORK, CheckpointForkError, True),
        (RefusalCode.CHECKPOINT_INCONSISTENT, CheckpointInconsistentError, True),
        (RefusalCode.CHECKPOINT_SIGNATURE, CheckpointSignatureRefusedError, True),
        (RefusalCode.LOG_KEY_MISMATCH, LogKeyMismatchError, True),
        (RefusalCode.CHECKPOINT_GAP, CheckpointGapError, False),
        (RefusalCode.CHECKPOINT_SMALLER, CheckpointSmallerError, False),
        (RefusalCode.NOT_WRITER, CheckpointRefusedError, True),
    ],
)
def test_refusal_codes_map_to_named_errors(
    code: RefusalCode, cls: type[CheckpointRefusedError], alarm: bool
) -> None:
    message = f"endorse: chaincode response 500, [{code.value}] the text"
    error = refusal_error(message)
    assert type(error) is cls
    assert error.refusal == code
    assert error.alarm is alarm
    assert "the text" in str(error)


def test_settings_from_the_environment() -> None:
    assert CheckpointerSettings.from_env({"LEDGER_CHECKPOINTS": "off"}) is None
    default = CheckpointerSettings.from_env({})
    assert default is not None
    assert default.interval == 5.0
    fast = CheckpointerSettings.from_env(
        {"LEDGER_CHECKPOINT_INTERVAL": "0.5", "LEDGER_CHECKPOINT_LEAVES": "10"}
    )
    assert fast == CheckpointerSettings(interval=0.5, leaves=10, poll=0.5)
    with pytest.raises(ValueError, match="LEDGER_CHECKPOINTS must be 'on' or 'off'"):
        CheckpointerSettings.from_env({"LEDGER_CHECKPOINTS": "maybe"})
    with pytest.raises(ValueError, match="LEDGER_CHECKPOINT_INTERVAL must be a number"):
        CheckpointerSettings.from_env({"LEDGER_CHECKPOINT_INTERVAL": "soon"})
    with pytest.raises(ValueError, match="interval and poll must be > 0"):
        CheckpointerSettings.from_env({"LEDGER_CHECKPOINT_INTERVAL": "0"})
    assert platform_origin("ledger", "ledger") == ORIGIN
