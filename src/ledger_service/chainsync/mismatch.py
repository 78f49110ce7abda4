"""What reconcile reports: the kinds of mismatch between the index and the chain, one
mismatch, and the summary of a run (the checks themselves are in :mod:`.reconcile`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["INFO_KINDS", "Mismatch", "MismatchKind", "ReconcileSummary"]


class MismatchKind(StrEnum):
    CONTENT_ALTERED = "content_altered"
    CONTENT_MISSING = "content_missing"
    MISSING_FROM_INDEX = "missing_from_index"
    NOT_ON_CHAIN = "not_on_chain"
    ANCHOR_MISSING = "anchor_missing"
    WRONG_BATCH = "wrong_batch"
    WRONG_LEAF_INDEX = "wrong_leaf_index"
    WRONG_TX_ID = "wrong_tx_id"
    WRONG_BLOCK_NUMBER = "wrong_block_number"
    WRONG_BATCH_STATE = "wrong_batch_state"
    COMMITMENT_MISMATCH = "commitment_mismatch"
    BATCH_ROOT_MISMATCH = "batch_root_mismatch"
    BATCH_SIZE_MISMATCH = "batch_size_mismatch"
    BATCH_NOT_ON_CHAIN = "batch_not_on_chain"
    CHAIN_ROOT_INCONSISTENT = "chain_root_inconsistent"
    CHECKPOINT_ROOT_MISMATCH = "checkpoint_root_mismatch"
    CHECKPOINT_BEYOND_LOG = "checkpoint_beyond_log"
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint_signature_invalid"
    CHECKPOINT_CHAIN_BROKEN = "checkpoint_chain_broken"
    ERASED = "erased"
    ANCHORING_IN_PROGRESS = "anchoring_in_progress"


#: Kinds that are facts, not tampering.
INFO_KINDS = frozenset({MismatchKind.ERASED, MismatchKind.ANCHORING_IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: MismatchKind
    #: the record concerned (``None`` for batch-level kinds)
    record_id: str | None
    batch_id: str | None
    index_value: str | None
    chain_value: str | None
    #: the chain commitment concerned (hex), where the chain names one
    commitment: str | None = None
    #: the anchored checkpoint concerned (its tree size), for the checkpoint kinds
    checkpoint_size: int | None = None

    @property
    def is_tampering(self) -> bool:
        return self.kind not in INFO_KINDS

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "record_id": self.record_id,
            "batch_id": self.batch_id,
            "index": self.index_value,
            "chain": self.chain_value,
            "commitment": self.commitment,
            "checkpoint_size": self.checkpoint_size,
            "tampering": self.is_tampering,
        }


@dataclass
class ReconcileSummary:
    counts: Counter[str] = field(default_factory=Counter)
    #: index records compared with a chain record (content / commitment check)
    records_checked: int = 0
    #: anchored checkpoints checked against the recomputed global log
    checkpoints_checked: int = 0
    #: whether their notes' signatures were checked (a log key was given)
    checkpoint_signatures_checked: bool = False
    #: the mirror's range (``None`` if nothing was ever replayed)
    mirror_first_block: int | None = None
    mirror_last_block: int | None = None

    @property
    def tampering(self) -> int:
        return sum(n for kind, n in self.counts.items() if MismatchKind(kind) not in INFO_KINDS)

    @property
    def clean(self) -> bool:
        return self.tampering == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "tampering": self.tampering,
            "counts": dict(sorted(self.counts.items())),
            "records_checked": self.records_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "checkpoint_signatures_checked": self.checkpoint_signatures_checked,
            "mirror_first_block": self.mirror_first_block,
            "mirror_last_block": self.mirror_last_block,
        }
