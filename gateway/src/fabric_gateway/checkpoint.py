"""Checkpointers: remember how far an event listener got so that it resumes without gaps.

A checkpoint is the pair *(block number, transaction id)*:

* after processing a whole block ``n``: ``(n + 1, None)`` — resume at the next block;
* after processing the chaincode event of transaction ``t`` in block ``n``: ``(n, t)`` —
  resume in block ``n`` *after* transaction ``t``.

Pass a checkpointer to :meth:`Network.chaincode_events <fabric_gateway.Network.chaincode_events>`
or the block event methods, and call its ``checkpoint_*`` method after processing each
event or block. A listener that stops (or is killed) between processing and checkpointing
sees that last event again on restart; one that stops after checkpointing resumes with the
next event: never a gap, and no duplicate of any checkpointed event.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from .events import ChaincodeEvent

__all__ = ["Checkpoint", "Checkpointer", "FileCheckpointer", "InMemoryCheckpointer"]


@runtime_checkable
class Checkpoint(Protocol):
    """Read side of a checkpointer: where to resume."""

    @property
    def block_number(self) -> int | None:
        """Next block to read, or ``None`` if nothing was checkpointed yet."""
        ...

    @property
    def transaction_id(self) -> str | None:
        """Last processed transaction within :attr:`block_number`, if any."""
        ...


@runtime_checkable
class Checkpointer(Checkpoint, Protocol):
    """A checkpoint that can be advanced."""

    def checkpoint_block(self, block_number: int) -> None: ...

    def checkpoint_transaction(self, block_number: int, transaction_id: str | None) -> None: ...

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None: ...


class InMemoryCheckpointer:
    """Checkpointer kept in memory (resumes a stream within one process)."""

    __slots__ = ("_block_number", "_transaction_id")

    def __init__(self) -> None:
        self._block_number: int | None = None
        self._transaction_id: str | None = None

    @property
    def block_number(self) -> int | None:
        return self._block_number

    @property
    def transaction_id(self) -> str | None:
        return self._transaction_id

    def checkpoint_block(self, block_number: int) -> None:
        self.checkpoint_transaction(block_number + 1, None)

    def checkpoint_transaction(self, block_number: int, transaction_id: str | None) -> None:
        if block_number < 0:
            raise ValueError("block number must not be negative")
        self._block_number = block_number
        self._transaction_id = transaction_id or None

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None:
        self.checkpoint_transaction(event.block_number, event.transaction_id)

    def __repr__(self) -> str:
        return (
            f"InMemoryCheckpointer(block_number={self._block_number}, "
            f"transaction_id={self._transaction_id!r})"
        )


class FileCheckpointer(InMemoryCheckpointer):
    """Checkpointer persisted to a JSON file, replaced atomically on every checkpoint.

    Each checkpoint writes a temporary file in the same directory, fsyncs it, renames it
    over ``path`` and fsyncs the directory, so after a crash the file holds either the
    previous or the new checkpoint, never a torn one. The format is
    ``{"blockNumber": 12, "transactionId": "ab12..."}`` (``transactionId`` may be ``""``).
    """

    __slots__ = ("_path", "_sync")

    def __init__(self, path: str | os.PathLike[str], *, sync: bool = True) -> None:
        super().__init__()
        self._path = Path(path)
        self._sync = sync
        if self._path.exists() and self._path.stat().st_size > 0:
            state = json.loads(self._path.read_text())
            block = state.get("blockNumber")
            if block is not None and (not isinstance(block, int) or block < 0):
                raise ValueError(f"{self._path}: invalid blockNumber {block!r}")
            tx_id = state.get("transactionId") or None
            if block is not None:
                super().checkpoint_transaction(block, tx_id)

    @property
    def path(self) -> Path:
        return self._path

    def checkpoint_transaction(self, block_number: int, transaction_id: str | None) -> None:
        super().checkpoint_transaction(block_number, transaction_id)
        self._save()

    def _save(self) -> None:
        data = json.dumps(
            {"blockNumber": self._block_number, "transactionId": self._transaction_id or ""}
        ).encode()
        directory = self._path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self._sync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self._sync:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def __repr__(self) -> str:
        return (
            f"FileCheckpointer({str(self._path)!r}, block_number={self._block_number}, "
            f"transaction_id={self._transaction_id!r})"
        )
