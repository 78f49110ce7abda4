"""The shape step (evidence/bundle.py): strict JSON and typed entries, before any crypto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from credit_ledger_verify.evidence.bundle import (
    MalformedRecord,
    RecordEntry,
    load_json,
    parse_bundle,
)

from ledger_service.evidence import BundleShapeError

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence"


@pytest.fixture(scope="module")
def golden_bytes() -> bytes:
    return (DATA / "bundle.json").read_bytes()


def test_golden_bundle_parses_into_typed_entries(golden_bytes: bytes) -> None:
    bundle = parse_bundle(golden_bytes)
    raw: dict[str, Any] = json.loads(golden_bytes)
    assert len(bundle.records) == len(raw["records"])
    assert all(isinstance(r, RecordEntry) for r in bundle.records)
    assert sorted(bundle.blocks) == sorted(b["number"] for b in raw["blocks"])
    for block in bundle.blocks.values():
        assert block.format_error is None
        assert block.transactions_error is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1,"a":1}', "'a' appears twice"),
        (b'{"a":{"b":1,"c":2,"b":1}}', "'b' appears twice"),
        (b'[{"x":[{"y":1,"y":2}]}]', "'y' appears twice"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ("\ufeff{}", "byte order mark"),
        ('{"a":1}'.encode("utf-16-le"), "UTF-16 or UTF-32"),
        ('{"a":1}'.encode("utf-32-le"), "UTF-16 or UTF-32"),
        (b'{"a":"\xe9"}', "not UTF-8"),
        (b'{"a":Infinity}', "Infinity is not JSON"),
        (b'{"a":-Infinity}', "-Infinity is not JSON"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_strict_json_refuses(data: bytes | str, message: str) -> None:
    with pytest.raises(BundleShapeError) as caught:
        load_json(data)
    assert message in str(caught.value)
    assert caught.value.code == "evidence_bundle_shape"


def test_strict_json_accepts_utf8_text_and_escapes() -> None:
    assert load_json('{"a":"é","b":"\\u00e9"}'.encode()) == {"a": "é", "b": "é"}
    assert load_json('{"a":[1,{"a":2}]}') == {"a": [1, {"a": 2}]}  # same key, other objects


def test_null_in_place_of_values_is_a_shape_error(golden_bytes: bytes) -> None:
    raw: dict[str, Any] = json.loads(golden_bytes)
    raw["records"][0]["content"] = None
    raw["records"][0]["salt"] = None
    first = parse_bundle(raw).records[0]
    assert isinstance(first, MalformedRecord)
    assert "content is null" in first.reason
    assert first.record_id == raw["records"][0]["record_id"]
