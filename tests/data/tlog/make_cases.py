"""Regenerate the transparency-log golden files in this directory (deterministic).

    uv run python tests/data/tlog/make_cases.py

- ``keys.json``: TEST-ONLY keys (log, two witnesses, an unknown signer) from fixed seeds;
- ``checkpoints/*.json``: one signed checkpoint per file, valid or with one mutation, with
  the error code, field and message part that ``verify_checkpoint`` must raise;
- ``consistency/*.json``: one consistency proof per file over the leaves ``leaf-0``,
  ``leaf-1``, ... (hand-built mutations), with the expected error code and message part.

Ed25519 is deterministic, so a rerun rewrites identical files.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from credit_ledger_verify.merkle import build_tree
from credit_ledger_verify.tlog import (
    ED25519,
    ED25519_COSIGNATURE,
    Checkpoint,
    SignerKey,
    cosign,
    log_origin,
    sign_checkpoint,
)

HERE = Path(__file__).parent
ORIGIN = log_origin("credit-ledger.example", "ledger", "ledger")
TIME = 1_767_225_600  # 2026-01-01T00:00:00Z


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"credit-ledger TEST ONLY key: {label}".encode()).digest()


LOG = SignerKey(ORIGIN, ED25519, _seed("log"))
WITNESS_BANK = SignerKey("bank.example/witness", ED25519_COSIGNATURE, _seed("bank witness"))
WITNESS_REGULATOR = SignerKey(
    "regulator.example/witness", ED25519_COSIGNATURE, _seed("regulator witness")
)
STRANGER = SignerKey("stranger.example/witness", ED25519_COSIGNATURE, _seed("stranger"))


def _leaves(count: int) -> list[bytes]:
    return [f"leaf-{index}".encode() for index in range(count)]


def _write(folder: str, name: str, case: dict[str, Any]) -> None:
    path = HERE / folder / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n")


def _flip_base64_byte(line: str, offset: int) -> str:
    # Flips one bit in the decoded bytes of the base64 blob ending the line.
    head, blob = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[offset] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}"


def checkpoint_cases() -> dict[str, tuple[str, str | None, str | None, str]]:
    tree = build_tree(_leaves(13))
    checkpoint = Checkpoint(ORIGIN, tree.size, tree.root)
    text = checkpoint.text()
    bank = cosign(WITNESS_BANK, text, TIME)
    regulator = cosign(WITNESS_REGULATOR, text, TIME + 1)
    stranger = cosign(STRANGER, text, TIME)
    valid = sign_checkpoint(checkpoint, LOG, [bank]).decode()
    body, sigs = valid.split("\n\n")
    log_line, bank_line = sigs.rstrip("\n").split("\n")
    origin, size, root = body.split("\n")

    def note(text_lines: list[str], signature_lines: list[str]) -> str:
        return "\n".join(text_lines) + "\n\n" + "\n".join(signature_lines) + "\n"

    extended = Checkpoint(ORIGIN, tree.size, tree.root, ("anchored-in tx 9f2c",))
    ext_text = extended.text()
    other_origin = Checkpoint(log_origin("credit-ledger.example", "other", "ledger"), 13, tree.root)
    other_log = SignerKey(other_origin.origin, ED25519, _seed("log"))
    wrong_id = bytearray(base64.b64decode(log_line.rsplit(" ", 1)[1]))
    wrong_id[0] ^= 0xFF
    short_root = base64.b64encode(tree.root[:31]).decode()
    # name: (note, error code or None, field, message part)
    return {
        "valid": (valid, None, None, ""),
        "valid-two-cosignatures": (
            sign_checkpoint(checkpoint, LOG, [bank, regulator]).decode(),
            None,
            None,
            "",
        ),
        "valid-unknown-cosigner-ignored": (
            sign_checkpoint(checkpoint, LOG, [stranger, bank]).decode(),
            None,
            None,
            "",
        ),
        "valid-extension-line": (
            sign_checkpoint(extended, LOG, [cosign(WITNESS_BANK, ext_text, TIME)]).decode(),
            None,
            None,
            "",
        ),
        "bad-log-signature": (
            note([origin, size, root], [_flip_base64_byte(log_line, 10), bank_line]),
            "checkpoint_signature_invalid",
            "signature[0]",
            "log key's signature",
        ),
        "wrong-key-hash": (
            note(
                [origin, size, root],
                [
                    f"{log_line.rsplit(' ', 1)[0]} {base64.b64encode(bytes(wrong_id)).decode()}",
                    bank_line,
                ],
            ),
            "checkpoint_signature_invalid",
            "signatures",
            "no signature by the log key",
        ),
        "bad-cosignature": (
            note([origin, size, root], [log_line, _flip_base64_byte(bank_line, 20)]),
            "checkpoint_signature_invalid",
            "signature[1]",
            "cosignature",
        ),
        "cosignature-missing": (
            note([origin, size, root], [log_line]),
            "checkpoint_signature_invalid",
            "signatures",
            "0 valid witness cosignature(s), 1",
        ),
        "cosignature-by-unknown-witness-only": (
            note([origin, size, root], [log_line, stranger.line().rstrip("\n")]),
            "checkpoint_signature_invalid",
            "signatures",
            "0 valid witness cosignature(s), 1",
        ),
        "size-tampered": (
            note([origin, "14", root], [log_line, bank_line]),
            "checkpoint_signature_invalid",
            "signature[0]",
            "log key's signature",
        ),
        "reordered-lines": (
            note([origin, root, size], [log_line, bank_line]),
            "checkpoint_malformed",
            "size",
            "not a decimal number",
        ),
        "missing-blank-line": (
            "\n".join([origin, size, root, log_line, bank_line]) + "\n",
            "note_malformed",
            "text",
            "no blank line",
        ),
        "size-not-a-number": (
            note([origin, "thirteen", root], [log_line, bank_line]),
            "checkpoint_malformed",
            "size",
            "'thirteen' is not a decimal number",
        ),
        "size-leading-zero": (
            note([origin, "013", root], [log_line, bank_line]),
            "checkpoint_malformed",
            "size",
            "without leading zeros",
        ),
        "size-negative": (
            note([origin, "-13", root], [log_line, bank_line]),
            "checkpoint_malformed",
            "size",
            "not a decimal number",
        ),
        "root-wrong-length": (
            note([origin, size, short_root], [log_line, bank_line]),
            "checkpoint_malformed",
            "root",
            "must be 32 bytes, got 31",
        ),
        "root-not-base64": (
            note([origin, size, root.replace("=", "!")], [log_line, bank_line]),
            "checkpoint_malformed",
            "root",
            "not valid base64",
        ),
        "root-unpadded": (
            note([origin, size, root.rstrip("=")], [log_line, bank_line]),
            "checkpoint_malformed",
            "root",
            "not valid base64",
        ),
        "origin-empty": (
            note(["", size, root], [log_line, bank_line]),
            "checkpoint_malformed",
            "origin",
            "origin line is empty",
        ),
        "origin-of-another-log": (
            sign_checkpoint(other_origin, other_log, [bank]).decode(),
            "checkpoint_origin_unexpected",
            "origin",
            "is not the expected",
        ),
        "too-few-lines": (
            note([origin, size], [log_line, bank_line]),
            "checkpoint_malformed",
            "text",
            "got 2 line(s)",
        ),
        "empty-extension-line": (
            note([origin, size, root, "", "extension"], [log_line, bank_line]),
            "checkpoint_malformed",
            "extension[0]",
            "extension line is empty",
        ),
        "extra-trailing-newline": (
            valid + "\n",
            "note_malformed",
            "signatures",
            "ends in an empty line",
        ),
        "no-trailing-newline": (
            valid.rstrip("\n"),
            "note_malformed",
            "signatures",
            "does not end in a newline",
        ),
        "crlf-line-endings": (
            valid.replace("\n", "\r\n"),
            "note_malformed",
            None,
            "control character U+000D",
        ),
        "tab-in-text": (
            note([origin + "\t", size, root], [log_line, bank_line]),
            "note_malformed",
            None,
            "control character U+0009",
        ),
        "hyphen-instead-of-em-dash": (
            note([origin, size, root], ["-" + log_line[1:], bank_line]),
            "note_malformed",
            "signature[0]",
            "does not start with an em dash",
        ),
        "signature-without-name": (
            note([origin, size, root], ["— " + log_line.rsplit(" ", 1)[1], bank_line]),
            "note_malformed",
            "signature[0]",
            "got 1 space-separated parts",
        ),
        "signature-name-with-plus": (
            note([origin, size, root], [log_line.replace("/ledger ", "/led+ger ", 1), bank_line]),
            "note_malformed",
            "signature[0]",
            "must not contain spaces, '+'",
        ),
        "signature-too-short": (
            note([origin, size, root], [log_line, "— bank.example/witness AAAA"]),
            "note_malformed",
            "signature[1]",
            "got 3 bytes",
        ),
        "signature-not-base64": (
            note([origin, size, root], [log_line, bank_line + "*"]),
            "note_malformed",
            "signature[1]",
            "not valid base64",
        ),
    }


def consistency_cases() -> dict[str, dict[str, Any]]:
    tree = build_tree(_leaves(11))
    r = {size: tree.root_at(size) for size in range(12)}
    p37 = tree.consistency_proof(3, 7)
    p48 = tree.consistency_proof(4, 8)
    p611 = tree.consistency_proof(6, 11)
    flipped = bytearray(p611[1])
    flipped[0] ^= 0x10

    def case(
        size1: int,
        size2: int,
        proof: list[bytes],
        code: str | None,
        message: str,
        root1: bytes | None = None,
        root2: bytes | None = None,
    ) -> dict[str, Any]:
        return {
            "leaves": 11,
            "size1": size1,
            "size2": size2,
            "root1": (root1 if root1 is not None else r[size1]).hex(),
            "root2": (root2 if root2 is not None else r[size2]).hex(),
            "proof": [value.hex() for value in proof],
            "error": code,
            "message": message,
        }

    return {
        "3-to-7": case(3, 7, p37, None, ""),
        "4-to-8-old-tree-is-a-complete-subtree": case(4, 8, p48, None, ""),
        "6-to-11": case(6, 11, p611, None, ""),
        "0-to-5-empty-old-tree": case(0, 5, [], None, ""),
        "7-to-7-equal-sizes": case(7, 7, [], None, ""),
        "1-to-11": case(1, 11, tree.consistency_proof(1, 11), None, ""),
        "size1-above-size2": case(7, 3, p37, "bad_proof", "size1 7 is larger than size2 3"),
        "proof-one-hash-short": case(3, 7, p37[:-1], "bad_proof", "must have 4 hashes, got 3"),
        "proof-one-hash-long": case(3, 7, [*p37, p37[0]], "bad_proof", "must have 4 hashes, got 5"),
        "proof-empty-between-different-sizes": case(
            3, 7, [], "bad_proof", "from size 3 to size 7 must not be empty"
        ),
        "proof-not-empty-between-equal-sizes": case(
            7, 7, [p37[0]], "bad_proof", "between equal sizes must be empty, got 1"
        ),
        "proof-not-empty-from-empty-tree": case(
            0, 7, [p37[0]], "bad_proof", "from an empty tree must be empty, got 1"
        ),
        "proof-hash-31-bytes": case(
            3, 7, [p37[0], p37[1][:31], *p37[2:]], "bad_proof", "proof[1] must be 32 bytes, got 31"
        ),
        "root1-not-32-bytes": case(
            3, 7, p37, "bad_proof", "root1 must be 32 bytes, got 16", root1=r[3][:16]
        ),
        "negative-size": case(0, 7, [], "bad_proof", "size1 must not be negative", root1=r[0])
        | {"size1": -1},
        "root1-wrong": case(3, 7, p37, "root_mismatch", "root mismatch", root1=r[4]),
        "root2-wrong": case(3, 7, p37, "root_mismatch", "root mismatch", root2=r[8]),
        "roots-swapped": case(3, 7, p37, "root_mismatch", "root mismatch", root1=r[7], root2=r[3]),
        "proof-bit-flipped": case(
            6, 11, [p611[0], bytes(flipped), *p611[2:]], "root_mismatch", "root mismatch"
        ),
        "equal-sizes-different-roots": case(7, 7, [], "root_mismatch", "root mismatch", root2=r[8]),
        # 3->7 and 3->8 proofs have the same length: only the hashes tell them apart
        "proof-of-3-to-7-for-3-to-8": case(3, 8, p37, "root_mismatch", "root mismatch"),
    }


def main() -> None:
    keys = {
        "_comment": "TEST ONLY keys from fixed seeds (make_cases.py); never use elsewhere",
        "origin": ORIGIN,
        "log_signer": LOG.encode(),
        "log": LOG.verifier.encode(),
        "witnesses": [WITNESS_BANK.verifier.encode(), WITNESS_REGULATOR.verifier.encode()],
        "witness_signers": [WITNESS_BANK.encode(), WITNESS_REGULATOR.encode()],
        "witnesses_required": 1,
    }
    (HERE / "keys.json").write_text(json.dumps(keys, indent=1) + "\n")
    for name, (note, code, field, message) in checkpoint_cases().items():
        _write(
            "checkpoints",
            name,
            {
                "note": note,
                "error": code,
                "field": field,
                "message": message,
            },
        )
    for name, case in consistency_cases().items():
        _write("consistency", name, case)


if __name__ == "__main__":
    main()
