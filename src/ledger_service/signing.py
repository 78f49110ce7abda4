"""Writer signatures: Ed25519 (pynacl) over ``Record.signing_bytes()``.

Keys travel as standard base64: a signing key is its 32-byte seed, a verify key its 32-byte
public key. The signature is stored in the record as base64 of the 64-byte detached
signature, so ``canonical_bytes()`` (what is committed) covers the signature too.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TypeVar

from credit_ledger_verify.records import Record
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ledger_service.errors import SignatureError, ValidationError

__all__ = [
    "ED25519_KEY_BYTES",
    "WriterKey",
    "generate_writer_key",
    "load_signing_key",
    "load_verify_key",
    "sign_record",
    "verify_record_signature",
]

ED25519_KEY_BYTES = 32

RecordT = TypeVar("RecordT", bound=Record)


@dataclass(frozen=True)
class WriterKey:
    """A writer's key pair, both halves as base64 (keep ``signing_key_b64`` secret)."""

    signing_key_b64: str
    verify_key_b64: str

    def __repr__(self) -> str:  # never print the secret half
        return f"WriterKey(verify_key_b64={self.verify_key_b64!r}, signing_key_b64=<secret>)"


def generate_writer_key() -> WriterKey:
    """Generate a fresh Ed25519 writer key pair."""
    signing_key = SigningKey.generate()
    return WriterKey(
        signing_key_b64=_b64(bytes(signing_key)),
        verify_key_b64=_b64(bytes(signing_key.verify_key)),
    )


def load_signing_key(signing_key: SigningKey | bytes | str) -> SigningKey:
    """Return a pynacl ``SigningKey`` from itself, its 32-byte seed, or the seed in base64.

    Raises:
        ValueError: if the key is not 32 bytes (or not valid base64).
    """
    if isinstance(signing_key, SigningKey):
        return signing_key
    return SigningKey(_key_bytes(signing_key, "signing key"))


def load_verify_key(verify_key: VerifyKey | bytes | str) -> VerifyKey:
    """Return a pynacl ``VerifyKey`` from itself, its 32 raw bytes, or those bytes in base64.

    Raises:
        ValueError: if the key is not 32 bytes (or not valid base64).
    """
    if isinstance(verify_key, VerifyKey):
        return verify_key
    return VerifyKey(_key_bytes(verify_key, "verify key"))


def sign_record(record: RecordT, signing_key: SigningKey | bytes | str) -> RecordT:
    """Return a copy of ``record`` signed by ``signing_key`` over its ``signing_bytes()``.

    Preconditions: ``record`` carries no signature yet (re-signing someone else's record
    silently would hide a mistake).

    Raises:
        ValidationError: (field ``signature``) if the record is already signed.
        ValueError: if the key is malformed.
    """
    if record.signature is not None:
        raise ValidationError(
            record.record_id, "signature", "record is already signed; sign the unsigned record"
        )
    key = load_signing_key(signing_key)
    signature = key.sign(record.signing_bytes()).signature
    return record.with_signature(_b64(signature))


def verify_record_signature(record: Record, verify_key: VerifyKey | bytes | str) -> None:
    """Check that ``record.signature`` is the writer's Ed25519 signature of the record.

    ``verify_key`` is the writer's public key: a pynacl ``VerifyKey``, 32 raw bytes, or
    base64 of them.

    Raises:
        SignatureError: naming the record, if the signature is missing, malformed, made by
            another key, or the record was altered after signing; also if ``verify_key`` is
            malformed.
    """
    if record.signature is None:
        raise SignatureError(record.record_id, "record is not signed")
    try:
        key = load_verify_key(verify_key)
    except ValueError as exc:
        raise SignatureError(record.record_id, f"unusable verify key: {exc}") from exc
    signature = base64.b64decode(record.signature, validate=True)  # checked by the model
    try:
        key.verify(record.signing_bytes(), signature)
    except BadSignatureError as exc:
        raise SignatureError(
            record.record_id,
            "does not verify under the given key (wrong key, or the record was altered)",
        ) from exc


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _key_bytes(key: bytes | str, what: str) -> bytes:
    if isinstance(key, str):
        try:
            key = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{what} is not valid base64") from exc
    if len(key) != ED25519_KEY_BYTES:
        raise ValueError(f"{what} must be {ED25519_KEY_BYTES} bytes, got {len(key)}")
    return bytes(key)
