"""A writer's Ed25519 key: build records and sign them exactly as the service checks them.

The signature is Ed25519 over ``Record.signing_bytes()`` — the RFC 8785 canonical JSON of the
record without its ``signature`` member, computed by the same ``credit_ledger_verify``
code the service uses — stored in the record as standard base64 of the 64 bytes. Ed25519
is deterministic, so this module (``cryptography``) and the service (``pynacl``) produce the
same bytes; ``tests/data/signing/*.json`` pins both to the same vectors.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, TypeVar

from credit_ledger_verify.errors import ValidationError
from credit_ledger_verify.records import Record, RecordKind, parse_record
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["SEED_BYTES", "Writer"]

#: An Ed25519 private key is its 32-byte seed.
SEED_BYTES = 32

RecordT = TypeVar("RecordT", bound=Record)


class Writer:
    """A writer identity (``actor``, as registered with the service) and its signing key.

    ``seed``: the 32-byte Ed25519 seed, raw or as base64 text (what ``ledgerctl writers``
    hands out). :meth:`from_file` reads a PEM (PKCS#8) key or a base64 seed file.
    """

    def __init__(self, actor: str, seed: bytes | str) -> None:
        self.actor = actor
        self._key = Ed25519PrivateKey.from_private_bytes(_seed_bytes(seed))

    @classmethod
    def from_file(cls, actor: str, path: str | Path) -> Writer:
        """Load the key from a PEM private key file or a file holding the base64 seed."""
        data = Path(path).read_bytes()
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path}: not an Ed25519 private key ({type(key).__name__})")
            raw = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            return cls(actor, raw)
        return cls(actor, data.decode("ascii", errors="replace").strip())

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key (the service's operator registers it for ``actor``)."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode("ascii")

    def sign(self, record: RecordT) -> RecordT:
        """A copy of ``record`` carrying this key's signature over its signing bytes.

        Raises:
            ValidationError: (field ``signature``) if the record is already signed.
        """
        if record.signature is not None:
            raise ValidationError(
                record.record_id, "signature", "record is already signed; sign the unsigned record"
            )
        signature = self._key.sign(record.signing_bytes())
        return record.with_signature(base64.b64encode(signature).decode("ascii"))

    def build(self, kind: RecordKind | str, **fields: Any) -> Record:
        """Build a record of ``kind`` written by this writer (``actor`` filled in) and sign it.

        ``fields`` are the envelope's (``subject``, ``occurred_at``, ``source``, ``payload``,
        ``parents``, ``record_id``…); give ``record_id`` yourself when you need to send the
        same record again (it is the idempotency key), else a fresh one is generated.

        Raises:
            ValidationError: naming the field, for a record the service would refuse.
        """
        fields.setdefault("actor", self.actor)
        return self.sign(parse_record({**fields, "kind": RecordKind(kind).value}))

    def open_objection(self, *, disputes: str, subject: str, reason: str, **fields: Any) -> Record:
        """The opening step of an objection case (Art. 25): the subject objects to record
        ``disputes``; the record reads as disputed until a resolution of this case.
        ``fields``: the rest of the envelope (``occurred_at``, ``source``, ``record_id``…)."""
        payload = {"step": "opened", "reason": reason}
        return self.build(
            RecordKind.OBJECTION, subject=subject, disputes=disputes, payload=payload, **fields
        )

    def resolve_objection(
        self,
        *,
        case: str,
        step: str,
        subject: str,
        reason: str,
        correction: str | None = None,
        **fields: Any,
    ) -> Record:
        """A resolution of the case opened by record ``case``: ``step`` is ``corrected``
        (``correction``: the record superseding the disputed one), ``upheld`` or
        ``rejected``; ``reason`` is the written answer."""
        payload: dict[str, Any] = {"step": step, "case": case, "reason": reason}
        if correction is not None:
            payload["correction"] = correction
        return self.build(RecordKind.OBJECTION, subject=subject, payload=payload, **fields)

    def __repr__(self) -> str:  # never print the seed
        return f"Writer(actor={self.actor!r}, public_key={self.public_key_b64!r})"


def _seed_bytes(seed: bytes | str) -> bytes:
    if isinstance(seed, str):
        try:
            seed = base64.b64decode(seed, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the signing key seed is not valid base64") from exc
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the signing key seed must be {SEED_BYTES} bytes, got {len(seed)}")
    return bytes(seed)
