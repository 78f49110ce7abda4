from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fabric_gateway import X509Identity, deserialize_identity, hash, load_msp
from fabric_protos.msp import identities_pb2
from fg_testutil import new_identity, self_signed_cert


def _write_msp(root: Path, key: ec.EllipticCurvePrivateKey, key_name: str) -> None:
    (root / "signcerts").mkdir(parents=True)
    (root / "keystore").mkdir()
    (root / "signcerts" / "User1@org-cert.pem").write_bytes(self_signed_cert(key))
    (root / "keystore" / key_name).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.mark.parametrize("key_name", ["abc123_sk", "priv_sk.pem", "key.pem"])
def test_load_msp_folder(tmp_path: Path, key_name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    _write_msp(tmp_path, key, key_name)
    creds = load_msp(tmp_path, msp_id="BankMSP")
    assert creds.identity.msp_id == "BankMSP"
    assert (
        creds.identity.certificate.public_key().public_numbers()
        == key.public_key().public_numbers()
    )
    digest = hash.sha256(b"m")
    key.public_key().verify(creds.signer(digest), digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_load_msp_missing_key(tmp_path: Path) -> None:
    (tmp_path / "signcerts").mkdir()
    (tmp_path / "keystore").mkdir()
    (tmp_path / "signcerts" / "c.pem").write_bytes(
        self_signed_cert(ec.generate_private_key(ec.SECP256R1()))
    )
    with pytest.raises(FileNotFoundError, match="private key"):
        load_msp(tmp_path, msp_id="X")


def test_serialize_roundtrip() -> None:
    identity, _ = new_identity("PlatformMSP")
    raw = identity.serialize()
    sid = identities_pb2.SerializedIdentity.FromString(raw)
    assert sid.mspid == "PlatformMSP"
    assert sid.id_bytes == identity.certificate_pem
    assert deserialize_identity(raw) == identity


def test_identity_validation() -> None:
    with pytest.raises(ValueError, match="msp_id"):
        X509Identity(msp_id="", certificate_pem=b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(ValueError, match="PEM"):
        X509Identity(msp_id="M", certificate_pem=b"not a cert")
