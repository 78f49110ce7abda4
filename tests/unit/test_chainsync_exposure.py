"""The chain exposure scan finds a value in every encoding it claims to cover."""

from __future__ import annotations

import base64
import os

import pytest
from credit_ledger_verify.onchain_tlog import encode_anchor_checkpoint, encode_checkpoint_value
from credit_ledger_verify.tlog import Checkpoint, SignerKey, sign_checkpoint
from hypothesis import given
from hypothesis import strategies as st

from ledger_service.chainsync.exposure import NeedleTooShort, encodings_of, find_exposures
from ledger_service.samples.data import SampleWriter, stories

SUBJECT = "91310000MA1234567X"


def _block(middle: bytes) -> bytes:
    return os.urandom(50) + middle + os.urandom(50)


@pytest.mark.parametrize(
    ("encoding", "embed"),
    [
        ("utf-8", lambda v: v.encode()),
        ("utf-16-le", lambda v: v.encode("utf-16-le")),
        ("hex", lambda v: v.encode().hex().encode()),
        ("HEX", lambda v: v.encode().hex().upper().encode()),
    ],
)
def test_plain_encodings_are_found(encoding: str, embed: object) -> None:
    data = _block(embed(SUBJECT))  # type: ignore[operator]
    [hit] = [e for e in find_exposures([(7, data)], {SUBJECT: "subject"}) if e.encoding == encoding]
    assert (hit.block_number, hit.label, hit.value) == (7, "subject", SUBJECT)
    assert hit.offset == 50


@given(
    prefix=st.binary(max_size=7),
    suffix=st.binary(max_size=7),
    url=st.booleans(),
    value=st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY-", min_size=6, max_size=40),
)
def test_base64_inside_longer_text_is_found_at_any_alignment(
    prefix: bytes, suffix: bytes, url: bool, value: str
) -> None:
    encode = base64.urlsafe_b64encode if url else base64.b64encode
    data = b"{" + encode(prefix + value.encode() + suffix) + b"}"
    hits = find_exposures([(1, data)], {value: "record id"})
    assert any(h.encoding.startswith("base64") for h in hits), hits


def test_clean_blocks_report_nothing() -> None:
    blocks = [(n, os.urandom(4096)) for n in range(20)]
    assert find_exposures(blocks, {SUBJECT: "subject", "loan-000123": "loan id"}) == []


def test_a_needle_too_short_to_mean_anything_is_refused() -> None:
    with pytest.raises(NeedleTooShort, match="at least 6"):
        encodings_of("abc")


def test_each_pattern_is_looked_for_once() -> None:
    patterns = [p for _, p in encodings_of("123456789")]
    assert len(patterns) == len(set(patterns))


def test_anchored_checkpoint_writes_hold_nothing_the_scan_looks_for() -> None:
    """An AnchorCheckpoint transaction's writes (the log key, the head, the checkpoint value
    with its signed note) carry no record id, subject or business key: a scan of them with
    sample needles is clean, while the scan does read them (the origin is found)."""
    key = SignerKey.generate("credit-ledger.example/ledger/ledger")
    root = os.urandom(32)
    note = sign_checkpoint(Checkpoint(key.name, 4096, root), key).decode()
    value = encode_checkpoint_value(
        4096, root, 2048, note, "a" * 64, "PlatformMSP", "2026-11-30T04:00:00Z"
    )
    argument = encode_anchor_checkpoint(note, 2048, [os.urandom(32)] * 12, key.verifier.encode())
    block = _block(key.verifier.encode().encode() + value + argument)
    records = list(stories(SampleWriter(), 60))
    needles = {r.record_id: "record id" for r in records} | {r.subject: "subject" for r in records}
    assert find_exposures([(3, block)], needles) == []
    origin = {key.name: "origin"}
    assert {h.label for h in find_exposures([(3, block)], origin)} == {"origin"}
