"""C2SP signed notes (https://c2sp.org/signed-note): text, a blank line, signature lines.

::

    <text, one or more lines, each ending in a newline>
    <blank line>
    — <key name> <base64(4-byte key ID ‖ signature)>     (one or more)

The note is UTF-8 without control characters other than newline; the text ends at the
*last* blank line. :func:`parse_note` checks the whole shape (and nothing cryptographic)
and names the first malformation; :func:`encode_note` is its inverse. Ed25519 keys (type
``0x01``) and timestamped Ed25519 cosigner keys (type ``0x04``, c2sp.org/tlog-cosignature)
share one key ID rule::

    key ID = SHA-256(key name ‖ 0x0A ‖ type ‖ 32-byte public key)[:4]

and the string encodings of golang.org/x/mod/sumdb/note (``name+hex8+base64(type ‖ key)``
for a verifier key, ``PRIVATE+KEY+`` the same with the 32-byte seed for a signer key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

from credit_ledger_verify.tlog.errors import NoteFormatError, NoteKeyError

__all__ = [
    "ED25519",
    "ED25519_COSIGNATURE",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "SignerKey",
    "VerifierKey",
    "decode_base64",
    "encode_note",
    "key_id",
    "parse_note",
]

#: signature type of plain Ed25519 note signatures (the log's own signature)
ED25519 = 0x01
#: signature type of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, v1)
ED25519_COSIGNATURE = 0x04
_KEY_TYPES = (ED25519, ED25519_COSIGNATURE)
#: an Ed25519 signature (RFC 8032)
_SIGNATURE_BYTES = 64
#: more than the 16 signatures the spec requires verifiers to accept; bounds the work
MAX_SIGNATURES = 64
MAX_NOTE_BYTES = 64 * 1024

SIGNATURE_PREFIX = "— "  # em dash U+2014, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s")


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID of ``public_key`` under ``name`` for signature type ``key_type``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def decode_base64(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded, canonical); ``ValueError`` naming ``what``."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"{what} is not valid base64 ({exc})") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw


def check_key_name(name: object, what: str = "key name") -> str:
    """Return ``name`` if it is a valid note key name (non-empty, no spaces, no '+')."""
    if not isinstance(name, str) or not name:
        raise NoteKeyError(f"{what} must be a non-empty string, got {name!r}")
    if _SPACE.search(name) or "+" in name or _CONTROL.search(name):
        raise NoteKeyError(f"{what} {name!r} must not contain spaces, '+' or control characters")
    return name


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key a verifier trusts for one key name and one signature type."""

    name: str
    key_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.key_type not in _KEY_TYPES:
            raise NoteKeyError(f"unsupported signature type 0x{self.key_type:02x}")
        if len(self.public_key) != 32:
            raise NoteKeyError(f"Ed25519 public key must be 32 bytes, got {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``.

        libsodium (PyNaCl), not OpenSSL: half the CPU per verification (~55 vs ~105 µs here),
        most of a compact bundle's signatures-only check; it is also the stricter of the two
        (it refuses small-order and non-canonical keys and points). ``crypto_sign_open``
        takes signature ‖ message, so the signature's length is checked first: a shorter
        one would shift bytes of the message into it.
        """
        if len(signature) != _SIGNATURE_BYTES:
            return False
        try:
            crypto_sign_open(signature + message, self.public_key)
        except (CryptoError, ValueError, TypeError):
            return False
        return True

    def encode(self) -> str:
        """``name+hex(key ID)+base64(type ‖ public key)``."""
        material = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse a verifier key string, checking that its key ID matches its key."""
        name, key_type, material = _parse_key_string(text, "verifier key")
        return cls(name, key_type, material)


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A private Ed25519 key (32-byte seed) that signs notes under ``name``."""

    name: str
    key_type: int
    seed: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.key_type not in _KEY_TYPES:
            raise NoteKeyError(f"unsupported signature type 0x{self.key_type:02x}")
        if len(self.seed) != 32:
            raise NoteKeyError(f"Ed25519 seed must be 32 bytes, got {len(self.seed)}")

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> SignerKey:
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(name, key_type, seed)

    @property
    def verifier(self) -> VerifierKey:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return VerifierKey(self.name, self.key_type, public)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def encode(self) -> str:
        """``PRIVATE+KEY+name+hex(key ID)+base64(type ‖ seed)`` (keep it secret)."""
        material = base64.b64encode(bytes([self.key_type]) + self.seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
            raise NoteKeyError(f"signer key must start with {_PRIVATE_PREFIX!r}")
        name, key_type, seed = _parse_key_string(text[len(_PRIVATE_PREFIX) :], "signer key")
        signer = cls(name, key_type, seed)
        return signer

    def __repr__(self) -> str:  # never print the seed
        return f"SignerKey(name={self.name!r}, key_type=0x{self.key_type:02x})"


def _parse_key_string(text: str, what: str) -> tuple[str, int, bytes]:
    # name+hash+material; the base64 material may itself contain '+', the name may not.
    if not isinstance(text, str):
        raise NoteKeyError(f"{what} must be a string, got {type(text).__name__}")
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteKeyError(f"{what} must be name+keyid+key, got {len(parts)} part(s)")
    name, hash_hex, material_b64 = parts
    check_key_name(name, f"{what} name")
    if not re.fullmatch(r"[0-9a-f]{8}", hash_hex):
        raise NoteKeyError(f"{what} key ID must be 8 lower-case hex digits, got {hash_hex!r}")
    try:
        material = decode_base64(material_b64, f"{what} material")
    except ValueError as exc:
        raise NoteKeyError(str(exc)) from None
    if len(material) != 33:
        raise NoteKeyError(f"{what} material must be 33 bytes (type ‖ key), got {len(material)}")
    key_type, key = material[0], material[1:]
    if key_type not in _KEY_TYPES:
        raise NoteKeyError(f"{what} has unsupported signature type 0x{key_type:02x}")
    if what == "signer key":
        public = Ed25519PrivateKey.from_private_bytes(key).public_key()
        key_for_id = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        key_for_id = key
    if key_id(name, key_type, key_for_id).hex() != hash_hex:
        raise NoteKeyError(f"{what} key ID {hash_hex} does not match its name and key")
    return name, key_type, key


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed signed note: ``text`` (ending in a newline) and its signatures in order."""

    text: str
    signatures: tuple[NoteSignature, ...]


def encode_note(text: str, signatures: Sequence[NoteSignature]) -> bytes:
    """The note bytes for ``text`` and ``signatures`` (the inverse of :func:`parse_note`)."""
    _check_text(text)
    if not signatures:
        raise NoteFormatError("a note needs at least one signature", field="signatures")
    return (text + "\n" + "".join(s.line() for s in signatures)).encode()


def parse_note(data: bytes | str) -> Note:
    """Parse a signed note strictly: shape only, no signature is checked.

    Raises:
        NoteFormatError: naming the first malformation (``field`` and ``line``).
    """
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteFormatError(f"note is {len(data)} bytes, more than {MAX_NOTE_BYTES}")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteFormatError(f"note is not valid UTF-8 (byte {exc.start})") from None
    elif isinstance(data, str):
        text = data
    else:
        raise NoteFormatError(f"note must be bytes or str, got {type(data).__name__}")
    _check_characters(text)
    if not text.endswith("\n"):
        raise NoteFormatError("note does not end in a newline", field="signatures")
    if text.endswith("\n\n"):
        raise NoteFormatError(
            "note ends in an empty line (a signature line must come last)", field="signatures"
        )
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("no blank line separates the text from the signatures", field="text")
    body, block = text[: split + 1], text[split + 2 :]
    first_signature_line = body.count("\n") + 2
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteFormatError(
            f"note has {len(lines)} signature lines, more than {MAX_SIGNATURES}",
            field="signatures",
        )
    signatures = tuple(
        _parse_signature_line(line, position, first_signature_line + position)
        for position, line in enumerate(lines)
    )
    return Note(body, signatures)


def _parse_signature_line(line: str, position: int, line_number: int) -> NoteSignature:
    field = f"signature[{position}]"
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteFormatError(
            f"signature line does not start with an em dash and a space: {line[:40]!r}",
            field=field,
            line=line_number,
        )
    parts = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise NoteFormatError(
            f"signature line must be '— <name> <base64>', got {len(parts)} space-separated parts",
            field=field,
            line=line_number,
        )
    name, blob = parts
    try:
        check_key_name(name)
    except NoteKeyError as exc:
        raise NoteFormatError(str(exc), field=field, line=line_number) from None
    try:
        raw = decode_base64(blob, "signature")
    except ValueError as exc:
        raise NoteFormatError(str(exc), field=field, line=line_number) from None
    if len(raw) < 5:
        raise NoteFormatError(
            f"signature must hold a 4-byte key ID and a signature, got {len(raw)} bytes",
            field=field,
            line=line_number,
        )
    return NoteSignature(name, raw[:4], raw[4:])


def _check_characters(text: str) -> None:
    match = _CONTROL.search(text)
    if match is not None:
        line = text.count("\n", 0, match.start()) + 1
        raise NoteFormatError(
            f"control character U+{ord(match.group()):04X} is not allowed", line=line
        )


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteFormatError("note text must end in a newline", field="text")
    _check_characters(text)
