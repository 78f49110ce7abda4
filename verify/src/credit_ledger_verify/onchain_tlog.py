"""The on-chain layout of the global log's checkpoints — the Python owner (with ``onchain``).

Its Go twin is ``chaincode/ledger/checkpoint_layout.go``; ``tests/data/onchain/*.json`` pins
the two together. In the chaincode's namespace::

    \\x00tlog\\x00key\\x00                 the log's note verifier key (registered once)
    \\x00tlog\\x00head\\x00                {"size","root"} of the latest anchored checkpoint
    \\x00tlog\\x00<size, 20 digits>\\x00   {"size","root","prev_size","note","tx_id","msp","ts"}

``AnchorCheckpoint``'s argument is ``{"note","prev_size","proof","log_key"}``: the signed
note (C2SP tlog-checkpoint), the size of the anchored checkpoint it extends, the RFC 6962
consistency proof from it (lowercase hex) and the log key. The chaincode verifies the note's
signature and the proof and refuses a checkpoint that does not extend the head
(docs/transparency.md). Decoders are strict and raise
:class:`~credit_ledger_verify.onchain.OnChainFormatError` with the chaincode's refusal code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from credit_ledger_verify.onchain import (
    OnChainFormatError,
    RefusalCode,
    composite_key,
    parse_rfc3339,
)

__all__ = [
    "CHECKPOINT_HEAD_KEY",
    "LOG_KEY_KEY",
    "MAX_LOG_SIZE",
    "TLOG_KEY_TYPE",
    "AnchorCheckpointArgument",
    "CheckpointHead",
    "CheckpointValue",
    "checkpoint_key",
    "decode_anchor_checkpoint",
    "decode_checkpoint_head",
    "decode_checkpoint_value",
    "encode_anchor_checkpoint",
    "encode_checkpoint_value",
    "parse_checkpoint_key",
]

TLOG_KEY_TYPE = "tlog"
LOG_KEY_KEY = composite_key(TLOG_KEY_TYPE, "key")
CHECKPOINT_HEAD_KEY = composite_key(TLOG_KEY_TYPE, "head")
#: JSON numbers stay exact below 2**53 in every decoder.
MAX_LOG_SIZE = 2**53 - 1
MAX_NOTE_BYTES = 4096
MAX_PROOF_HASHES = 128

_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SIZE_KEY = re.compile(r"\x00tlog\x00([0-9]{20})\x00")
_HEAD_FIELDS = ("size", "root")
_VALUE_FIELDS = ("size", "root", "prev_size", "note", "tx_id", "msp", "ts")
_ANCHOR_FIELDS = ("note", "prev_size", "proof", "log_key")


def checkpoint_key(size: int) -> str:
    """The state key of the anchored checkpoint of ``size`` (zero-padded: keys sort by size)."""
    if not 1 <= size <= MAX_LOG_SIZE:
        raise OnChainFormatError(RefusalCode.BAD_ARGUMENT, "size", f"must be 1..{MAX_LOG_SIZE}")
    return composite_key(TLOG_KEY_TYPE, f"{size:020d}")


def parse_checkpoint_key(key: str) -> int | None:
    """The size a checkpoint key names, or ``None`` for any other key."""
    m = _SIZE_KEY.fullmatch(key)
    return int(m.group(1)) if m else None


class CheckpointHead(NamedTuple):
    size: int
    root: bytes


class CheckpointValue(NamedTuple):
    size: int
    root: bytes
    prev_size: int
    #: the signed note as anchored (verify it with the log key: the chaincode did)
    note: str
    tx_id: str
    msp: str
    ts: datetime


class AnchorCheckpointArgument(NamedTuple):
    note: str
    prev_size: int
    proof: tuple[bytes, ...]
    log_key: str


def _object(
    data: bytes, fields: tuple[str, ...], what: str, refusal: RefusalCode
) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate field {key!r:.40}")
            out[key] = value
        return out

    try:
        obj = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise OnChainFormatError(refusal, what, f"not strict UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise OnChainFormatError(refusal, what, "must be a JSON object")
    if obj.keys() != set(fields):
        missing = [f for f in fields if f not in obj]
        unknown = sorted(k for k in obj if k not in fields)
        raise OnChainFormatError(
            refusal, what, f"wrong fields (missing: {missing}, unknown: {unknown})"
        )
    return obj


def _size(obj: dict[str, Any], name: str, minimum: int, refusal: RefusalCode) -> int:
    value = obj[name]
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not minimum <= value <= MAX_LOG_SIZE
    ):
        raise OnChainFormatError(
            refusal, name, f"must be an integer {minimum}..{MAX_LOG_SIZE}, got {value!r:.40}"
        )
    return value


def _text(
    obj: dict[str, Any], name: str, pattern: re.Pattern[str] | None, refusal: RefusalCode
) -> str:
    value = obj[name]
    if not isinstance(value, str) or not value:
        raise OnChainFormatError(refusal, name, "must be a non-empty string")
    if pattern is not None and pattern.fullmatch(value) is None:
        raise OnChainFormatError(refusal, name, f"bad value {value!r:.80}")
    if pattern is None and len(value.encode()) > MAX_NOTE_BYTES:
        raise OnChainFormatError(refusal, name, f"longer than {MAX_NOTE_BYTES} bytes")
    return value


def decode_checkpoint_head(value: bytes) -> CheckpointHead:
    """Decode the head value strictly."""
    corrupt = RefusalCode.CORRUPT_VALUE
    obj = _object(value, _HEAD_FIELDS, "checkpoint head", corrupt)
    return CheckpointHead(
        _size(obj, "size", 1, corrupt), bytes.fromhex(_text(obj, "root", _HEX64, corrupt))
    )


def decode_checkpoint_value(value: bytes) -> CheckpointValue:
    """Decode a checkpoint value strictly (the note is returned as text, unverified)."""
    corrupt = RefusalCode.CORRUPT_VALUE
    obj = _object(value, _VALUE_FIELDS, "checkpoint value", corrupt)
    size = _size(obj, "size", 1, corrupt)
    prev_size = _size(obj, "prev_size", 0, corrupt)
    if prev_size >= size:
        raise OnChainFormatError(corrupt, "prev_size", f"{prev_size} is not below size {size}")
    ts = obj["ts"]
    if not isinstance(ts, str):
        raise OnChainFormatError(corrupt, "ts", "must be a string")
    return CheckpointValue(
        size=size,
        root=bytes.fromhex(_text(obj, "root", _HEX64, corrupt)),
        prev_size=prev_size,
        note=_text(obj, "note", None, corrupt),
        tx_id=_text(obj, "tx_id", _ID, corrupt),
        msp=_text(obj, "msp", _ID, corrupt),
        ts=parse_rfc3339(ts),
    )


def _go_json(value: dict[str, Any]) -> bytes:
    # Go's encoding/json: compact, UTF-8 kept, and <, >, & escaped as \u003c \u003e \u0026.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def encode_checkpoint_value(
    size: int, root: bytes, prev_size: int, note: str, tx_id: str, msp: str, ts: str
) -> bytes:
    """The checkpoint value exactly as the chaincode writes it (Go struct field order)."""
    value = {"size": size, "root": root.hex(), "prev_size": prev_size, "note": note}
    encoded = _go_json(value | {"tx_id": tx_id, "msp": msp, "ts": ts})
    decode_checkpoint_value(encoded)  # never produce what the decoder would refuse
    return encoded


def encode_anchor_checkpoint(
    note: str, prev_size: int, proof: Sequence[bytes], log_key: str
) -> bytes:
    """AnchorCheckpoint's argument."""
    for i, h in enumerate(proof):
        if len(h) != 32:
            raise OnChainFormatError(
                RefusalCode.BAD_ARGUMENT, f"proof[{i}]", f"must be 32 bytes, got {len(h)}"
            )
    value = {"note": note, "prev_size": prev_size, "proof": [h.hex() for h in proof]}
    encoded = _go_json(value | {"log_key": log_key})
    decode_anchor_checkpoint(encoded)
    return encoded


def decode_anchor_checkpoint(data: bytes) -> AnchorCheckpointArgument:
    """Decode AnchorCheckpoint's argument as the chaincode does, in the same field order."""
    bad = RefusalCode.BAD_ARGUMENT
    obj = _object(data, _ANCHOR_FIELDS, "checkpoint argument", bad)
    note = _text(obj, "note", None, bad)
    prev_size = _size(obj, "prev_size", 0, bad)
    proof = obj["proof"]
    if not isinstance(proof, list):
        raise OnChainFormatError(bad, "proof", "must be an array of hashes")
    if len(proof) > MAX_PROOF_HASHES:
        raise OnChainFormatError(
            bad, "proof", f"has {len(proof)} hashes, at most {MAX_PROOF_HASHES}"
        )
    hashes: list[bytes] = []
    for i, h in enumerate(proof):
        if not isinstance(h, str) or _HEX64.fullmatch(h) is None:
            raise OnChainFormatError(bad, f"proof[{i}]", "must be 64 lowercase hex characters")
        hashes.append(bytes.fromhex(h))
    log_key = obj["log_key"]
    if not isinstance(log_key, str) or not 1 <= len(log_key.encode()) <= 512:
        raise OnChainFormatError(bad, "log_key", "must be a string of 1..512 bytes")
    return AnchorCheckpointArgument(note, prev_size, tuple(hashes), log_key)
