"""Write the on-chain layout vectors (one case per file) from the literal table below.

    uv run python tests/data/onchain/derive_vectors.py

The table is written out by hand from chaincode/README.md ("On-chain layout") — it does not
use credit_ledger_verify.onchain or the chaincode, which both tests check against it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
C = [hashlib.sha256(f"commitment-{i}".encode()).hexdigest() for i in range(4)]
# A record key carries the commitment as unpadded base64url (RFC 4648 §5, 43 characters).
# K0 is C[0] so, written out: it has "-", and its last character "Q" (alphabet index 16)
# has its 2 spare bits zero.
K0 = "pXd3-7nCNP8UraOkkVXIVMY07s6z8s1K6Fu-LWe1ojQ"
assert base64.urlsafe_b64encode(bytes.fromhex(C[0])) == K0.encode() + b"="
ROOT = hashlib.sha256(b"root").hexdigest()
TS = "2026-01-01T00:00:00.123456Z"


def batch_value(**over: Any) -> str:
    fields: dict[str, Any] = {
        "batch_id": "b-000042",
        "root": ROOT,
        "size": 3,
        "tx_id": "a" * 64,
        "msp": "PlatformMSP",
        "ts": TS,
    }
    fields.update(over)
    return json.dumps(fields, separators=(",", ":"))


def put_batch(**over: Any) -> str:
    fields: dict[str, Any] = {"batch_id": "b-000042", "root": ROOT, "records": C[:3]}
    fields.update(over)
    return json.dumps(fields, separators=(",", ":"))


NOTE = (
    "credit-ledger.example/ledger/ledger\n13\n"
    + base64.b64encode(bytes.fromhex(ROOT)).decode()
    + "\n\n\u2014 credit-ledger.example/ledger/ledger AAAAAAAA\n"
)
LOG_KEY = "credit-ledger.example/ledger/ledger+0a1b2c3d+AQ" + "A" * 42 + "="


def checkpoint_value(**over: Any) -> str:
    fields: dict[str, Any] = {
        "size": 13,
        "root": ROOT,
        "prev_size": 5,
        "note": NOTE,
        "tx_id": "a" * 64,
        "msp": "PlatformMSP",
        "ts": TS,
    }
    fields.update(over)
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def anchor_checkpoint(**over: Any) -> str:
    fields: dict[str, Any] = {"note": NOTE, "prev_size": 5, "proof": C[:2], "log_key": LOG_KEY}
    fields.update(over)
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


CV = checkpoint_value()
AC = anchor_checkpoint()
BV = batch_value()
BV_DECODED = json.loads(BV)
PB = put_batch()
PB_DECODED = json.loads(PB)

VALID: list[tuple[str, str, dict[str, Any], dict[str, Any], bool]] = [
    # name, kind, input field, decoded, canonical
    ("record_key", "record_key", {"input": f"\x00rec\x00{K0}\x00"}, {"commitment": C[0]}, True),
    (
        "record_key_all_zero",
        "record_key",
        {"input": "\x00rec\x00" + "A" * 43 + "\x00"},
        {"commitment": "00" * 32},
        True,
    ),
    (
        "record_key_all_ones",
        "record_key",
        {"input": "\x00rec\x00" + "_" * 42 + "8\x00"},
        {"commitment": "ff" * 32},
        True,
    ),
    (
        "record_value_leaf_0",
        "record_value",
        {"input_hex": "00" + b"b-1".hex()},
        {"leaf_index": 0, "batch_id": "b-1"},
        True,
    ),
    (
        "record_value_leaf_127",
        "record_value",
        {"input_hex": "7f" + b"b-1".hex()},
        {"leaf_index": 127, "batch_id": "b-1"},
        True,
    ),
    (
        "record_value_leaf_300",
        "record_value",
        {"input_hex": "ac02" + b"b:7".hex()},
        {"leaf_index": 300, "batch_id": "b:7"},
        True,
    ),
    (
        "record_value_leaf_49999",
        "record_value",
        {"input_hex": "cf8603" + b"B_x.9".hex()},
        {"leaf_index": 49999, "batch_id": "B_x.9"},
        True,
    ),
    ("batch_value", "batch_value", {"input": BV}, BV_DECODED, True),
    (
        "batch_value_whole_second",
        "batch_value",
        {"input": batch_value(ts="2026-01-01T00:00:00Z")},
        {**BV_DECODED, "ts": "2026-01-01T00:00:00Z"},
        True,
    ),
    (
        "batch_value_nanoseconds",
        "batch_value",
        {"input": batch_value(ts="2026-01-01T00:00:00.000000005Z")},
        {**BV_DECODED, "ts": "2026-01-01T00:00:00.000000005Z"},
        True,
    ),
    (
        "batch_value_any_key_order",
        "batch_value",
        {
            "input": ' {{"ts":"{}","msp":"PlatformMSP","tx_id":"{}","size":3,"root":"{}",'
            '"batch_id":"b-000042"}} '.format(TS, "a" * 64, ROOT)
        },
        BV_DECODED,
        False,
    ),
    ("put_batch", "put_batch", {"input": PB}, PB_DECODED, True),
    (
        "put_batch_one_record",
        "put_batch",
        {"input": put_batch(records=[C[3]])},
        {**PB_DECODED, "records": [C[3]]},
        True,
    ),
    ("checkpoint_value", "checkpoint_value", {"input": CV}, json.loads(CV), True),
    (
        "checkpoint_value_first",
        "checkpoint_value",
        {"input": checkpoint_value(prev_size=0)},
        json.loads(checkpoint_value(prev_size=0)),
        True,
    ),
    (
        "checkpoint_head",
        "checkpoint_head",
        {"input": f'{{"size":13,"root":"{ROOT}"}}'},
        {"size": 13, "root": ROOT},
        True,
    ),
    ("anchor_checkpoint", "anchor_checkpoint", {"input": AC}, json.loads(AC), True),
    (
        "anchor_checkpoint_first_no_proof",
        "anchor_checkpoint",
        {"input": anchor_checkpoint(prev_size=0, proof=[])},
        json.loads(anchor_checkpoint(prev_size=0, proof=[])),
        True,
    ),
    (
        "put_batch_whitespace_and_escapes",
        "put_batch",
        {
            "input": f' {{\n "records" : [ "{C[0]}" , "{C[1]}","{C[2]}" ] ,'
            f'"root":"{ROOT}", "batch_id":"b\\u002d000042"}}\r\n'
        },
        PB_DECODED,
        False,
    ),
]

INVALID: list[tuple[str, str, dict[str, Any], str]] = [
    # name, kind, input field, refusal code
    (
        "record_key_old_hex_layout",
        "record_key",
        {"input": f"\x00rec\x00{C[0]}\x00"},
        "corrupt_value",
    ),
    ("record_key_42_chars", "record_key", {"input": f"\x00rec\x00{K0[:42]}\x00"}, "corrupt_value"),
    ("record_key_44_chars", "record_key", {"input": f"\x00rec\x00{K0}A\x00"}, "corrupt_value"),
    ("record_key_empty", "record_key", {"input": "\x00rec\x00\x00"}, "corrupt_value"),
    (
        "record_key_standard_alphabet_plus",
        "record_key",
        {"input": "\x00rec\x00" + K0.replace("-", "+") + "\x00"},
        "corrupt_value",
    ),
    (
        "record_key_standard_alphabet_slash",
        "record_key",
        {"input": "\x00rec\x00" + "/" * 42 + "8\x00"},
        "corrupt_value",
    ),
    ("record_key_padded", "record_key", {"input": f"\x00rec\x00{K0}=\x00"}, "corrupt_value"),
    (
        "record_key_padding_within_43",
        "record_key",
        {"input": f"\x00rec\x00{K0[:42]}=\x00"},
        "corrupt_value",
    ),
    (
        # "R" is index 17: its low bits are not zero, so this decodes to C[0] only leniently
        "record_key_non_canonical_last_char",
        "record_key",
        {"input": f"\x00rec\x00{K0[:42]}R\x00"},
        "corrupt_value",
    ),
    (
        # Go's base64 decoder skips "\n": 43 bytes, but only 42 characters of data
        "record_key_newline",
        "record_key",
        {"input": f"\x00rec\x00{K0[:20]}\n{K0[21:]}\x00"},
        "corrupt_value",
    ),
    (
        # 42 characters but 43 bytes in UTF-8
        "record_key_non_ascii",
        "record_key",
        {"input": f"\x00rec\x00{K0[:41]}\u00e9\x00"},
        "corrupt_value",
    ),
    ("record_key_record_id", "record_key", {"input": "\x00rec\x00loan-42\x00"}, "corrupt_value"),
    ("record_key_other_type", "record_key", {"input": f"\x00batch\x00{K0}\x00"}, "corrupt_value"),
    ("record_key_no_terminator", "record_key", {"input": f"\x00rec\x00{K0}"}, "corrupt_value"),
    (
        "record_key_two_attributes",
        "record_key",
        {"input": f"\x00rec\x00{K0}\x00x\x00"},
        "corrupt_value",
    ),
    ("record_value_empty", "record_value", {"input_hex": ""}, "corrupt_value"),
    (
        "record_value_non_minimal_varint",
        "record_value",
        {"input_hex": "8000" + b"b1".hex()},
        "corrupt_value",
    ),
    ("record_value_truncated_varint", "record_value", {"input_hex": "80"}, "corrupt_value"),
    (
        "record_value_leaf_index_too_big",
        "record_value",
        {"input_hex": "d08603" + b"b1".hex()},
        "corrupt_value",
    ),
    (
        "record_value_varint_too_long",
        "record_value",
        {"input_hex": "80808001" + b"b1".hex()},
        "corrupt_value",
    ),
    ("record_value_no_batch_id", "record_value", {"input_hex": "05"}, "corrupt_value"),
    (
        "record_value_bad_batch_id",
        "record_value",
        {"input_hex": "05" + b"a b".hex()},
        "corrupt_value",
    ),
    (
        "record_value_batch_id_too_long",
        "record_value",
        {"input_hex": "05" + (b"b" * 129).hex()},
        "corrupt_value",
    ),
    (
        "record_value_old_layout",
        "record_value",
        {"input_hex": C[0] + "05" + b"b1".hex()},
        "corrupt_value",
    ),
    (
        "batch_value_duplicate_field",
        "batch_value",
        {"input": BV[:-1] + ',"size":4}'},
        "corrupt_value",
    ),
    (
        "batch_value_unknown_field",
        "batch_value",
        {"input": BV[:-1] + ',"extra":1}'},
        "corrupt_value",
    ),
    (
        "batch_value_missing_field",
        "batch_value",
        {
            "input": json.dumps(
                {k: v for k, v in BV_DECODED.items() if k != "msp"}, separators=(",", ":")
            )
        },
        "corrupt_value",
    ),
    ("batch_value_size_string", "batch_value", {"input": batch_value(size="3")}, "corrupt_value"),
    (
        "batch_value_size_float",
        "batch_value",
        {"input": BV.replace('"size":3', '"size":3.0')},
        "corrupt_value",
    ),
    ("batch_value_size_zero", "batch_value", {"input": batch_value(size=0)}, "corrupt_value"),
    (
        "batch_value_size_too_big",
        "batch_value",
        {"input": batch_value(size=50001)},
        "corrupt_value",
    ),
    ("batch_value_size_bool", "batch_value", {"input": batch_value(size=True)}, "corrupt_value"),
    (
        "batch_value_uppercase_root",
        "batch_value",
        {"input": batch_value(root=ROOT.upper())},
        "corrupt_value",
    ),
    (
        "batch_value_bad_batch_id",
        "batch_value",
        {"input": batch_value(batch_id="b 1")},
        "corrupt_value",
    ),
    ("batch_value_null_msp", "batch_value", {"input": batch_value(msp=None)}, "corrupt_value"),
    (
        "batch_value_ts_offset",
        "batch_value",
        {"input": batch_value(ts="2026-01-01T08:00:00+08:00")},
        "corrupt_value",
    ),
    (
        "batch_value_ts_trailing_zero",
        "batch_value",
        {"input": batch_value(ts="2026-01-01T00:00:00.120Z")},
        "corrupt_value",
    ),
    (
        "batch_value_ts_bad_month",
        "batch_value",
        {"input": batch_value(ts="2026-13-01T00:00:00Z")},
        "corrupt_value",
    ),
    ("batch_value_trailing_data", "batch_value", {"input": BV + "{}"}, "corrupt_value"),
    ("batch_value_array", "batch_value", {"input": "[" + BV + "]"}, "corrupt_value"),
    (
        "batch_value_bom",
        "batch_value",
        {"input_hex": "efbbbf" + BV.encode().hex()},
        "corrupt_value",
    ),
    (
        "batch_value_utf16",
        "batch_value",
        {"input_hex": BV.encode("utf-16-le").hex()},
        "corrupt_value",
    ),
    (
        "batch_value_invalid_utf8",
        "batch_value",
        {"input_hex": batch_value(msp="MSPX").encode().hex().replace(b"MSPX".hex(), "4d53ff58")},
        "corrupt_value",
    ),
    (
        "put_batch_duplicate_commitment",
        "put_batch",
        {"input": put_batch(records=[C[0], C[1], C[0]])},
        "duplicate_in_batch",
    ),
    ("put_batch_empty_records", "put_batch", {"input": put_batch(records=[])}, "bad_argument"),
    (
        "put_batch_uppercase_commitment",
        "put_batch",
        {"input": put_batch(records=[C[0], C[1].upper()])},
        "bad_argument",
    ),
    (
        "put_batch_short_commitment",
        "put_batch",
        {"input": put_batch(records=[C[0][:62]])},
        "bad_argument",
    ),
    (
        "put_batch_bad_hex_before_duplicate",
        "put_batch",
        {"input": put_batch(records=[C[0], "zz" * 32, C[0]])},
        "bad_argument",
    ),
    (
        "put_batch_duplicate_before_bad_hex",
        "put_batch",
        {"input": put_batch(records=[C[0], C[0], "zz" * 32])},
        "duplicate_in_batch",
    ),
    (
        "put_batch_bad_root_and_duplicate",
        "put_batch",
        {"input": put_batch(root="x", records=[C[0], C[0]])},
        "bad_argument",
    ),
    ("put_batch_bad_batch_id", "put_batch", {"input": put_batch(batch_id="b/1")}, "bad_argument"),
    (
        "put_batch_batch_id_too_long",
        "put_batch",
        {"input": put_batch(batch_id="b" * 129)},
        "bad_argument",
    ),
    ("put_batch_unknown_field", "put_batch", {"input": PB[:-1] + ',"x":1}'}, "bad_argument"),
    (
        "put_batch_duplicate_field",
        "put_batch",
        {"input": PB[:-1] + f',"root":"{ROOT}"}}'},
        "bad_argument",
    ),
    (
        "put_batch_missing_root",
        "put_batch",
        {"input": json.dumps({"batch_id": "b1", "records": C[:1]})},
        "bad_argument",
    ),
    (
        "put_batch_old_pairs",
        "put_batch",
        {"input": put_batch(records=[["r1", C[0]]])},
        "bad_argument",
    ),
    (
        "put_batch_record_number",
        "put_batch",
        {"input": put_batch(records=[C[0], 7])},
        "bad_argument",
    ),
    ("put_batch_records_null", "put_batch", {"input": put_batch(records=None)}, "bad_argument"),
    ("put_batch_batch_id_number", "put_batch", {"input": put_batch(batch_id=42)}, "bad_argument"),
    ("put_batch_trailing_data", "put_batch", {"input": PB + " x"}, "bad_argument"),
    ("put_batch_trailing_comma", "put_batch", {"input": PB.replace("]}", ",]}")}, "bad_argument"),
    ("put_batch_not_object", "put_batch", {"input": json.dumps(C[:1])}, "bad_argument"),
    ("put_batch_empty", "put_batch", {"input": ""}, "bad_argument"),
    (
        "put_batch_invalid_utf8",
        "put_batch",
        {"input_hex": put_batch(batch_id="bX").encode().hex().replace(b"bX".hex(), "62ff")},
        "bad_argument",
    ),
    ("put_batch_bom", "put_batch", {"input_hex": "efbbbf" + PB.encode().hex()}, "bad_argument"),
    ("put_batch_nan", "put_batch", {"input": PB[:-1] + ',"x":NaN}'}, "bad_argument"),
    (
        "checkpoint_value_prev_not_below",
        "checkpoint_value",
        {"input": checkpoint_value(prev_size=13)},
        "corrupt_value",
    ),
    (
        "checkpoint_value_size_zero",
        "checkpoint_value",
        {"input": checkpoint_value(size=0, prev_size=0)},
        "corrupt_value",
    ),
    (
        "checkpoint_value_size_string",
        "checkpoint_value",
        {"input": checkpoint_value(size="13")},
        "corrupt_value",
    ),
    (
        "checkpoint_value_size_fraction",
        "checkpoint_value",
        {"input": checkpoint_value(size=13.5)},
        "corrupt_value",
    ),
    (
        "checkpoint_value_note_empty",
        "checkpoint_value",
        {"input": checkpoint_value(note="")},
        "corrupt_value",
    ),
    (
        "checkpoint_value_missing_note",
        "checkpoint_value",
        {"input": CV.replace(',"note":' + json.dumps(NOTE, ensure_ascii=False), "")},
        "corrupt_value",
    ),
    (
        "checkpoint_value_bad_ts",
        "checkpoint_value",
        {"input": checkpoint_value(ts="2026-01-01")},
        "corrupt_value",
    ),
    (
        "checkpoint_head_root_upper",
        "checkpoint_head",
        {"input": f'{{"size":13,"root":"{ROOT.upper()}"}}'},
        "corrupt_value",
    ),
    (
        "checkpoint_head_extra_field",
        "checkpoint_head",
        {"input": f'{{"size":13,"root":"{ROOT}","x":1}}'},
        "corrupt_value",
    ),
    (
        "anchor_checkpoint_proof_not_array",
        "anchor_checkpoint",
        {"input": anchor_checkpoint(proof=C[0])},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_proof_upper_hex",
        "anchor_checkpoint",
        {"input": anchor_checkpoint(proof=[C[0].upper()])},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_prev_size_negative",
        "anchor_checkpoint",
        {"input": anchor_checkpoint(prev_size=-1)},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_extra_field",
        "anchor_checkpoint",
        {"input": AC[:-1] + ',"size":13}'},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_duplicate_field",
        "anchor_checkpoint",
        {"input": AC[:-1] + ',"prev_size":6}'},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_note_empty",
        "anchor_checkpoint",
        {"input": anchor_checkpoint(note="")},
        "bad_argument",
    ),
    (
        "anchor_checkpoint_missing_log_key",
        "anchor_checkpoint",
        {"input": AC.replace(',"log_key":"' + LOG_KEY + '"', "")},
        "bad_argument",
    ),
]


def main() -> None:
    for old in HERE.glob("*.json"):
        old.unlink()
    for name, kind, data, decoded, canonical in VALID:
        case = {
            "description": name.replace("_", " "),
            "kind": kind,
            **data,
            "valid": True,
            "decoded": decoded,
            "canonical": canonical,
        }
        (HERE / f"valid_{name}.json").write_text(json.dumps(case, indent=2) + "\n")
    for name, kind, data, refusal in INVALID:
        case = {
            "description": name.replace("_", " "),
            "kind": kind,
            **data,
            "valid": False,
            "refusal": refusal,
        }
        (HERE / f"invalid_{name}.json").write_text(json.dumps(case, indent=2) + "\n")


if __name__ == "__main__":
    main()
