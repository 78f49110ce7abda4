"""Property tests: any valid record survives JSON round trips byte for byte, and signs."""

from __future__ import annotations

import json
from typing import Any

from credit_ledger_verify.canonical import MAX_SAFE_INTEGER
from credit_ledger_verify.records import parse_record
from credit_ledger_verify.records.types import _check_label
from credit_ledger_verify.records.uscc import _uscc_problem, uscc_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_service.signing import generate_writer_key, sign_record, verify_record_signature
from tests.unit.test_records import data_update, score_change

WRITER = generate_writer_key()

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s == s.strip()
)
field_values = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
)
# Decimal strings are limited to 64 characters (records.types): draw within that bound, so the
# property is about round-tripping, not about the length limit (tested on its own elsewhere).
decimals = (
    st.decimals(allow_nan=False, allow_infinity=False, places=4)
    .map(lambda d: format(d, "f"))
    .filter(lambda s: len(s) <= 64)
)


def _round_trips(data: dict[str, Any]) -> None:
    record = parse_record(data)
    canonical = record.canonical_bytes()
    assert parse_record(canonical).canonical_bytes() == canonical
    assert parse_record(json.dumps(record.to_json_dict())).canonical_bytes() == canonical
    signed = sign_record(record, WRITER.signing_key_b64)
    verify_record_signature(parse_record(signed.canonical_bytes()), WRITER.verify_key_b64)


@settings(max_examples=75, deadline=None)
@given(fields=st.dictionaries(text, field_values, min_size=1, max_size=8), source=text)
def test_data_updates_round_trip(fields: dict[str, Any], source: str) -> None:
    data = data_update(source=source)
    data["payload"]["fields_changed"] = fields
    _round_trips(data)


@settings(max_examples=75, deadline=None)
@given(
    after=decimals,
    dims=st.dictionaries(text, decimals, max_size=5),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_score_changes_round_trip(after: str, dims: dict[str, str], offset_minutes: int) -> None:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    data = score_change(occurred_at=f"2024-06-30T23:30:00{sign}{hours:02d}:{minutes:02d}")
    data["payload"]["score_after"] = after
    data["payload"]["dimension_scores"] = dims
    _round_trips(data)


def _label_problems(value: str) -> bool:
    """The label rules spelled out (records.types._check_label without its fast path)."""
    return (
        not value
        or len(value) > 256
        or value != value.strip()
        or any(c < "\x20" or c == "\x7f" for c in value)
    )


@settings(max_examples=3000, derandomize=True)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(st.sampled_from(" \t\x1f\x7f\x85\u3000a中\n"), max_size=6),
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=250, max_size=260),
    )
)
def test_the_label_fast_path_accepts_exactly_the_valid_labels(value: str) -> None:
    try:
        _check_label(value)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted is not _label_problems(value)


@settings(max_examples=500, derandomize=True)
@given(st.text(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXYIOSZ"), min_size=17, max_size=19))
def test_the_cached_uscc_check_is_the_check(code: str) -> None:
    assert uscc_problem(code) == _uscc_problem(code)
    assert uscc_problem(code) == _uscc_problem(code)  # a second time: from the cache
