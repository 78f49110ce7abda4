"""Scan raw blocks for values that must never be on chain (record ids, subjects, business keys).

The design's privacy property is that a party holding every block learns no record's subject,
cannot group one enterprise's records and cannot confirm a guessed record id. This module is
the check an operator (and the integration tests) run against a real channel: each *needle* is
looked for in every block's bytes in the encodings a careless writer could have used — UTF-8,
UTF-16-LE, lowercase and uppercase hex of the UTF-8 bytes, and standard/URL-safe base64 at all
three alignments. Finding nothing proves only the absence of these encodings, not of a
hash of a guessable value; the commitments are salted for that reason.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError
from ledger_service.fabric.blocks import BlockStream
from ledger_service.index import models as m

__all__ = [
    "MIN_NEEDLE_BYTES",
    "Exposure",
    "NeedleTooShort",
    "ScanReport",
    "encodings_of",
    "find_exposures",
    "index_needles",
    "scan_blocks",
    "scan_channel",
]

#: Payload fields that hold business keys (a loan's id, a source's reference number).
BUSINESS_KEY_FIELDS = ("loan_id", "source_reference", "application_id", "contract_id")

#: Shorter needles match by chance in compressed or random bytes and prove nothing.
MIN_NEEDLE_BYTES = 6


class NeedleTooShort(LedgerError):
    """A value to look for is too short for a match to mean anything."""

    code: ClassVar[str] = "needle_too_short"


@dataclass(frozen=True)
class Exposure:
    """A needle found in a block: what it was (``label``), in which block, how encoded."""

    label: str
    value: str
    block_number: int
    encoding: str
    offset: int


def _base64_fragments(data: bytes, alphabet: str) -> list[tuple[str, bytes]]:
    # A value embedded in a longer base64 text is encoded differently at each of the three
    # byte alignments; keep the middle characters that do not depend on the neighbours.
    out = []
    for shift in range(3):
        padded = b"\x00" * shift + data
        text = (
            base64.urlsafe_b64encode(padded) if alphabet == "url" else base64.b64encode(padded)
        ).rstrip(b"=")
        lead = (shift * 4 + 2) // 3  # characters that still mix in the padding bytes
        tail = (len(padded) * 4) % 3 and 1  # last character mixes in what follows
        core = text[lead : len(text) - tail] if tail else text[lead:]
        if len(core) >= MIN_NEEDLE_BYTES:
            out.append((f"base64{'-url' if alphabet == 'url' else ''}+{shift}", core))
    return out


def encodings_of(value: str) -> list[tuple[str, bytes]]:
    """The byte patterns ``value`` would leave in a block under each encoding looked for."""
    raw = value.encode()
    if len(raw) < MIN_NEEDLE_BYTES:
        raise NeedleTooShort(
            f"needle {value!r} is {len(raw)} bytes; at least {MIN_NEEDLE_BYTES} are needed "
            "for a match to mean anything"
        )
    patterns = [
        ("utf-8", raw),
        ("utf-16-le", value.encode("utf-16-le")),
        ("hex", raw.hex().encode()),
        ("HEX", raw.hex().upper().encode()),
    ]
    patterns += _base64_fragments(raw, "std")
    patterns += _base64_fragments(raw, "url")
    # identical patterns (e.g. a value whose hex has no letters) are looked for once
    seen: set[bytes] = set()
    unique = []
    for name, pattern in patterns:
        if pattern not in seen:
            seen.add(pattern)
            unique.append((name, pattern))
    return unique


def find_exposures(
    blocks: Iterable[tuple[int, bytes]], needles: Mapping[str, str]
) -> list[Exposure]:
    """Every occurrence of every needle (``value → label``) in ``blocks`` (number, raw bytes).

    Raises :class:`NeedleTooShort` for a needle too short to mean anything, before reading
    any block. One pass per block whatever the number of needles: every pattern is indexed by
    its first :data:`MIN_NEEDLE_BYTES` bytes and each window of the block is looked up.
    """
    by_prefix: dict[bytes, list[tuple[bytes, str, str, str]]] = {}
    for value, label in needles.items():
        for encoding, pattern in encodings_of(value):
            by_prefix.setdefault(pattern[:MIN_NEEDLE_BYTES], []).append(
                (pattern, value, label, encoding)
            )
    found: list[Exposure] = []
    width = MIN_NEEDLE_BYTES
    for number, data in blocks:
        view = memoryview(data)
        lookup = by_prefix.get
        for at in range(len(data) - width + 1):
            candidates = lookup(bytes(view[at : at + width]))
            if candidates is None:
                continue
            for pattern, value, label, encoding in candidates:
                if data.startswith(pattern, at):
                    found.append(Exposure(label, value, number, encoding, at))
    return found


@dataclass
class ScanReport:
    """What a scan looked at and what it found."""

    blocks: int = 0
    bytes: int = 0
    needles: int = 0
    exposures: list[Exposure] = field(default_factory=list)
    #: labels of the control needles (values known to be on chain) that were found: a scan
    #: that finds its controls is known to be reading the blocks' bytes
    controls_found: set[str] = field(default_factory=set)

    @property
    def clean(self) -> bool:
        return not self.exposures


def index_needles(session: Session) -> dict[str, str]:
    """Every value of the index that must not be on chain, labelled: record ids, subjects and
    the business keys in payloads (:data:`BUSINESS_KEY_FIELDS`); values shorter than
    :data:`MIN_NEEDLE_BYTES` are left out (they would match by chance)."""
    needles: dict[str, str] = {}

    def add(value: Any, label: str) -> None:
        if isinstance(value, str) and len(value.encode()) >= MIN_NEEDLE_BYTES:
            needles.setdefault(value, label)

    rows = session.execute(
        select(m.Record.record_id, m.Record.subject, m.Record.content).execution_options(
            yield_per=5000
        )
    )
    for record_id, subject, content in rows:
        add(record_id, "record id")
        add(subject, "subject")
        if content is not None:
            payload = json.loads(content).get("payload", {})
            for name in BUSINESS_KEY_FIELDS:
                add(payload.get(name), f"payload.{name}")
    return needles


def scan_blocks(
    blocks: Iterable[tuple[int, bytes]],
    needles: Mapping[str, str],
    *,
    controls: Mapping[str, str] | None = None,
) -> ScanReport:
    """Scan ``blocks`` for ``needles``; ``controls`` are values known to be on chain (e.g. an
    MSP id) whose finding shows the scan reads what it should."""
    report = ScanReport(needles=len(needles))
    controls = dict(controls or {})

    def counted() -> Iterator[tuple[int, bytes]]:
        for number, data in blocks:
            report.blocks += 1
            report.bytes += len(data)
            yield number, data

    # one pass over the blocks for needles and controls alike
    for hit in find_exposures(counted(), {**needles, **controls}):
        if hit.value in controls:
            report.controls_found.add(controls[hit.value])
        else:
            report.exposures.append(hit)
    return report


def scan_channel(
    sessions: sessionmaker[Session],
    stream: BlockStream,
    *,
    controls: Mapping[str, str] | None = None,
    extra_needles: Mapping[str, str] | None = None,
) -> ScanReport:
    """Scan every block of the channel (0 .. height-1) for every value of the index that must
    not be on chain (:func:`index_needles`, plus ``extra_needles``)."""
    with sessions() as session:
        needles = index_needles(session)
    needles.update(extra_needles or {})
    height = stream.height()
    raw = ((b.header.number, b.SerializeToString()) for b in stream.blocks(0, height - 1))
    return scan_blocks(raw, needles, controls=controls)
