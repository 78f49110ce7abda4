"""A witness's state directory: its cosigner key, the log key it trusts, the last checkpoint
it cosigned, and an alarm file once it has seen a fork.

::

    <dir>/witness.key    PRIVATE+KEY+<name>+… (type 0x04), created O_EXCL, mode 0600
    <dir>/log.pub        the log's verifier key (name = the log's origin)
    <dir>/checkpoint     the signed note of the last checkpoint cosigned (absent before one)
    <dir>/ALARM          JSON: reason, message, both signed notes; while it exists the
                         witness refuses to run (an operator investigates, then removes it)

``checkpoint`` is written atomically (temporary file, fsync, rename, fsync of the directory)
*before* a cosignature is released, so a crash never leaves the witness having cosigned a
checkpoint it does not remember (c2sp.org/tlog-witness: persist before responding). On load
it is verified again under the log key, so a damaged or edited file is refused, not trusted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from credit_ledger_verify.tlog import (
    ED25519,
    ED25519_COSIGNATURE,
    CheckpointPolicy,
    SignerKey,
    VerifierKey,
    Witness,
    WitnessDecision,
    WitnessState,
    verify_checkpoint,
)

from ledger_service.errors import LedgerError

__all__ = [
    "WitnessAlarmed",
    "WitnessDir",
    "WitnessStateError",
    "write_atomically",
]


class WitnessStateError(LedgerError):
    """A witness state directory is unusable: missing or already initialised, a key file of
    the wrong mode or shape, or a stored checkpoint that does not verify under the log key."""

    code: ClassVar[str] = "witness_state_invalid"


class WitnessAlarmed(LedgerError):
    """The witness has seen a split view or an inconsistent extension and stopped: its alarm
    file holds the evidence; it cosigns nothing until an operator removes the file."""

    code: ClassVar[str] = "witness_alarmed"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` so that a crash leaves either the old or the new bytes:
    write a temporary file beside it, fsync it, rename it over, fsync the directory."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass(frozen=True)
class WitnessDir:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / "witness.key"

    @property
    def log_key_path(self) -> Path:
        return self.path / "log.pub"

    @property
    def state_path(self) -> Path:
        return self.path / "checkpoint"

    @property
    def alarm_path(self) -> Path:
        return self.path / "ALARM"

    # -- set up ------------------------------------------------------------------------

    def init(self, name: str, log_key: VerifierKey) -> VerifierKey:
        """Generate the witness's cosigner key (never overwriting one) and record the log key;
        returns the public key an admin registers (``ledgerctl witness-keys add``)."""
        if log_key.key_type != ED25519:
            raise WitnessStateError(f"log key {log_key.name!r} is not an Ed25519 note key")
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = SignerKey.generate(name, ED25519_COSIGNATURE)
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise WitnessStateError(
                f"{self.key_path} exists: this directory already holds a witness"
            ) from None
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key.encode() + "\n")
            out.flush()
            os.fsync(out.fileno())
        write_atomically(self.log_key_path, (log_key.encode() + "\n").encode())
        return key.verifier

    # -- load --------------------------------------------------------------------------

    def load(self) -> tuple[Witness, WitnessState | None]:
        """The witness (its key, the log key) and its last cosigned checkpoint.

        Raises:
            WitnessAlarmed: an alarm file exists.
            WitnessStateError: as named.
        """
        if self.alarm_path.exists():
            raise WitnessAlarmed(
                f"{self.alarm_path} exists: this witness saw a forked log and cosigns nothing "
                "until an operator has investigated the evidence in it and removed the file"
            )
        key = self.load_key()
        log_key = self.log_key()
        witness = Witness(key, (log_key,))
        if not self.state_path.exists():
            return witness, None
        note = self.state_path.read_bytes()
        try:
            verified = verify_checkpoint(note, CheckpointPolicy(log_key))
        except LedgerError as exc:
            raise WitnessStateError(
                f"{self.state_path} does not verify under the log key: {exc}"
            ) from None
        return witness, WitnessState(verified.checkpoint, verified.note)

    def log_key(self) -> VerifierKey:
        try:
            return VerifierKey.parse(self.log_key_path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            raise WitnessStateError(
                f"{self.log_key_path} is missing: run `ledgerctl witness init` first"
            ) from None
        except (LedgerError, UnicodeDecodeError) as exc:
            raise WitnessStateError(f"{self.log_key_path} is malformed: {exc}") from None

    def load_key(self) -> SignerKey:
        """The witness's cosigner key (mode 0600 required)."""
        try:
            mode = self.key_path.stat().st_mode & 0o777
        except FileNotFoundError:
            raise WitnessStateError(
                f"{self.key_path} is missing: run `ledgerctl witness init` first"
            ) from None
        if mode & 0o077:
            raise WitnessStateError(f"{self.key_path} has mode {mode:o}; it must be 0600")
        try:
            key = SignerKey.parse(self.key_path.read_text(encoding="ascii").strip())
        except (LedgerError, UnicodeDecodeError) as exc:
            raise WitnessStateError(f"{self.key_path} is malformed: {exc}") from None
        if key.key_type != ED25519_COSIGNATURE:
            raise WitnessStateError(f"{self.key_path} is not a cosigner key (type 0x04)")
        return key

    # -- record ------------------------------------------------------------------------

    def save(self, state: WitnessState) -> None:
        """Persist the checkpoint about to be cosigned (before the cosignature leaves)."""
        write_atomically(self.state_path, state.note)

    def raise_alarm(self, decision: WitnessDecision, now: dt.datetime) -> Path:
        """Write the alarm file with both signed notes; the first alarm is kept."""
        witnessed, conflicting = (note.decode() for note in decision.evidence)
        alarm = {
            "reason": decision.reason,
            "message": decision.message,
            "detected_at": now.isoformat(),
            "witnessed_note": witnessed,
            "conflicting_note": conflicting,
        }
        data = (json.dumps(alarm, indent=2) + "\n").encode()
        if not self.alarm_path.exists():
            write_atomically(self.alarm_path, data)
        return self.alarm_path
