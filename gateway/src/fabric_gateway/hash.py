"""Hash functions applied to a message before it is signed.

A *hash* is any callable taking the message bytes and returning the digest that the
:mod:`signer <fabric_gateway.signing>` signs. Fabric MSPs hash with SHA-256 by default, so
:func:`sha256` is the default of :func:`fabric_gateway.connect`. Ed25519 signs the whole
message itself: use :func:`none` with an Ed25519 signer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["Hash", "none", "sha3_256", "sha3_384", "sha256", "sha384"]

Hash = Callable[[bytes], bytes]
"""Signature of a hash function: message bytes in, digest bytes out."""


def sha256(message: bytes) -> bytes:
    """SHA-256 digest (32 bytes); Fabric's default."""
    return hashlib.sha256(message).digest()


def sha384(message: bytes) -> bytes:
    """SHA-384 digest (48 bytes)."""
    return hashlib.sha384(message).digest()


def sha3_256(message: bytes) -> bytes:
    """SHA3-256 digest (32 bytes), for MSPs configured with the SHA3 hash family."""
    return hashlib.sha3_256(message).digest()


def sha3_384(message: bytes) -> bytes:
    """SHA3-384 digest (48 bytes)."""
    return hashlib.sha3_384(message).digest()


def none(message: bytes) -> bytes:
    """Identity "hash": the signer receives the message itself (use with Ed25519)."""
    return message
