"""What the API answers, as typed values (frozen dataclasses; JSON lives in ``_wire``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from credit_ledger_verify.tlog import Checkpoint, parse_checkpoint_text, parse_note

__all__ = [
    "Anchor",
    "AppendProgress",
    "AppendResult",
    "EvidenceBundle",
    "Identity",
    "RecordInfo",
    "SignedCheckpoint",
]


@dataclass(frozen=True)
class AppendResult:
    """The service's answer for one record of an append.

    ``status`` is ``created`` (written by this call) or ``existing`` (the same content was
    already there — a replay; after a retried chunk it may be this call's own first
    attempt that wrote it). Either way the record is durable in the index. ``index`` is its
    position in the list given to ``append``.
    """

    index: int
    record_id: str
    commitment: str
    status: Literal["created", "existing"]


@dataclass(frozen=True)
class AppendProgress:
    """Passed to ``append``'s progress callback after each acknowledged chunk."""

    done: int
    """Records acknowledged (durable) so far."""
    total: int
    chunk: tuple[AppendResult, ...]
    """The results of the chunk just acknowledged."""


@dataclass(frozen=True)
class Anchor:
    """Where a record is anchored: its batch and leaf, and once committed, tx and block."""

    batch_id: str
    leaf_index: int
    state: str
    tx_id: str | None
    block_number: int | None
    committed_at: str | None

    @property
    def committed(self) -> bool:
        return self.committed_at is not None


@dataclass(frozen=True)
class RecordInfo:
    """A stored record's envelope, status and anchoring; ``content`` (the signed record)
    only for auditors and the writer that wrote it."""

    record_id: str
    kind: str
    subject: str
    occurred_at: str
    recorded_at: str
    source: str
    actor: str
    parents: tuple[str, ...]
    supersedes: str | None
    disputes: str | None
    superseded_by: str | None
    disputed_by: str | None
    commitment: str
    erased: bool
    anchor: Anchor | None
    content: dict[str, Any] | None
    #: an objection against the record is open now
    disputed: bool = False
    #: the latest objection case on it: case, status (open or its resolution), opened_at,
    #: deadline, resolution, resolved_at
    objection: dict[str, Any] | None = None


@dataclass(frozen=True)
class Identity:
    """The calling API key: ``whoami()``."""

    key_id: str
    role: str
    org: str
    name: str
    actors: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceBundle:
    """An evidence (or lineage) bundle exactly as the service sent it: verify ``content``
    offline with :func:`credit_ledger_client.verify_evidence` or ``credit-ledger-verify``."""

    content: bytes

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.content)
        return data

    def save(self, path: str | Path) -> Path:
        """Write the bundle's bytes unchanged (what the verifier reads)."""
        target = Path(path)
        target.write_bytes(self.content)
        return target


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint of the global log exactly as served: the signed note (the log's
    signature, then the cosignatures collected so far). Verify it offline with
    ``credit_ledger_verify.tlog.verify_checkpoint`` under a ``CheckpointPolicy``."""

    note: bytes

    @property
    def checkpoint(self) -> Checkpoint:
        """The note's checkpoint (origin, size, root), parsed but not verified."""
        return parse_checkpoint_text(parse_note(self.note).text)

    @property
    def size(self) -> int:
        return self.checkpoint.size

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_bytes(self.note)
        return target
