"""The binary serialisation of checkpoint-form bundles: the same ``credit-ledger-evidence/5``
bundle as deterministic CBOR (RFC 8949 §4.2.1), with its binary fields as CBOR byte strings
instead of base64 text (docs/evidence-format.md §8 "Two serialisations").

JSON must spell the packed block, the proof, the salt and the header hash in base64 (a third
larger); CBOR carries them as they are, which keeps a single-record bundle under 4 KB however
large the log grows. The two serialisations carry one logical bundle: decoding CBOR yields
exactly the object the JSON form parses to, so the shape checks, the steps and every golden
case apply unchanged.

Strict before anything else: the input must be the deterministic encoding of what it decodes
to (so no duplicate map keys, no indefinite lengths, no non-shortest integers, no tags), its
maps have text keys, and a binary field holds bytes where the JSON form holds base64.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import cbor2
import pybase64

from credit_ledger_verify.evidence.bundle import BundleShapeError

__all__ = ["CBOR_MEDIA_TYPE", "decode_cbor_bundle", "encode_cbor_bundle", "is_cbor_bundle"]

CBOR_MEDIA_TYPE = "application/cbor"

#: The binary fields of the checkpoint form: in ``anchor``, and in each record entry (plus its
#: ``log.proof``).
_ANCHOR_BINARY = ("previous_hash", "packed")
_RECORD_BINARY = ("salt", "commitment")
_MAX_BYTES = 8 << 20


def is_cbor_bundle(data: bytes | bytearray) -> bool:
    """Whether ``data`` looks like a CBOR bundle: it opens a CBOR map (major type 5); a JSON
    bundle opens with ``{`` or whitespace."""
    return bool(data) and data[0] >> 5 == 5


def _convert(obj: dict[str, Any], to: Callable[[Any, str], Any]) -> dict[str, Any]:
    out = dict(obj)
    anchor = out.get("anchor")
    if isinstance(anchor, dict):
        anchor = dict(anchor)
        for key in _ANCHOR_BINARY:
            if key in anchor:
                anchor[key] = to(anchor[key], f"anchor.{key}")
        out["anchor"] = anchor
    records = out.get("records")
    if isinstance(records, list):
        converted = []
        for i, entry in enumerate(records):
            if isinstance(entry, dict):
                entry = dict(entry)
                for key in _RECORD_BINARY:
                    if key in entry:
                        entry[key] = to(entry[key], f"records[{i}].{key}")
                log = entry.get("log")
                if isinstance(log, dict) and "proof" in log:
                    entry["log"] = {**log, "proof": to(log["proof"], f"records[{i}].log.proof")}
            converted.append(entry)
        out["records"] = converted
    return out


def _to_bytes(value: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value  # the shape check names the wrong type
    try:
        return pybase64.b64decode(value, validate=True)
    except ValueError:
        raise BundleShapeError(f"{where}: not base64") from None


def _require_bytes(value: Any, where: str) -> Any:
    if isinstance(value, str):
        raise BundleShapeError(f"{where}: must be a CBOR byte string, found text")
    return value  # bytes; any other type is named by the shape check


def _check_plain(value: Any, where: str) -> None:
    """Only the data model JSON has (floats included: a record's content with one fails step 1
    as in JSON), plus byte strings: no tags, undefined or other CBOR values."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BundleShapeError(f"{where}: map keys must be text, found {key!r:.40}")
            _check_plain(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif value is None or isinstance(value, (str, bytes, bool, int, float)):
        return
    else:
        raise BundleShapeError(f"{where or 'bundle'}: a CBOR {type(value).__name__} is not allowed")


def decode_cbor_bundle(data: bytes | bytearray) -> dict[str, Any]:
    """The bundle object of a CBOR checkpoint-form bundle, ready for the same strict shape
    parser as the JSON form (which takes a binary field as bytes here, as base64 text there).

    Raises:
        BundleShapeError: not deterministic CBOR of a map, or a field of the wrong kind.
    """
    raw = bytes(data)
    if len(raw) > _MAX_BYTES:
        raise BundleShapeError(f"CBOR bundle of {len(raw)} bytes is larger than {_MAX_BYTES}")
    stream = io.BytesIO(raw)
    try:
        obj = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise BundleShapeError(f"bundle is not CBOR: {exc}") from None
    if stream.tell() != len(raw):
        raise BundleShapeError(
            f"bundle is not CBOR: {len(raw) - stream.tell()} bytes after the map"
        )
    if not isinstance(obj, dict):
        raise BundleShapeError("CBOR bundle must be a map")
    _check_plain(obj, "")
    # deterministic encoding only: one byte string per bundle (no duplicate keys, shortest
    # forms, sorted keys), so the bytes a verifier checks are the bytes that were built
    if cbor2.dumps(obj, canonical=True) != raw:
        raise BundleShapeError("CBOR bundle is not in deterministic encoding (RFC 8949 §4.2.1)")
    return _convert(obj, _require_bytes)


def encode_cbor_bundle(bundle: dict[str, Any]) -> bytes:
    """The deterministic CBOR serialisation of a checkpoint-form bundle object (as built for
    JSON: binary fields in base64)."""
    return bytes(cbor2.dumps(_convert(bundle, _to_bytes), canonical=True))
