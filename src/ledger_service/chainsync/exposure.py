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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from ledger_service.errors import LedgerError

__all__ = ["MIN_NEEDLE_BYTES", "Exposure", "NeedleTooShort", "encodings_of", "find_exposures"]

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
    any block.
    """
    compiled = [(value, label, encodings_of(value)) for value, label in needles.items()]
    found: list[Exposure] = []
    for number, data in blocks:
        for value, label, patterns in compiled:
            for encoding, pattern in patterns:
                at = data.find(pattern)
                if at >= 0:
                    found.append(Exposure(label, value, number, encoding, at))
    return found
