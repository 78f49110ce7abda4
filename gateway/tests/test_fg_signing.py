from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_gateway import ECDSASigner, hash, load_private_key, new_private_key_signer
from fabric_gateway.signing import curve_order, to_low_s
from hypothesis import given, settings
from hypothesis import strategies as st

CURVES = {"P-256": (ec.SECP256R1(), hashes.SHA256()), "P-384": (ec.SECP384R1(), hashes.SHA384())}
KEYS = {
    name: [ec.generate_private_key(curve) for _ in range(4)] for name, (curve, _) in CURVES.items()
}


@settings(max_examples=200, deadline=None)
@given(
    curve=st.sampled_from(sorted(CURVES)),
    key_index=st.integers(0, 3),
    message=st.binary(max_size=512),
    digest_name=st.sampled_from(["sha256", "sha384"]),
)
def test_ecdsa_signatures_verify_and_are_low_s(
    curve: str, key_index: int, message: bytes, digest_name: str
) -> None:
    key = KEYS[curve][key_index]
    digest = hashlib.new(digest_name, message).digest()
    signature = ECDSASigner(key)(digest)
    algorithm = hashes.SHA256() if digest_name == "sha256" else hashes.SHA384()
    key.public_key().verify(signature, digest, ec.ECDSA(Prehashed(algorithm)))
    # the same signature verifies over the message itself
    key.public_key().verify(signature, message, ec.ECDSA(algorithm))
    _, s = decode_dss_signature(signature)
    assert 0 < s <= curve_order(key.curve) // 2


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_fresh_keys_p256_and_p384_low_s(seed: int) -> None:
    for curve, _ in CURVES.values():
        key = ec.generate_private_key(curve)
        digest = hashlib.sha256(seed.to_bytes(8, "big")).digest()
        sig = new_private_key_signer(key)(digest)
        key.public_key().verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        assert decode_dss_signature(sig)[1] <= curve_order(curve) // 2


def test_to_low_s_normalises_high_s() -> None:
    key = KEYS["P-256"][0]
    n = curve_order(key.curve)
    digest = hashlib.sha256(b"x").digest()
    r, s = decode_dss_signature(ECDSASigner(key)(digest))
    high = encode_dss_signature(r, n - s)  # the equally valid high-S twin
    key.public_key().verify(high, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    low = to_low_s(high, key.curve)
    assert decode_dss_signature(low) == (r, s)
    assert to_low_s(low, key.curve) == low


def test_ecdsa_rejects_unhashed_input() -> None:
    with pytest.raises(ValueError, match="digest"):
        ECDSASigner(KEYS["P-256"][0])(b"short")


def test_ed25519_signer_signs_message() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signer = new_private_key_signer(key)
    message = b"proposal bytes"
    signature = signer(hash.none(message))
    key.public_key().verify(signature, message)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, message + b"!")


def test_load_private_key_pem_roundtrip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    key = KEYS["P-384"][1]
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "key_sk"
    path.write_bytes(pem)
    loaded = load_private_key(path)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    assert isinstance(load_private_key(pem), ec.EllipticCurvePrivateKey)


def test_unsupported_key_type() -> None:
    with pytest.raises(TypeError):
        new_private_key_signer(object())
