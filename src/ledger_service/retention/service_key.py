"""The service's own writer key: it signs the ``erasure`` records the retention run and
erasure on request write (docs/regulation.md "Erasure records").

An Ed25519 key, generated once into ``<state dir>/keys/service.key`` (the base64 seed, mode
0600, created exclusively — two first uses cannot both write one; never logged, never in the
repository), and registered in the index as a writer key of actor :data:`SERVICE_ACTOR`, so
intake verifies the service's records exactly like a platform's. Its public half is what a
verifier pins (``ledgerctl retention service-key`` prints it).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import ClassVar

from nacl.signing import SigningKey

from ledger_service.errors import LedgerError

__all__ = [
    "SERVICE_ACTOR",
    "ServiceKeyError",
    "erasure_signers",
    "load_or_create_service_key",
    "service_key_path",
    "verify_key_b64",
]

#: The actor of every record the service writes itself.
SERVICE_ACTOR = "ledger-service"


class ServiceKeyError(LedgerError):
    """The service key file is unusable: readable by others or malformed."""

    code: ClassVar[str] = "service_key_invalid"


def service_key_path(state_dir: Path) -> Path:
    return state_dir / "keys" / "service.key"


def load_or_create_service_key(state_dir: Path) -> SigningKey:
    """The service's signing key, generated on first use (mode 0600).

    Raises:
        ServiceKeyError: the file is readable by group/others or is not a base64 seed.
    """
    path = service_key_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: two concurrent first uses cannot both write a key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = SigningKey.generate()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(bytes(key)).decode("ascii") + "\n")
    return key


def _read_key(path: Path) -> SigningKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ServiceKeyError(f"service key {path} has mode {mode:o}; it must be 0600")
    try:
        seed = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
        return SigningKey(seed)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        # never echo the file's content: it is the secret
        raise ServiceKeyError(f"service key {path} is malformed ({type(exc).__name__})") from None


def erasure_signers(state_dir: Path) -> dict[str, tuple[bytes, ...]]:
    """The trust a verifier in this service gives erasure records: the service key, once it
    exists (``{}`` before; never created by a read)."""
    if not service_key_path(state_dir).exists():
        return {}
    return {SERVICE_ACTOR: (bytes(load_or_create_service_key(state_dir).verify_key),)}


def verify_key_b64(key: SigningKey) -> str:
    """The public half, base64 (what the writer registry and a verifier's trust hold)."""
    return base64.b64encode(bytes(key.verify_key)).decode("ascii")
