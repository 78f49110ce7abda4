"""credit_ledger_verify.onchain against the shared vectors (tests/data/onchain/, also walked by the
chaincode's `go test`), plus properties the vectors cannot enumerate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify import onchain_tlog
from credit_ledger_verify.onchain import (
    MAX_RECORDS,
    RECORD_KEY_LENGTH,
    OnChainFormatError,
    RefusalCode,
    decode_batch_value,
    decode_put_batch,
    decode_record_value,
    encode_batch_value,
    encode_put_batch,
    encode_record_value,
    parse_record_key,
    parse_refusal,
    parse_rfc3339,
    record_key,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_service.errors import LedgerError

VECTORS = Path(__file__).resolve().parents[1] / "data" / "onchain"
CASES = sorted(VECTORS.glob("*.json"))


def _input(case: dict[str, Any]) -> bytes:
    if "input_hex" in case:
        return bytes.fromhex(case["input_hex"])
    return str(case["input"]).encode("utf-8", "surrogatepass")


def _decode(kind: str, data: bytes) -> dict[str, Any]:
    """Decode with onchain.py and render the result like the vectors' ``decoded``."""
    if kind == "record_key":
        return {"commitment": parse_record_key(data.decode()).hex()}
    if kind == "record_value":
        return decode_record_value(data)._asdict()
    if kind == "batch_value":
        bv = decode_batch_value(data)
        return {**bv._asdict(), "root": bv.root.hex()}
    if kind == "put_batch":
        arg = decode_put_batch(data)
        return {
            "batch_id": arg.batch_id,
            "root": arg.root.hex(),
            "records": [c.hex() for c in arg.commitments],
        }
    if kind == "checkpoint_value":
        cv = onchain_tlog.decode_checkpoint_value(data)
        return {**cv._asdict(), "root": cv.root.hex()}
    if kind == "checkpoint_head":
        head = onchain_tlog.decode_checkpoint_head(data)
        return {"size": head.size, "root": head.root.hex()}
    if kind == "anchor_checkpoint":
        arg = onchain_tlog.decode_anchor_checkpoint(data)
        return {**arg._asdict(), "proof": [h.hex() for h in arg.proof]}
    raise AssertionError(f"unknown vector kind {kind!r}")


def _encode(kind: str, decoded: dict[str, Any]) -> bytes:
    if kind == "record_key":
        return record_key(bytes.fromhex(decoded["commitment"])).encode()
    if kind == "record_value":
        return encode_record_value(decoded["leaf_index"], decoded["batch_id"])
    if kind == "batch_value":
        return encode_batch_value(**{**decoded, "root": bytes.fromhex(decoded["root"])})
    if kind == "checkpoint_value":
        return onchain_tlog.encode_checkpoint_value(
            **{**decoded, "root": bytes.fromhex(decoded["root"])}
        )
    if kind == "checkpoint_head":
        return f'{{"size":{decoded["size"]},"root":"{decoded["root"]}"}}'.encode()
    if kind == "anchor_checkpoint":
        proof = [bytes.fromhex(h) for h in decoded["proof"]]
        return onchain_tlog.encode_anchor_checkpoint(
            decoded["note"], decoded["prev_size"], proof, decoded["log_key"]
        )
    records = [bytes.fromhex(c) for c in decoded["records"]]
    return encode_put_batch(decoded["batch_id"], bytes.fromhex(decoded["root"]), records)


def test_the_vectors_are_there() -> None:
    kinds = {json.loads(p.read_text())["kind"] for p in CASES}
    assert kinds == {
        "record_key",
        "record_value",
        "batch_value",
        "put_batch",
        "checkpoint_value",
        "checkpoint_head",
        "anchor_checkpoint",
    }
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    data = _input(case)
    if not case["valid"]:
        with pytest.raises(OnChainFormatError) as info:
            _decode(case["kind"], data)
        assert info.value.refusal == RefusalCode(case["refusal"]), str(info.value)
        return
    got = _decode(case["kind"], data)
    expected = dict(case["decoded"])
    if case["kind"] in ("batch_value", "checkpoint_value"):
        expected["ts"] = parse_rfc3339(expected["ts"])
    assert got == expected
    if case["canonical"]:
        assert _encode(case["kind"], case["decoded"]) == data


def test_error_is_a_ledger_error_with_a_stable_code() -> None:
    with pytest.raises(LedgerError) as info:
        decode_record_value(b"")
    assert isinstance(info.value, OnChainFormatError)
    assert info.value.code == "onchain_format"
    assert info.value.field == "record value"


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        ("[record_exists] record ab already anchored", RefusalCode.RECORD_EXISTS, "record ab "),
        (
            'endorse failure: chaincode response 500, [batch_exists] batch "b1" already exists',
            RefusalCode.BATCH_EXISTS,
            'batch "b1" already exists',
        ),
        ("[no_such_code] x [not_writer] writer MSP", RefusalCode.NOT_WRITER, "writer MSP"),
        ("record r1 already anchored", None, "record r1 already anchored"),
        ("[bad_argument]no space", None, "[bad_argument]no space"),
    ],
)
def test_parse_refusal(message: str, code: RefusalCode | None, text: str) -> None:
    got_code, got_text = parse_refusal(message)
    assert got_code == code
    assert got_text.startswith(text)


# -- properties -----------------------------------------------------------------------------------

_ids = st.text(alphabet="abcXYZ019._:-", min_size=1, max_size=128)


@settings(max_examples=300, deadline=None)
@given(b=_ids, i=st.integers(0, MAX_RECORDS - 1))
def test_record_value_round_trip(b: str, i: int) -> None:
    assert decode_record_value(encode_record_value(i, b)) == (i, b)


@settings(max_examples=500, deadline=None)
@given(
    b=_ids,
    i=st.integers(0, MAX_RECORDS - 1),
    at=st.integers(0, 200),
    byte=st.integers(0, 255),
    cut=st.booleans(),
)
def test_mutated_record_value_is_refused_or_canonical(
    b: str, i: int, at: int, byte: int, cut: bool
) -> None:
    """Whatever a mutation makes of a value, the decoder either refuses it or accepts bytes
    that are exactly the encoding of what it returns (one encoding per value)."""
    value = bytearray(encode_record_value(i, b))
    at %= len(value)
    if cut:
        del value[at]
    else:
        value[at] = byte
    mutated = bytes(value)
    try:
        got = decode_record_value(mutated)
    except OnChainFormatError as exc:
        refusal = exc.refusal
    else:
        assert encode_record_value(got.leaf_index, got.batch_id) == mutated
        return
    assert refusal is RefusalCode.CORRUPT_VALUE


@settings(max_examples=300, deadline=None)
@given(commitment=st.binary(min_size=32, max_size=32))
def test_record_key_round_trip(commitment: bytes) -> None:
    key = record_key(commitment)
    assert len(key) == len(key.encode()) == RECORD_KEY_LENGTH == 49
    assert parse_record_key(key) == commitment


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@settings(max_examples=500, deadline=None)
@given(
    commitment=st.binary(min_size=32, max_size=32),
    at=st.integers(0, 43),
    char=st.sampled_from(_BASE64URL + "+/=\n\u00e9"),
    insert=st.booleans(),
)
def test_record_key_accepts_exactly_the_canonical_encodings(
    commitment: bytes, at: int, char: str, insert: bool
) -> None:
    """A mutated key is accepted iff it is the encoding of what it decodes to (one key per
    commitment): the last-character pairs that lenient decoders fold together ("Q"/"R")
    are told apart."""
    text = record_key(commitment)[5:-1]
    text = text[:at] + char + text[at + (0 if insert else 1) :]
    key = f"\x00rec\x00{text}\x00"
    canonical = (
        len(text) == 43 and set(text) <= set(_BASE64URL) and _BASE64URL.index(text[-1]) % 4 == 0
    )
    if canonical:
        assert record_key(parse_record_key(key)) == key
    else:
        with pytest.raises(OnChainFormatError) as info:
            parse_record_key(key)
        assert info.value.refusal is RefusalCode.CORRUPT_VALUE


@settings(max_examples=100, deadline=None)
@given(
    batch_id=_ids,
    commitments=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True),
)
def test_put_batch_round_trip(batch_id: str, commitments: list[bytes]) -> None:
    root = bytes(range(32))
    arg = decode_put_batch(encode_put_batch(batch_id, root, commitments))
    assert arg == (batch_id, root, tuple(commitments))


def test_encoders_refuse_what_the_chaincode_would() -> None:
    with pytest.raises(OnChainFormatError, match="batch_id"):
        encode_put_batch("a b", bytes(32), [bytes(32)])
    with pytest.raises(OnChainFormatError, match="records"):
        encode_put_batch("b", bytes(32), [])
    with pytest.raises(OnChainFormatError, match="leaf_index"):
        encode_record_value(MAX_RECORDS, "b")
    with pytest.raises(OnChainFormatError, match="commitment"):
        record_key(b"short")
