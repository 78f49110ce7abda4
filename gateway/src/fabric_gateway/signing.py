"""Signers: callables that turn a digest into a signature Fabric accepts.

A :data:`Signer` takes the digest produced by the gateway's :mod:`hash
<fabric_gateway.hash>` function and returns the signature bytes:

* ECDSA (P-256, P-384, P-521): ASN.1 DER ``(r, s)`` with **low S** (``s <= n/2``) as Fabric
  rejects high-S signatures; the digest is signed as a pre-computed hash.
* Ed25519: the raw 64-byte signature over the bytes given (use ``hash=fabric_gateway.hash.none``).

Any callable ``(bytes) -> bytes`` works as a signer, for example one backed by an HSM.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "ECDSASigner",
    "Ed25519Signer",
    "PrivateKey",
    "Signer",
    "curve_order",
    "load_private_key",
    "new_private_key_signer",
    "to_low_s",
]

Signer = Callable[[bytes], bytes]
"""Signature of a signer: digest bytes in, signature bytes out."""

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_CURVE_ORDERS: dict[str, int] = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "secp521r1": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}

_PREHASH_BY_LENGTH: dict[int, hashes.HashAlgorithm] = {
    28: hashes.SHA224(),
    32: hashes.SHA256(),
    48: hashes.SHA384(),
    64: hashes.SHA512(),
}


def curve_order(curve: ec.EllipticCurve) -> int:
    """Order ``n`` of the base point of a supported NIST curve."""
    try:
        return _CURVE_ORDERS[curve.name]
    except KeyError:
        raise ValueError(f"unsupported elliptic curve {curve.name!r}") from None


def to_low_s(signature: bytes, curve: ec.EllipticCurve) -> bytes:
    """Return the DER ECDSA signature with ``s`` replaced by ``n - s`` when ``s > n/2``."""
    r, s = decode_dss_signature(signature)
    n = curve_order(curve)
    if s > n >> 1:
        return encode_dss_signature(r, n - s)
    return signature


class ECDSASigner:
    """Sign digests with an ECDSA private key, producing low-S DER signatures."""

    __slots__ = ("_curve", "_key", "_order")

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key
        self._curve = private_key.curve
        self._order = curve_order(private_key.curve)

    def __call__(self, digest: bytes) -> bytes:
        algorithm = _PREHASH_BY_LENGTH.get(len(digest))
        if algorithm is None:
            raise ValueError(
                f"ECDSA signer expects a 28/32/48/64-byte digest, got {len(digest)} bytes; "
                "is the gateway configured with hash=none?"
            )
        der = self._key.sign(digest, ec.ECDSA(Prehashed(algorithm)))
        r, s = decode_dss_signature(der)
        if s > self._order >> 1:
            return encode_dss_signature(r, self._order - s)
        return der

    def __repr__(self) -> str:
        return f"ECDSASigner(curve={self._curve.name})"


class Ed25519Signer:
    """Sign messages with an Ed25519 private key (pair it with ``hash.none``)."""

    __slots__ = ("_key",)

    def __init__(self, private_key: ed25519.Ed25519PrivateKey) -> None:
        self._key = private_key

    def __call__(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return "Ed25519Signer()"


def new_private_key_signer(private_key: object) -> Signer:
    """Create a signer for an ECDSA or Ed25519 private key (a ``cryptography`` key object)."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return ECDSASigner(private_key)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(private_key)
    raise TypeError(f"unsupported private key type {type(private_key).__name__}")


def load_private_key(
    source: bytes | str | os.PathLike[str], *, password: bytes | None = None
) -> PrivateKey:
    """Load an ECDSA or Ed25519 private key from PEM bytes or a PEM file path.

    ``bytes`` are taken as PEM content; ``str`` or a path-like object as a file name.
    """
    pem = source if isinstance(source, bytes) else Path(source).read_bytes()
    key = serialization.load_pem_private_key(pem, password=password)
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise TypeError(f"unsupported private key type {type(key).__name__}")
