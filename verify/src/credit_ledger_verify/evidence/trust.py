"""The trust directory: the org CA certificates an offline verifier checks evidence against.

Layout (docs/evidence-format.md, "Trust directory")::

    DIR/trust.json    {"format": "credit-ledger-trust/1", "channel": "ledger",
                       "chaincode": "ledger",
                       "msps": {"PlatformMSP": {"role": "application", "ca": "PlatformMSP.pem"},
                                ...,
                                "OrdererMSP": {"role": "orderer", "ca": "OrdererMSP.pem"}},
                       "erasure_signers": {"ledger-service": ["<base64 Ed25519 key>"]}}
    DIR/<MSPID>.pem   the MSP's signing CA certificate(s), PEM (several allowed)

``erasure_signers`` (optional): the service keys trusted to sign ``erasure`` records, by
actor; an erased record's evidence verifies only when its erasure record is signed by one
of them (docs/evidence-format.md §8).

``trust.json`` is optional: without it every ``<MSPID>.pem`` is loaded, an MSP id containing
``orderer`` (any case) is an orderer org, every other one an application org, and channel and
chaincode are not pinned.

Identities (``msp.SerializedIdentity``: MSP id + PEM certificate) are checked once per
distinct serialized bytes and the outcome cached: the certificate must be directly issued
by one of that MSP's trusted CA certificates (cryptogen's layout: no intermediates), and its
public key must be ECDSA (P-256/P-384) or Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.evidence.model import EvidenceError
from credit_ledger_verify.fabric import protos
from credit_ledger_verify.fabric.protos import DecodeError


class OrgCa(Protocol):
    """One application org of a network description: its MSP id and signing CA file."""

    @property
    def msp_id(self) -> str: ...
    @property
    def ca_cert(self) -> str: ...


class NetworkDescription(Protocol):
    """What :meth:`TrustStore.from_topology` reads of a network description (the service's
    ``ledger_service.ops.topology.Topology``; this package does not depend on the service)."""

    @property
    def orgs(self) -> Sequence[OrgCa]: ...
    @property
    def orderer_org_ca(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def chaincode(self) -> str: ...


__all__ = [
    "TRUST_FORMAT",
    "TRUST_MANIFEST",
    "IdentityError",
    "MspRole",
    "MspTrust",
    "TrustStore",
    "TrustedIdentity",
]

TRUST_FORMAT = "credit-ledger-trust/1"
TRUST_MANIFEST = "trust.json"

_SHA256 = hashes.SHA256()
_ECDSA_SHA256 = ec.ECDSA(_SHA256)
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(_SHA256))
_CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}
_IDENTITY_CACHE_LIMIT = 4096


class MspRole(StrEnum):
    APPLICATION = "application"
    ORDERER = "orderer"


class IdentityError(LedgerError):
    """A serialized identity is malformed or not trusted (the message says why)."""

    code: ClassVar[str] = "untrusted_identity"


@dataclass(frozen=True, slots=True)
class MspTrust:
    msp_id: str
    role: MspRole
    ca_certs: tuple[x509.Certificate, ...]


@dataclass(frozen=True, slots=True)
class TrustedIdentity:
    """A certificate that chains to a trusted MSP CA."""

    msp_id: str
    role: MspRole
    subject: str
    ous: frozenset[str]
    not_before: datetime
    not_after: datetime
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    curve_order: int

    def check_ou(self, wanted: Iterable[str]) -> str | None:
        """Error text unless the certificate carries one of the NodeOUs ``wanted``."""
        wanted = tuple(wanted)
        if self.ous.intersection(wanted):
            return None
        have = ", ".join(sorted(self.ous)) or "none"
        return f"certificate {self.subject} has NodeOU {have}, expected {' or '.join(wanted)}"

    def check_valid_at(self, when: datetime | None) -> str | None:
        """Error text if the certificate was not valid at ``when`` (``None``: not checked)."""
        if when is None or self.not_before <= when <= self.not_after:
            return None
        return (
            f"certificate {self.subject} was not valid at {when.isoformat()} "
            f"(valid {self.not_before.isoformat()} to {self.not_after.isoformat()})"
        )

    def verify_digest(
        self, signature: bytes, sha256_digest: bytes, message: Callable[[], bytes]
    ) -> str | None:
        """Like :meth:`verify` with SHA-256(data) already computed; ``message`` gives the
        data itself for key types that sign messages, not digests (Ed25519)."""
        key = self.public_key
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return self.verify(signature, message())
        try:
            _, s = decode_dss_signature(signature)
            if s > self.curve_order >> 1:
                return f"signature by {self.subject} has a high S value (Fabric requires low S)"
            key.verify(signature, sha256_digest, _ECDSA_PREHASHED)
        except InvalidSignature:
            return f"signature by {self.subject} does not verify"
        except ValueError as exc:
            return f"signature by {self.subject} is malformed: {exc}"
        return None

    def verify(self, signature: bytes, data: bytes) -> str | None:
        """Error text unless ``signature`` is this identity's signature of ``data``.

        ECDSA: DER ``(r, s)`` over SHA-256(data) with low S, as Fabric's MSP requires.
        """
        key = self.public_key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                _, s = decode_dss_signature(signature)
                if s > self.curve_order >> 1:
                    return f"signature by {self.subject} has a high S value (Fabric requires low S)"
                key.verify(signature, data, _ECDSA_SHA256)
            else:
                key.verify(signature, data)
        except InvalidSignature:
            return f"signature by {self.subject} does not verify"
        except ValueError as exc:
            return f"signature by {self.subject} is malformed: {exc}"
        return None


class TrustStore:
    """Trusted MSPs (CA certificates and roles), optionally pinning channel and chaincode."""

    def __init__(
        self,
        msps: Iterable[MspTrust],
        *,
        channel: str | None = None,
        chaincode: str | None = None,
        source: str | None = None,
        erasure_signers: Mapping[str, Iterable[bytes]] | None = None,
    ) -> None:
        self.msps: dict[str, MspTrust] = {m.msp_id: m for m in msps}
        #: actor -> raw 32-byte Ed25519 public keys trusted to sign erasure records
        self.erasure_signers: dict[str, tuple[bytes, ...]] = {
            actor: tuple(keys) for actor, keys in (erasure_signers or {}).items()
        }
        if not self.msps:
            raise EvidenceError("a trust store needs at least one MSP")
        self.channel = channel
        self.chaincode = chaincode
        self.source = source
        self.application_msps: tuple[str, ...] = tuple(
            sorted(m for m, t in self.msps.items() if t.role is MspRole.APPLICATION)
        )
        self.orderer_msps: tuple[str, ...] = tuple(
            sorted(m for m, t in self.msps.items() if t.role is MspRole.ORDERER)
        )
        self._identities: dict[bytes, TrustedIdentity | str] = {}
        self._ca_der: dict[str, tuple[bytes, ...]] = {}

    def ca_certificates_der(self, msp_id: str) -> tuple[bytes, ...]:
        """The MSP's CA certificates, DER, in the trust directory's order (cached: the
        checkpoint form unpacks its block with them)."""
        der = self._ca_der.get(msp_id)
        if der is None:
            certs = self.msps[msp_id].ca_certs
            der = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)
            self._ca_der[msp_id] = der
        return der

    def __repr__(self) -> str:
        return (
            f"TrustStore(application={list(self.application_msps)}, "
            f"orderer={list(self.orderer_msps)}, channel={self.channel!r}, "
            f"chaincode={self.chaincode!r})"
        )

    @property
    def endorsement_quorum(self) -> int:
        """Distinct application orgs that must endorse: MAJORITY (more than half)."""
        return len(self.application_msps) // 2 + 1

    # -- identities ---------------------------------------------------------------------------
    def identity(self, serialized: bytes) -> TrustedIdentity:
        """Check a serialized identity against the trusted CAs (cached per distinct bytes).

        Raises:
            IdentityError: malformed, unknown MSP, or not issued by that MSP's CA.
        """
        cached = self._identities.get(serialized)
        if cached is None:
            try:
                cached = self._check_identity(serialized)
            except IdentityError as exc:
                cached = str(exc)
            except (ValueError, TypeError) as exc:  # certificate fields that do not parse
                cached = f"identity cannot be checked: {exc}"
            if len(self._identities) >= _IDENTITY_CACHE_LIMIT:
                self._identities.clear()
            self._identities[serialized] = cached
        if isinstance(cached, str):
            raise IdentityError(cached)
        return cached

    def _check_identity(self, serialized: bytes) -> TrustedIdentity:
        try:
            sid = protos.SerializedIdentity.FromString(serialized)
        except DecodeError as exc:
            raise IdentityError(f"identity is not a serialized MSP identity: {exc}") from None
        trust = self.msps.get(sid.mspid)
        if trust is None:
            known = ", ".join(sorted(self.msps))
            raise IdentityError(f"MSP {sid.mspid!r} is not in the trust directory ({known})")
        try:
            cert = x509.load_pem_x509_certificate(sid.id_bytes)
        except ValueError as exc:
            raise IdentityError(f"{sid.mspid} identity holds no PEM certificate: {exc}") from None
        subject = _subject_cn(cert)
        for ca in trust.ca_certs:
            try:
                cert.verify_directly_issued_by(ca)
                break
            except (ValueError, TypeError, InvalidSignature):
                continue
        else:
            raise IdentityError(
                f"certificate {subject} is not issued by a trusted {sid.mspid} CA "
                f"(issuer {cert.issuer.rfc4514_string()})"
            )
        key = cert.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            order = _CURVE_ORDERS.get(key.curve.name)
            if order is None:
                raise IdentityError(f"certificate {subject}: unsupported curve {key.curve.name}")
        elif isinstance(key, ed25519.Ed25519PublicKey):
            order = 0
        else:
            raise IdentityError(f"certificate {subject}: unsupported key type {type(key).__name__}")
        ous = frozenset(
            str(a.value)
            for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        )
        return TrustedIdentity(
            msp_id=sid.mspid,
            role=trust.role,
            subject=subject,
            ous=ous,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            public_key=key,
            curve_order=order,
        )

    # -- loading and writing --------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path) -> TrustStore:
        """Load a trust directory (see the module docstring for the layout).

        Raises:
            EvidenceError: missing directory, unreadable manifest or certificates.
        """
        root = Path(directory)
        if not root.is_dir():
            raise EvidenceError(f"trust directory {root} does not exist")
        manifest = root / TRUST_MANIFEST
        if manifest.exists():
            return cls._load_manifest(root, manifest)
        msps = []
        for pem in sorted(root.glob("*.pem")):
            msp_id = pem.stem
            role = MspRole.ORDERER if "orderer" in msp_id.lower() else MspRole.APPLICATION
            msps.append(MspTrust(msp_id=msp_id, role=role, ca_certs=_load_certs(pem)))
        if not msps:
            raise EvidenceError(f"trust directory {root} holds no {TRUST_MANIFEST} and no *.pem")
        return cls(msps, source=str(root))

    @classmethod
    def _load_manifest(cls, root: Path, manifest: Path) -> TrustStore:
        try:
            data: Any = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"{manifest}: cannot read: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != TRUST_FORMAT:
            raise EvidenceError(f"{manifest}: not a {TRUST_FORMAT} manifest")
        entries = data.get("msps")
        if not isinstance(entries, dict) or not entries:
            raise EvidenceError(f"{manifest}: 'msps' must be a non-empty object")
        msps = []
        for msp_id, entry in entries.items():
            if not isinstance(entry, dict):
                raise EvidenceError(f"{manifest}: msps.{msp_id} must be an object")
            try:
                role = MspRole(str(entry.get("role")))
            except ValueError:
                raise EvidenceError(
                    f"{manifest}: msps.{msp_id}.role must be 'application' or 'orderer'"
                ) from None
            ca = entry.get("ca", f"{msp_id}.pem")
            if not isinstance(ca, str) or "/" in ca or "\\" in ca:
                raise EvidenceError(f"{manifest}: msps.{msp_id}.ca must be a file name in {root}")
            msps.append(MspTrust(msp_id=msp_id, role=role, ca_certs=_load_certs(root / ca)))
        channel = data.get("channel")
        chaincode = data.get("chaincode")
        for name, value in (("channel", channel), ("chaincode", chaincode)):
            if value is not None and not isinstance(value, str):
                raise EvidenceError(f"{manifest}: {name} must be a string")
        signers = _erasure_signers(manifest, data.get("erasure_signers", {}))
        return cls(
            msps,
            channel=channel,
            chaincode=chaincode,
            source=str(root),
            erasure_signers=signers,
        )

    @classmethod
    def from_pems(
        cls,
        application: Mapping[str, bytes],
        orderer: Mapping[str, bytes],
        *,
        channel: str | None = None,
        chaincode: str | None = None,
    ) -> TrustStore:
        """Build a trust store from PEM bytes per MSP id (tests, embedding)."""
        msps = [
            MspTrust(msp_id=m, role=MspRole.APPLICATION, ca_certs=_parse_certs(pem, m))
            for m, pem in application.items()
        ] + [
            MspTrust(msp_id=m, role=MspRole.ORDERER, ca_certs=_parse_certs(pem, m))
            for m, pem in orderer.items()
        ]
        return cls(msps, channel=channel, chaincode=chaincode)

    @classmethod
    def from_topology(
        cls, topology: NetworkDescription, *, orderer_msp_id: str = "OrdererMSP"
    ) -> TrustStore:
        """The network's trust roots: each peer org's signing CA and the orderer org's CA,
        pinned to the network's channel and chaincode."""
        msps = [
            MspTrust(
                msp_id=o.msp_id, role=MspRole.APPLICATION, ca_certs=_load_certs(Path(o.ca_cert))
            )
            for o in topology.orgs
        ]
        if topology.orderer_org_ca:
            msps.append(
                MspTrust(
                    msp_id=orderer_msp_id,
                    role=MspRole.ORDERER,
                    ca_certs=_load_certs(Path(topology.orderer_org_ca)),
                )
            )
        return cls(msps, channel=topology.channel, chaincode=topology.chaincode)

    def write(self, directory: str | Path) -> list[Path]:
        """Write this store as a trust directory; returns the files written."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        written = []
        manifest: dict[str, Any] = {"format": TRUST_FORMAT}
        if self.channel is not None:
            manifest["channel"] = self.channel
        if self.chaincode is not None:
            manifest["chaincode"] = self.chaincode
        if self.erasure_signers:
            manifest["erasure_signers"] = {
                actor: [base64.b64encode(k).decode("ascii") for k in keys]
                for actor, keys in sorted(self.erasure_signers.items())
            }
        manifest["msps"] = {}
        for msp_id in sorted(self.msps):
            trust = self.msps[msp_id]
            path = root / f"{msp_id}.pem"
            path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in trust.ca_certs))
            written.append(path)
            manifest["msps"][msp_id] = {"role": trust.role.value, "ca": path.name}
        path = root / TRUST_MANIFEST
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        written.append(path)
        return written


def _erasure_signers(manifest: Path, value: object) -> dict[str, list[bytes]]:
    problem = f"{manifest}: erasure_signers must map actors to lists of base64 Ed25519 keys"
    if not isinstance(value, dict):
        raise EvidenceError(problem)
    signers: dict[str, list[bytes]] = {}
    for actor, keys in value.items():
        if not isinstance(keys, list):
            raise EvidenceError(problem)
        for key in keys:
            try:
                raw = base64.b64decode(key, validate=True) if isinstance(key, str) else b""
            except binascii.Error:
                raw = b""
            if len(raw) != 32:
                raise EvidenceError(f"{problem} ({actor}: {str(key)[:60]!r})")
            signers.setdefault(actor, []).append(raw)
    return signers


def _subject_cn(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return f'"{cns[0].value!s}"' if cns else f'"{cert.subject.rfc4514_string()}"'


def _parse_certs(pem: bytes, label: str) -> tuple[x509.Certificate, ...]:
    try:
        certs = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise EvidenceError(f"{label}: no readable PEM certificate: {exc}") from None
    if not certs:
        raise EvidenceError(f"{label}: no PEM certificate")
    return certs


def _load_certs(path: Path) -> tuple[x509.Certificate, ...]:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"cannot read {path}: {exc}") from None
    return _parse_certs(pem, str(path))
