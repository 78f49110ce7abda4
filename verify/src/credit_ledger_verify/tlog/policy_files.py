"""Checkpoint files checked offline under a k-of-n witness policy (``credit-ledger-verify
--checkpoint FILE --log-key FILE --witness-key FILE... --min-cosignatures K``).

Key files hold one note verifier key each, as ``ledgerctl checkpoint log-key`` (the log) and
``ledgerctl witness init`` (a witness) print them: ``name+keyid+base64(type ‖ key)``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.tlog.checkpoint import CheckpointPolicy, verify_checkpoint
from credit_ledger_verify.tlog.errors import NoteKeyError
from credit_ledger_verify.tlog.note import VerifierKey

__all__ = ["CheckpointFileResult", "load_checkpoint_policy", "verify_checkpoint_files"]


def _read_key(path: str | Path, what: str) -> VerifierKey:
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise NoteKeyError(f"{what} file {path}: {exc}") from None
    try:
        return VerifierKey.parse(text)
    except NoteKeyError as exc:
        raise NoteKeyError(f"{what} file {path}: {exc}") from None


def load_checkpoint_policy(
    log_key_file: str | Path, witness_key_files: Sequence[str | Path], min_cosignatures: int
) -> CheckpointPolicy:
    """The policy: the log key must sign, ``min_cosignatures`` of the witnesses must cosign.

    Raises:
        NoteKeyError: a key file unreadable or malformed, two keys for one witness name, or
            ``min_cosignatures`` outside 0..number of witness keys.
    """
    log_key = _read_key(log_key_file, "log key")
    witnesses = tuple(_read_key(path, "witness key") for path in witness_key_files)
    return CheckpointPolicy(log_key, witnesses, min_cosignatures)


@dataclass(frozen=True)
class CheckpointFileResult:
    source: str
    ok: bool
    #: on success: the size, root and the witnesses whose cosignature verified
    size: int | None = None
    root: str | None = None
    witnesses: tuple[str, ...] = ()
    #: on failure: the error's stable code and message
    code: str | None = None
    message: str | None = None

    def line(self) -> str:
        if self.ok:
            cosigned = ", ".join(self.witnesses) or "no witness"
            return (
                f"ok     {self.source}: size {self.size}, root {self.root}; cosigned by {cosigned}"
            )
        return f"FAILED {self.source}: {self.code}: {self.message}"


def verify_checkpoint_files(
    sources: Sequence[str | Path], policy: CheckpointPolicy
) -> list[CheckpointFileResult]:
    """Verify each checkpoint file (a signed note, as the API serves it) under ``policy``."""
    results = []
    for source in sources:
        try:
            verified = verify_checkpoint(Path(source).read_bytes(), policy)
        except LedgerError as exc:
            results.append(
                CheckpointFileResult(str(source), False, code=exc.code, message=str(exc))
            )
            continue
        except OSError as exc:
            results.append(
                CheckpointFileResult(str(source), False, code="unreadable", message=str(exc))
            )
            continue
        results.append(
            CheckpointFileResult(
                str(source),
                True,
                size=verified.checkpoint.size,
                root=base64.b64encode(verified.checkpoint.root).decode(),
                witnesses=tuple(sorted(c.name for c in verified.cosignatures)),
            )
        )
    return results
