"""C2SP checkpoints (https://c2sp.org/tlog-checkpoint): a signed note whose text is::

    <origin>                      credit-ledger.example/<channel>/<chaincode>
    <tree size>                   decimal, no leading zeros ("0" for the empty tree)
    <base64 RFC 6962 root>        32 bytes, standard padded base64
    <extension line>...           optional, each non-empty (none written by this log)

signed by the log's Ed25519 key, whose key name is the origin, and optionally cosigned by
witnesses (:mod:`credit_ledger_verify.tlog.cosignature`). :func:`verify_checkpoint` checks,
in order: note shape, checkpoint shape, origin, then signatures under a
:class:`CheckpointPolicy` (the log key must sign; ``witnesses_required`` of the trusted
witness keys must cosign). Per the signed-note spec, a signature line whose (name, key ID)
is not a trusted key is ignored, while a trusted key's signature that fails rejects the note.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from credit_ledger_verify.merkle import HASH_SIZE
from credit_ledger_verify.tlog.cosignature import Cosignature, open_cosignature
from credit_ledger_verify.tlog.errors import (
    CheckpointFormatError,
    CheckpointOriginError,
    CheckpointSignatureError,
    NoteKeyError,
)
from credit_ledger_verify.tlog.note import (
    ED25519,
    ED25519_COSIGNATURE,
    NoteSignature,
    SignerKey,
    VerifierKey,
    check_key_name,
    decode_base64,
    encode_note,
    parse_note,
)

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CheckpointPolicy",
    "VerifiedCheckpoint",
    "log_origin",
    "parse_checkpoint_text",
    "sign_checkpoint",
    "verify_checkpoint",
]

MAX_TREE_SIZE = 2**64 - 1
_SIZE = re.compile(r"0|[1-9][0-9]*")
_ORIGIN_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def log_origin(domain: str, channel: str, chaincode: str) -> str:
    """The origin line naming this ledger's log: ``<domain>/<channel>/<chaincode>``."""
    for what, value in (("domain", domain), ("channel", channel), ("chaincode", chaincode)):
        if not isinstance(value, str) or not _ORIGIN_PART.fullmatch(value):
            raise NoteKeyError(f"origin {what} {value!r} must match {_ORIGIN_PART.pattern}")
    return f"{domain}/{channel}/{chaincode}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size, its RFC 6962 root, opaque extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise CheckpointFormatError(
                f"origin must be one non-empty line, got {self.origin!r}", field="origin"
            )
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointFormatError(
                f"size must be an int, got {type(self.size).__name__}", field="size"
            )
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointFormatError(f"size {self.size} is outside 0..2^64-1", field="size")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointFormatError(
                f"root must be {HASH_SIZE} bytes, got {len(self.root)}", field="root"
            )
        for position, line in enumerate(self.extensions):
            if not isinstance(line, str) or not line or "\n" in line:
                raise CheckpointFormatError(
                    f"extension line must be one non-empty line, got {line!r}",
                    field=f"extension[{position}]",
                )

    def text(self) -> str:
        """The note text (each line ending in a newline) that the log signs."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a note text as a checkpoint body, naming the first malformation."""
    if not text.endswith("\n"):
        raise CheckpointFormatError("checkpoint text must end in a newline", field="text")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointFormatError(
            f"checkpoint needs origin, size and root lines, got {len(lines)} line(s)",
            field="text",
        )
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise CheckpointFormatError("origin line is empty", field="origin", line=1)
    if not _SIZE.fullmatch(size_line):
        raise CheckpointFormatError(
            f"size {size_line!r} is not a decimal number without leading zeros",
            field="size",
            line=2,
        )
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise CheckpointFormatError(f"size {size} is more than 2^64-1", field="size", line=2)
    try:
        root = decode_base64(root_line, "root hash")
    except ValueError as exc:
        raise CheckpointFormatError(str(exc), field="root", line=3) from None
    if len(root) != HASH_SIZE:
        raise CheckpointFormatError(
            f"root hash must be {HASH_SIZE} bytes, got {len(root)}", field="root", line=3
        )
    for position, line in enumerate(extensions):
        if not line:
            raise CheckpointFormatError(
                "extension line is empty", field=f"extension[{position}]", line=4 + position
            )
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint(
    checkpoint: Checkpoint, log_key: SignerKey, cosignatures: Sequence[NoteSignature] = ()
) -> bytes:
    """The signed note of ``checkpoint`` by ``log_key`` (named after the origin), followed by
    any ``cosignatures`` already obtained for the same text."""
    if log_key.key_type != ED25519:
        raise NoteKeyError(f"log key {log_key.name!r} must be an Ed25519 key (type 0x01)")
    if log_key.name != checkpoint.origin:
        raise NoteKeyError(
            f"log key name {log_key.name!r} must be the origin {checkpoint.origin!r}"
        )
    text = checkpoint.text()
    log_signature = NoteSignature(
        log_key.name, log_key.verifier.key_id, log_key.sign(text.encode())
    )
    return encode_note(text, [log_signature, *cosignatures])


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Which keys a verifier trusts for one log, and how many cosignatures it requires."""

    log_key: VerifierKey
    witness_keys: tuple[VerifierKey, ...] = ()
    witnesses_required: int = 0

    def __post_init__(self) -> None:
        if self.log_key.key_type != ED25519:
            raise NoteKeyError("the log key must be an Ed25519 key (type 0x01)")
        check_key_name(self.log_key.name, "log key name")
        names: set[str] = set()
        for key in self.witness_keys:
            if key.key_type != ED25519_COSIGNATURE:
                raise NoteKeyError(f"witness key {key.name!r} must be a cosigner key (0x04)")
            if key.name in names:  # k-of-n counts witnesses by name: one key per name
                raise NoteKeyError(f"witness name {key.name!r} is listed twice")
            names.add(key.name)
        if not 0 <= self.witnesses_required <= len(self.witness_keys):
            raise NoteKeyError(
                f"witnesses_required {self.witnesses_required} must be between 0 and the "
                f"{len(self.witness_keys)} witness key(s)"
            )

    @property
    def origin(self) -> str:
        """The log's origin: the log signs under a key named after it."""
        return self.log_key.name


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature (and required cosignatures) verified."""

    checkpoint: Checkpoint
    note: bytes
    cosignatures: tuple[Cosignature, ...] = field(default=())


def verify_checkpoint(note: bytes | str, policy: CheckpointPolicy) -> VerifiedCheckpoint:
    """Verify a signed checkpoint under ``policy``: shape, origin, then signatures.

    Raises:
        NoteFormatError / CheckpointFormatError: malformed note or body (nothing checked yet).
        CheckpointOriginError: the checkpoint names another log.
        CheckpointSignatureError: no valid log signature, a trusted key's signature that
            fails, or fewer than ``policy.witnesses_required`` valid cosignatures.
    """
    parsed = parse_note(note)
    checkpoint = parse_checkpoint_text(parsed.text)
    if checkpoint.origin != policy.origin:
        raise CheckpointOriginError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {policy.origin!r}",
            field="origin",
            line=1,
        )
    message = parsed.text.encode()
    log_id, log_signed = policy.log_key.key_id, False
    witnesses = {(key.name, key.key_id): key for key in policy.witness_keys}
    cosigned: dict[str, Cosignature] = {}
    for position, signature in enumerate(parsed.signatures):
        where = f"signature[{position}]"
        if (signature.name, signature.key_id) == (policy.log_key.name, log_id):
            if not policy.log_key.verify(message, signature.signature):
                raise CheckpointSignatureError(
                    f"the log key's signature {where} does not verify", field=where
                )
            log_signed = True
            continue
        witness = witnesses.get((signature.name, signature.key_id))
        if witness is None:
            continue  # unknown key (or a known name with another key ID): ignored per spec
        cosignature = open_cosignature(witness, parsed.text, signature)
        if cosignature is None:
            raise CheckpointSignatureError(
                f"witness {signature.name!r}'s cosignature {where} does not verify", field=where
            )
        cosigned.setdefault(signature.name, cosignature)  # a repeated witness counts once
    if not log_signed:
        raise CheckpointSignatureError(
            f"no signature by the log key {policy.log_key.name!r} ({log_id.hex()})",
            field="signatures",
        )
    if len(cosigned) < policy.witnesses_required:
        raise CheckpointSignatureError(
            f"{len(cosigned)} valid witness cosignature(s), {policy.witnesses_required} required",
            field="signatures",
        )
    normalized = note.encode() if isinstance(note, str) else bytes(note)
    return VerifiedCheckpoint(checkpoint, normalized, tuple(cosigned.values()))
