"""Signed notes and note keys against published vectors of other implementations."""

from __future__ import annotations

import pytest
from credit_ledger_verify.tlog import (
    ED25519_COSIGNATURE,
    NoteFormatError,
    NoteKeyError,
    NoteSignature,
    SignerKey,
    VerifierKey,
    encode_note,
    parse_note,
)

# golang.org/x/mod/sumdb/note's documented example (package doc, note_test.go).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# A type 0x04 (cosigner) verifier key from transparency-dev/formats' tests: its key ID
# is checked on parsing, so this pins the cosignature key ID rule.
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_go_note_verifies_and_is_reproduced_byte_for_byte() -> None:
    key = VerifierKey.parse(GO_VKEY)
    note = parse_note(GO_NOTE.encode())
    assert note.text == GO_TEXT
    (signature,) = note.signatures
    assert (signature.name, signature.key_id) == ("PeterNeumann", key.key_id)
    assert key.verify(GO_TEXT.encode(), signature.signature)
    assert not key.verify(GO_TEXT.replace("answer", "Answer").encode(), signature.signature)
    signer = SignerKey.parse(GO_SKEY)
    assert signer.verifier == key
    assert signer.encode() == GO_SKEY
    assert key.encode() == GO_VKEY
    line = NoteSignature(signer.name, key.key_id, signer.sign(GO_TEXT.encode()))
    assert encode_note(GO_TEXT, [line]).decode() == GO_NOTE


def test_cosigner_key_id_uses_type_0x04() -> None:
    key = VerifierKey.parse(COSIGNER_VKEY)
    assert key.key_type == ED25519_COSIGNATURE
    assert key.encode() == COSIGNER_VKEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3", "got 2 part(s)"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lower-case hex"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "type 0x02"),
    ],
)
def test_bad_verifier_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(NoteKeyError) as raised:
        VerifierKey.parse(text)
    assert message in str(raised.value)


def test_note_shape_errors_name_the_line() -> None:
    with pytest.raises(NoteFormatError) as raised:
        parse_note(b"text\n\n\xff\n")
    assert "not valid UTF-8" in str(raised.value)
    with pytest.raises(NoteFormatError) as raised:
        parse_note(GO_NOTE + "— PeterNeumann !!!!\n")
    assert (raised.value.field, raised.value.line) == ("signature[1]", 5)
    with pytest.raises(NoteFormatError, match="at least one signature"):
        encode_note(GO_TEXT, [])
    assert "seed" not in repr(SignerKey.parse(GO_SKEY))
    assert "AYEK" not in repr(SignerKey.parse(GO_SKEY))


def test_a_signature_of_the_wrong_length_never_verifies() -> None:
    """libsodium checks signature ‖ message: a 63-byte signature must not borrow the
    message's first byte (which would make a signature of message[1:] pass for message)."""
    key = SignerKey.generate("log.example/shift")
    tail = b"the message without its first byte"
    signature = key.sign(tail)
    shifted = signature[63:] + tail  # the byte moved from the signature into the message
    assert key.verifier.verify(tail, signature)
    assert not key.verifier.verify(shifted, signature[:63])
    assert not key.verifier.verify(tail, signature + b"\x00")
    assert not key.verifier.verify(tail, bytes(64))
