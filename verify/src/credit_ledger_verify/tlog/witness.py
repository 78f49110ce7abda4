"""A witness's decision, pure: no network, no disk (c2sp.org/tlog-witness semantics).

Given the last checkpoint it verified for a log (its *state*; ``None`` before the first) and
an ``add-checkpoint`` request (old size, consistency proof, signed checkpoint), a
:class:`Witness` decides:

=========  =========================  ======  ===========================================
verdict    reason                     HTTP    when
=========  =========================  ======  ===========================================
refuse     ``malformed``              400     the request or the note is not well formed
refuse     ``unknown_origin``         404     no log key for the checkpoint's origin
refuse     ``bad_signature``          403     the log's signature is missing or fails
alarm      ``split_view``             409     same size as the witnessed one, other root
refuse     ``smaller_than_witnessed`` 409     the checkpoint is older than the state
refuse     ``old_size_too_large``     400     old size above the checkpoint's size
refuse     ``old_size_mismatch``      409     old size is not the witnessed size
refuse     ``bad_proof``              422     proof of the wrong length / hash size
alarm      ``inconsistent_extension`` 422     a well-formed proof that does not connect
accept     ``consistent``             200     extends (or equals) the witnessed tree
=========  =========================  ======  ===========================================

Both alarms hold two notes validly signed by the log key that no append-only log can have
produced (an honest log always has a correct proof), so the decision carries them as
evidence. On accept the caller must persist :attr:`WitnessDecision.state` *before* handing
out the cosignature, atomically with the old-size check (the spec's rollback race).
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from credit_ledger_verify.errors import ProofError, RootMismatch
from credit_ledger_verify.merkle import EMPTY_ROOT, verify_consistency
from credit_ledger_verify.tlog.checkpoint import (
    Checkpoint,
    CheckpointPolicy,
    VerifiedCheckpoint,
    parse_checkpoint_text,
    verify_checkpoint,
)
from credit_ledger_verify.tlog.cosignature import cosign
from credit_ledger_verify.tlog.errors import (
    CheckpointFormatError,
    CheckpointSignatureError,
    NoteFormatError,
    NoteKeyError,
)
from credit_ledger_verify.tlog.note import (
    ED25519_COSIGNATURE,
    NoteSignature,
    SignerKey,
    VerifierKey,
    decode_base64,
    parse_note,
)

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpointRequest",
    "Verdict",
    "Witness",
    "WitnessDecision",
    "WitnessState",
]

MAX_PROOF_LINES = 63
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")


class Verdict(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    ALARM = "alarm"


@dataclass(frozen=True, slots=True)
class WitnessState:
    """The last checkpoint a witness verified and cosigned for one origin (its signed note)."""

    checkpoint: Checkpoint
    note: bytes


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """``old <size>``, proof lines (base64), a blank line, then the signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("".join(line + "\n" for line in lines) + "\n").encode() + self.note

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpointRequest:
        """Parse a request body; raises :class:`NoteFormatError` naming the bad line."""
        head, separator, note = body.partition(b"\n\n")
        if not separator:
            raise NoteFormatError("request has no blank line before the checkpoint", field="body")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise NoteFormatError("request header is not ASCII", field="body") from None
        match = _OLD_LINE.fullmatch(lines[0])
        if match is None:
            raise NoteFormatError(
                f"first line must be 'old <size>', got {lines[0][:40]!r}", field="old", line=1
            )
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise NoteFormatError(
                f"{len(lines) - 1} proof lines, at most {MAX_PROOF_LINES}", field="proof"
            )
        proof = []
        for position, line in enumerate(lines[1:]):
            try:
                proof.append(decode_base64(line, "proof hash"))
            except ValueError as exc:
                raise NoteFormatError(
                    str(exc), field=f"proof[{position}]", line=position + 2
                ) from None
        return cls(int(match.group(1)), tuple(proof), note)


@dataclass(frozen=True, slots=True)
class WitnessDecision:
    verdict: Verdict
    #: stable reason code (see the module's table)
    reason: str
    message: str
    #: the status a tlog-witness HTTP front end answers with
    http_status: int
    #: the state to persist (the new checkpoint on accept; the old state otherwise)
    state: WitnessState | None
    #: the witness's cosignature line, on accept only
    cosignature: NoteSignature | None = None
    #: on an alarm: the witnessed note and the conflicting one, both signed by the log
    evidence: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Witness:
    """A cosigner key and the log keys it checks (each named after its log's origin)."""

    key: SignerKey
    log_keys: Sequence[VerifierKey]

    def __post_init__(self) -> None:
        if self.key.key_type != ED25519_COSIGNATURE:
            raise NoteKeyError(f"witness key {self.key.name!r} must be a cosigner key (0x04)")
        origins = [key.name for key in self.log_keys]
        if len(set(origins)) != len(origins):
            raise NoteKeyError("two log keys for one origin")

    def add_checkpoint(
        self, state: WitnessState | None, request: AddCheckpointRequest, now: int
    ) -> WitnessDecision:
        """Decide on ``request`` given ``state``; ``now`` is the cosignature's timestamp."""

        def refuse(reason: str, status: int, message: str) -> WitnessDecision:
            return WitnessDecision(Verdict.REFUSE, reason, message, status, state)

        def alarm(reason: str, status: int, message: str) -> WitnessDecision:
            assert state is not None
            evidence = (state.note, request.note)
            return WitnessDecision(Verdict.ALARM, reason, message, status, state, None, evidence)

        try:
            checkpoint = parse_checkpoint_text(parse_note(request.note).text)
        except (NoteFormatError, CheckpointFormatError) as exc:
            return refuse("malformed", 400, str(exc))
        if state is not None and state.checkpoint.origin != checkpoint.origin:
            return refuse("unknown_origin", 404, "state and checkpoint are of different logs")
        log_key = next((k for k in self.log_keys if k.name == checkpoint.origin), None)
        if log_key is None:
            return refuse("unknown_origin", 404, f"no log key for origin {checkpoint.origin!r}")
        try:
            verified = verify_checkpoint(request.note, CheckpointPolicy(log_key))
        except CheckpointSignatureError as exc:
            return refuse("bad_signature", 403, str(exc))
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            return refuse("malformed", 400, "a checkpoint of size 0 must carry the empty root")
        # Before its first checkpoint a witness "has seen" the empty tree of this log.
        old = (
            state.checkpoint if state is not None else Checkpoint(checkpoint.origin, 0, EMPTY_ROOT)
        )
        if checkpoint.size == old.size and not hmac.compare_digest(checkpoint.root, old.root):
            return alarm(
                "split_view", 409, f"two checkpoints of size {old.size} with different roots"
            )
        if checkpoint.size < old.size:
            return refuse(
                "smaller_than_witnessed",
                409,
                f"checkpoint size {checkpoint.size} is below the witnessed size {old.size}",
            )
        if request.old_size > checkpoint.size:
            return refuse(
                "old_size_too_large",
                400,
                f"old size {request.old_size} is above the checkpoint size {checkpoint.size}",
            )
        if request.old_size != old.size:
            return refuse(
                "old_size_mismatch",
                409,
                f"old size {request.old_size} is not the witnessed size {old.size}",
            )
        try:
            verify_consistency(old.size, checkpoint.size, old.root, checkpoint.root, request.proof)
        except ProofError as exc:
            return refuse("bad_proof", 422, str(exc))
        except RootMismatch as exc:
            return alarm(
                "inconsistent_extension",
                422,
                f"size {old.size} -> {checkpoint.size}: the proof does not connect ({exc})",
            )
        return self._accept(verified, now)

    def _accept(self, verified: VerifiedCheckpoint, now: int) -> WitnessDecision:
        text = verified.checkpoint.text()
        cosignature = cosign(self.key, text, now)
        state = WitnessState(verified.checkpoint, verified.note)
        message = f"cosigned size {verified.checkpoint.size}"
        return WitnessDecision(Verdict.ACCEPT, "consistent", message, 200, state, cosignature)
