"""The fast canonicaliser is byte-identical to the ``rfc8785`` reference, errors included.

``canonicalize`` serialises with the C JSON encoder when a pre-walk has proved the value is
in its domain, and hands everything else to the reference path (``canonicalize_reference``:
a path-naming check, then ``rfc8785``). These tests hold the two to the same bytes on
generated JSON values, and to the same errors on generated bad values; and they check that
the signature splice of ``Record.signing_and_canonical_bytes`` equals a full
canonicalisation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import rfc8785
from credit_ledger_verify import canonical as canonical_module
from credit_ledger_verify.canonical import (
    MAX_SAFE_INTEGER,
    add_string_member,
    canonicalize,
    canonicalize_reference,
)
from credit_ledger_verify.records import parse_record
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger_service.errors import CanonicalizationError
from ledger_service.samples.data import SampleWriter, enterprise_story
from ledger_service.signing import generate_writer_key, sign_record
from tests.unit.test_records import ALL_KINDS

# Characters where the encoders could plausibly differ: every control, the escapes, DEL,
# the line/paragraph separators, BOM, the top of the BMP (U+E000-U+FFFF sorts AFTER the
# surrogates that encode astral characters in UTF-16, but BEFORE them by code point), and
# astral characters.
TRICKY = [
    *(chr(c) for c in range(0x20)),
    '"',
    "\\",
    "/",
    "\x7f",
    "\x80",
    "\u00e9",
    "\u2028",
    "\u2029",
    "\ud7ff",
    "\ue000",
    "\ufb33",
    "\ufeff",
    "\uffff",
    "\U00010000",
    "\U0001f600",
    "\U0010ffff",
    "a",
    "Z",
    "1",
    " ",
]

# Hypothesis' default characters exclude surrogates (category Cs): surrogate-free unicode.
texts = st.one_of(
    st.text(max_size=12),
    st.text(st.sampled_from(TRICKY), max_size=6),
    st.text(st.characters(min_codepoint=0xE000), max_size=4),
)
keys = st.one_of(
    st.text(max_size=6),
    st.text(st.sampled_from(TRICKY), min_size=1, max_size=3),
    st.text(st.characters(min_codepoint=0xE000), min_size=1, max_size=2),
)
safe_ints = st.one_of(
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**31, -(2**31), 2**32]),
)
scalars = st.one_of(st.none(), st.booleans(), safe_ints, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=6),
    ),
    max_leaves=30,
)

# Values outside the domain, to be planted somewhere inside a good value.
bad_leaves = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=MAX_SAFE_INTEGER + 1),
    st.integers(max_value=-MAX_SAFE_INTEGER - 1),
    st.sampled_from(
        [
            "\ud800",
            "x\udfffy",
            Decimal("1.5"),
            b"raw",
            bytearray(b"raw"),
            {1, 2},
            frozenset(),
            object(),
            {1: "int key"},
            {None: "None key"},
            {("t",): "tuple key"},
            {"\ud83d": "lone surrogate key"},
            {"ok": 1, 2.5: "float key"},
        ]
    ),
)


def _reference_outcome(value: Any) -> tuple[str, Any]:
    try:
        return "bytes", canonicalize_reference(value)
    except CanonicalizationError as exc:
        return "error", (exc.path, str(exc))


def _fast_outcome(value: Any) -> tuple[str, Any]:
    try:
        return "bytes", canonicalize(value)
    except CanonicalizationError as exc:
        return "error", (exc.path, str(exc))


@settings(max_examples=1000, deadline=None)
@given(json_values)
@example({"\ufb33": 1, "\r": 2, "1": 3, "\U0001f600": 4, "a": [True, False, None]})
@example({"\ue000": 0, "\U00010000": 1})
@example({"a\U0001f600": 0, "a\uffff": 1, "a": 2})
@example([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, -0])
@example("".join(TRICKY))
@example({"".join(TRICKY): "".join(TRICKY)})
def test_fast_path_equals_rfc8785(value: Any) -> None:
    expected = rfc8785.dumps(value)
    assert canonicalize(value) == expected
    assert canonicalize_reference(value) == expected


@settings(max_examples=400, deadline=None)
@given(
    value=st.dictionaries(keys, json_values, min_size=1, max_size=4),
    bad=bad_leaves,
    where=st.integers(min_value=0),
    as_list=st.booleans(),
)
def test_bad_values_give_the_reference_error(
    value: dict[str, Any], bad: Any, where: int, as_list: bool
) -> None:
    # Plant the bad value under one of the keys (directly, or inside a list).
    key = sorted(value)[where % len(value)]
    value[key] = [1, bad] if as_list else bad
    fast = _fast_outcome(value)
    assert fast == _reference_outcome(value)
    assert fast[0] == "error"


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        float("nan"),
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        "\ud800",
        Decimal(1),
        b"",
        {1: 1},
        {"a": {"b": [0, {"c": 2**60}]}},
        {"k\udc00": 1},
    ],
)
def test_top_level_and_nested_errors_match_reference(value: Any) -> None:
    assert _fast_outcome(value)[0] == "error"
    assert _fast_outcome(value) == _reference_outcome(value)


def test_values_outside_the_fast_domain_still_canonicalise() -> None:
    from collections import OrderedDict
    from enum import IntEnum, StrEnum

    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    deep: Any = "leaf"
    for _ in range(200):  # deeper than the fast path goes
        deep = [deep]
    values: list[Any] = [
        OrderedDict([("b", 1), ("a", 2)]),
        {"c": Colour.RED, "l": Level.HIGH},
        [True, Level.HIGH],
        deep,
        {"\U0001f600": 1, "\ufb33": 2},
    ]
    for value in values:
        assert canonicalize(value) == rfc8785.dumps(value) == canonicalize_reference(value)


def test_unsupported_sequences_fail_as_before() -> None:
    # A Sequence that is neither list nor tuple passes the path check but rfc8785 refuses
    # it: the error (wrapped, at "$") is the same as before the fast path existed.
    class Seq(tuple[int, ...]):
        pass

    assert _fast_outcome(Seq((1, 2))) == _reference_outcome(Seq((1, 2)))


def test_fast_path_does_not_touch_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(canonical_module, "canonicalize_reference", calls.append)
    record = enterprise_story(SampleWriter(), 7)[4]
    assert canonicalize(record.to_json_dict()) is not None
    assert canonicalize({"a": ["é", "\U0001f600", 1, None]}) is not None  # astral VALUE: fast
    assert calls == []
    canonicalize({"\U0001f600": 1})  # astral KEY: UTF-16 order, reference path
    canonicalize({"s": "\ud800"})  # lone surrogate: the reference path names it
    assert len(calls) == 2


# ---------------------------------------------------------------- splicing one member in

identifier_keys = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
splice_values = st.one_of(
    st.from_regex(r"[A-Za-z0-9+/]{0,20}={0,2}", fullmatch=True),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10),
    texts,
)


@settings(max_examples=500, deadline=None)
@given(
    obj=st.dictionaries(
        st.one_of(identifier_keys, st.sampled_from(["signature", "s", "sig", "t", "a"]), keys),
        json_values,
        max_size=8,
    ),
    key=st.one_of(st.sampled_from(["signature", "m", "a", "zz"]), identifier_keys, keys),
    value=splice_values,
)
@example(obj={"a": 1, "z": 'x,"z":"y'}, key="m", value="v")
@example(obj={"a": {"z": "1"}, "z": "2"}, key="m", value="v")
@example(
    obj={"payload": {"fields": {"a": 1, "source": "x"}}, "record_id": "r", "source": "s"},
    key="signature",
    value="QUJD",
)
def test_add_string_member_is_exact_or_declines(obj: dict[str, Any], key: str, value: str) -> None:
    spliced = add_string_member(canonicalize(obj), obj, key, value)
    if spliced is not None:
        assert spliced == rfc8785.dumps({**obj, key: value})


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_records_splice_the_signature(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = generate_writer_key()
    record = sign_record(parse_record(ALL_KINDS[kind]()), writer.signing_key_b64)
    data = record.to_json_dict()
    signature = data.pop("signature")
    # The splice applies (no second canonicalisation) ...
    assert add_string_member(canonicalize(data), data, "signature", signature) is not None
    # ... and gives exactly the separately computed forms.
    signing, committed = record.signing_and_canonical_bytes()
    assert signing == record.signing_bytes() == rfc8785.dumps(data)
    assert committed == record.canonical_bytes() == rfc8785.dumps(record.to_json_dict())
    unsigned = record.without_signature()
    assert unsigned.signing_and_canonical_bytes() == (signing, signing)


def test_sample_stories_splice_exactly() -> None:
    writer = SampleWriter()
    for n in range(3):
        for record in enterprise_story(writer, n):
            signing, committed = record.signing_and_canonical_bytes()
            assert signing == canonicalize_reference(record.to_json_dict(include_signature=False))
            assert committed == canonicalize_reference(record.to_json_dict())


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(
            lambda s: s == s.strip()
        ),
        st.one_of(texts, st.booleans(), safe_ints),
        min_size=1,
        max_size=6,
    ),
    source=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
    ).filter(lambda s: s == s.strip()),
)
def test_generated_records_canonicalise_like_the_reference(
    fields: dict[str, Any], source: str
) -> None:
    data = ALL_KINDS["data_update"]()
    data["payload"]["fields_changed"] = fields
    data["source"] = source
    data["signature"] = "A" * 86 + "=="
    record = parse_record(data)
    signing, committed = record.signing_and_canonical_bytes()
    assert signing == record.signing_bytes()
    assert signing == canonicalize_reference(record.to_json_dict(include_signature=False))
    assert committed == record.canonical_bytes()
    assert committed == canonicalize_reference(record.to_json_dict())
