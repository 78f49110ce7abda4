"""Client identities: who signs, as Fabric sees it (MSP id + X.509 certificate)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography import x509
from fabric_protos.msp import identities_pb2

from .signing import PrivateKey, Signer, load_private_key, new_private_key_signer

__all__ = [
    "Identity",
    "MspCredentials",
    "X509Identity",
    "deserialize_identity",
    "load_msp",
    "serialize_identity",
]


@runtime_checkable
class Identity(Protocol):
    """Anything with an MSP id and the credentials (PEM certificate) the MSP recognises."""

    @property
    def msp_id(self) -> str: ...

    @property
    def credentials(self) -> bytes: ...


@dataclass(frozen=True, kw_only=True, slots=False)
class X509Identity:
    """An X.509 identity: an MSP id and a PEM certificate."""

    msp_id: str
    certificate_pem: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.msp_id:
            raise ValueError("msp_id must not be empty")
        if isinstance(self.certificate_pem, str):  # tolerate text PEM
            object.__setattr__(self, "certificate_pem", self.certificate_pem.encode())
        if b"-----BEGIN CERTIFICATE-----" not in self.certificate_pem:
            raise ValueError("certificate_pem is not a PEM-encoded certificate")

    @property
    def credentials(self) -> bytes:
        """The PEM certificate, as carried in a ``SerializedIdentity``."""
        return self.certificate_pem

    @cached_property
    def certificate(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_pem_x509_certificate(self.certificate_pem)

    def serialize(self) -> bytes:
        """Serialized ``msp.SerializedIdentity`` (the *creator* bytes of every request)."""
        return serialize_identity(self)

    @classmethod
    def from_file(cls, *, msp_id: str, path: str | os.PathLike[str]) -> X509Identity:
        """Read the certificate from a PEM file."""
        return cls(msp_id=msp_id, certificate_pem=Path(path).read_bytes())


def serialize_identity(identity: Identity) -> bytes:
    """Serialize an identity to ``msp.SerializedIdentity`` bytes."""
    return identities_pb2.SerializedIdentity(
        mspid=identity.msp_id, id_bytes=identity.credentials
    ).SerializeToString()


def deserialize_identity(creator: bytes) -> X509Identity:
    """Parse ``msp.SerializedIdentity`` bytes (e.g. a transaction creator)."""
    sid = identities_pb2.SerializedIdentity.FromString(creator)
    return X509Identity(msp_id=sid.mspid, certificate_pem=sid.id_bytes)


@dataclass(frozen=True, kw_only=True)
class MspCredentials:
    """Identity, private key and signer loaded from an MSP folder."""

    identity: X509Identity
    private_key: PrivateKey = field(repr=False)
    signer: Signer = field(repr=False)


def _single_file(directory: Path, patterns: tuple[str, ...], what: str) -> Path:
    for pattern in patterns:
        matches = sorted(p for p in directory.glob(pattern) if p.is_file())
        if matches:
            return matches[0]
    raise FileNotFoundError(f"no {what} found in {directory} (looked for {', '.join(patterns)})")


def load_msp(directory: str | os.PathLike[str], *, msp_id: str) -> MspCredentials:
    """Load a user's credentials from a Fabric MSP folder.

    Reads the certificate from ``signcerts/*.pem`` (or any file there) and the private key
    from ``keystore/*_sk`` (or any file there), as laid out by ``cryptogen`` and the
    Fabric CA client.
    """
    root = Path(directory)
    cert_path = _single_file(root / "signcerts", ("*.pem", "*"), "certificate")
    key_path = _single_file(root / "keystore", ("*_sk", "*.pem", "*"), "private key")
    identity = X509Identity.from_file(msp_id=msp_id, path=cert_path)
    key = load_private_key(key_path)
    return MspCredentials(identity=identity, private_key=key, signer=new_private_key_signer(key))
