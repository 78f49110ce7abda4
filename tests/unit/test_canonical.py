"""RFC 8785 canonicalisation: ordering, escaping, numbers, and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from credit_ledger_verify.canonical import MAX_SAFE_INTEGER, canonicalize

from ledger_service.errors import CanonicalizationError, LedgerError


def test_keys_sorted_by_utf16_code_units_and_no_whitespace() -> None:
    # RFC 8785 §3.2.3 sorts by UTF-16 code units: U+1F600 (surrogates 0xD83D 0xDE00) sorts
    # before U+FB33 although its code point is larger.
    value = {"\ufb33": 1, "\r": 2, "1": 3, "\U0001f600": 4, "a": [True, False, None]}
    assert canonicalize(value) == (
        '{"\\r":2,"1":3,"a":[true,false,null],"\U0001f600":4,"\ufb33":1}'.encode()
    )


def test_rfc8785_string_escaping() -> None:
    assert canonicalize('\u000f\n"\\/é') == b'"\\u000f\\n\\"\\\\/\xc3\xa9"'


def test_integers_within_safe_range() -> None:
    assert canonicalize([0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[0,-1,9007199254740991,-9007199254740991]"
    )


def test_nested_and_tuple_values() -> None:
    assert canonicalize({"b": ({"d": 1, "c": 2},), "a": "x"}) == b'{"a":"x","b":[{"c":2,"d":1}]}'


def test_same_value_same_bytes_regardless_of_insertion_order() -> None:
    assert canonicalize({"a": 1, "b": {"x": 1, "y": 2}}) == canonicalize(
        {"b": {"y": 2, "x": 1}, "a": 1}
    )


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        (1.5, "$", "floats are not allowed (1.5)"),
        ({"a": [1, {"b": 0.1}]}, "$.a[1].b", "floats are not allowed"),
        ({"amount": float("nan")}, "$.amount", "floats are not allowed"),
        ({"n": MAX_SAFE_INTEGER + 1}, "$.n", "outside ±(2**53 - 1)"),
        ({1: "x"}, "$", "object keys must be strings, got int"),
        ({"d": Decimal("1.5")}, "$.d", "Decimal is not a JSON value"),
        ({"b": b"raw"}, "$.b", "bytes is not a JSON value"),
        ({"s": "\ud800"}, "$.s", "lone surrogate"),
        ({"\udfff": 1}, "$.\udfff", "lone surrogate"),
        ({"x": {1, 2}}, "$.x", "set is not a JSON value"),
    ],
)
def test_refusals_name_the_path(value: Any, path: str, fragment: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonicalize(value)
    assert caught.value.path == path
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"cannot canonicalize {path}: ")
    assert isinstance(caught.value, LedgerError)
