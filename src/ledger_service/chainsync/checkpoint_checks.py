"""Reconcile's monitoring of the anchored checkpoints (``chain_checkpoints``) against the
global log recomputed from the mirrored batches.

The log is recomputed here from scratch — every mirrored leaf in commit order, streamed,
O(log N) memory — never from the checkpointer's own cached state (``global_log_state``,
``log_subtrees``), so a cache that went wrong cannot vouch for itself. Then, per anchored
checkpoint in size order:

=============================  ==============================================================
kind                           meaning
=============================  ==============================================================
checkpoint_root_mismatch       the anchored root ≠ the recomputed log's root at that size
checkpoint_beyond_log          the mirror holds fewer leaves than the checkpoint's size
checkpoint_signature_invalid   the note is not a checkpoint signed by the log key, or it names
                               another size or root than the anchored value
checkpoint_chain_broken        ``prev_size`` is not the size of the anchored checkpoint
                               before it (0 for the first): a checkpoint that did not extend
                               its predecessor
=============================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Iterator

from credit_ledger_verify.merkle import commitment_leaf_hash
from credit_ledger_verify.tlog import (
    CheckpointError,
    CheckpointPolicy,
    NoteKeyError,
    VerifierKey,
    verify_checkpoint,
)
from sqlalchemy import Connection, select

from ledger_service.chainsync.mismatch import Mismatch, MismatchKind
from ledger_service.index.chain_models import ChainCheckpoint
from ledger_service.tlog.global_log import CompactRange, mirror_leaves

__all__ = ["checkpoint_mismatches"]


def _mismatch(kind: MismatchKind, size: int, index: str | None, chain: str | None) -> Mismatch:
    return Mismatch(kind, None, None, index, chain, checkpoint_size=size)


def checkpoint_mismatches(
    conn: Connection, log_key: VerifierKey | None, chunk: int = 10_000
) -> Iterator[Mismatch]:
    """Every mismatch of the mirrored anchored checkpoints (signatures are checked only with
    ``log_key``: the platform's log verifier key)."""
    anchored = conn.execute(select(ChainCheckpoint).order_by(ChainCheckpoint.size)).all()
    if not anchored:
        return
    policy = CheckpointPolicy(log_key) if log_key is not None else None
    previous = 0
    for row in anchored:
        if row.prev_size != previous:
            yield _mismatch(
                MismatchKind.CHECKPOINT_CHAIN_BROKEN, row.size, str(previous), str(row.prev_size)
            )
        previous = row.size
        if policy is not None:
            problem = _note_problem(bytes(row.note), policy, row.size, bytes(row.root))
            if problem is not None:
                yield _mismatch(MismatchKind.CHECKPOINT_SIGNATURE_INVALID, row.size, None, problem)
    yield from _roots(conn, [(r.size, bytes(r.root)) for r in anchored], chunk)


def _note_problem(note: bytes, policy: CheckpointPolicy, size: int, root: bytes) -> str | None:
    try:
        checkpoint = verify_checkpoint(note, policy).checkpoint
    except (CheckpointError, NoteKeyError) as exc:
        return f"{exc.code}: {exc}"
    if (checkpoint.size, checkpoint.root) != (size, root):
        return f"note names size {checkpoint.size} root {checkpoint.root.hex()}"
    return None


def _roots(conn: Connection, wanted: list[tuple[int, bytes]], chunk: int) -> Iterator[Mismatch]:
    compact = CompactRange()
    pending = iter(wanted)
    size, root = next(pending)
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(mirror_leaves())
    done = False
    for leaf in result:
        compact.append(commitment_leaf_hash(bytes(leaf.commitment)))
        while compact.size == size:
            recomputed = compact.root()
            if recomputed != root:
                yield _mismatch(
                    MismatchKind.CHECKPOINT_ROOT_MISMATCH, size, recomputed.hex(), root.hex()
                )
            following = next(pending, None)
            if following is None:
                done = True
                break
            size, root = following
        if done:
            break
    result.close()
    if not done:
        held = compact.size
        yield _mismatch(MismatchKind.CHECKPOINT_BEYOND_LOG, size, str(held), root.hex())
        for size, root in pending:
            yield _mismatch(MismatchKind.CHECKPOINT_BEYOND_LOG, size, str(held), root.hex())
