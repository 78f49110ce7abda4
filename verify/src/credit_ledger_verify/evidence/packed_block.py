"""The compact bundle's block bytes: one raw DEFLATE stream (RFC 1951) over the block's data
entries and its two metadata entries, with each PEM certificate carried as DER.

Fabric identities are PEM text (base64 of DER with line breaks, ~780 bytes each); a checkpoint
transaction carries five (creator twice, two endorsers, the orderer in the block signature),
most of a one-transaction block. PEM is re-made byte for byte from DER here (64-character
lines, ``\\n`` endings, Go's ``pem.Encode``), so the verifier hashes and checks signatures over
exactly the bytes the chain holds. Layout before compression (all lengths unsigned LEB128)::

    count of data entries
    each part (data entries, then SIGNATURES metadata, then TRANSACTIONS_FILTER):
        count of certificates n, then literal_0, der_0, literal_1, ..., der_(n-1), literal_n
        (each a length and its bytes); the part = literal_0 ‖ PEM(der_0) ‖ literal_1 ‖ …

The DEFLATE stream is primed with a preset dictionary (zlib's ``zdict``) of what the
verifier holds before unpacking (:func:`packing_dictionary`): the DER CA certificates of the
MSPs the bundle names (``anchor.cas``, from the verifier's own trust directory — every
identity in the block is issued by one of them, so issuer names and key identifiers repeat),
fixed text of every AnchorCheckpoint transaction, the bundle's checkpoint note, and the start
of the written value as the note predicts it (its size, root in hex, the note JSON-escaped).

Decoding refuses trailing bytes, oversized output (a DEFLATE bomb) and bad lengths.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Sequence

__all__ = [
    "MAX_UNPACKED_BYTES",
    "PackedBlockError",
    "pack_block",
    "packing_dictionary",
    "pem",
    "unpack_block",
]

#: Far above a one-transaction checkpoint block (~7 KB), far below anything harmful.
MAX_UNPACKED_BYTES = 1 << 20
_BEGIN = b"-----BEGIN CERTIFICATE-----\n"
_END = b"-----END CERTIFICATE-----\n"
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+?)-----END CERTIFICATE-----\n")


class PackedBlockError(ValueError):
    """The packed block bytes do not decode (reported by the verifier's block step)."""


#: Text every AnchorCheckpoint transaction holds (the read set's lifecycle and log keys, the
#: function name, the written value's field names): cheap matches for DEFLATE. A constant of
#: the format: changing it changes every packed block, so only with a new format version.
_ANCHOR_TEXT = (
    b"_lifecycle\x12)\n'\n!namespaces/fields/"
    b"\x00tlog\x00head\x00\x12\x02\x08\x00tlog\x00key\x00\x12\x02\x08\x00tlog\x00"
    b'\x12\x10AnchorCheckpoint","msp":"'
)


def _anchored_value_prefix(note: bytes) -> bytes:
    """The start of the checkpoint value the chaincode wrote, as far as the note tells it:
    ``{"size":N,"root":"<hex>","prev_size":`` and ``,"note":"<the note, JSON-escaped>","tx_id":"``
    (empty when the note does not have the expected first lines: the dictionary only
    helps compression, the verifier checks the value itself in step 4)."""
    lines = note.split(b"\n", 3)
    if len(lines) < 4 or not lines[1].isdigit() or len(lines[2]) != 44:
        return b""
    try:
        root = base64.b64decode(lines[2], validate=True).hex().encode()
        escaped = json.dumps(note.decode("utf-8"), ensure_ascii=False)[1:-1].encode()
    except (ValueError, UnicodeDecodeError):
        return b""
    return b'{"size":%b,"root":"%b","prev_size":' % (lines[1], root) + b',"note":"' + escaped


def packing_dictionary(ca_certificates: Sequence[bytes], note: bytes) -> bytes:
    """The preset dictionary: the CA certificates (DER, in the bundle's MSP order), the text
    every AnchorCheckpoint transaction holds, the note, then the written value's start as
    the note predicts it (DEFLATE reaches back 32 KiB; the nearest text goes last)."""
    return b"".join((*ca_certificates, _ANCHOR_TEXT, note, _anchored_value_prefix(note)))


def pem(der: bytes) -> bytes:
    """PEM text of a DER certificate exactly as Go's ``pem.Encode`` writes it."""
    text = base64.b64encode(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]  # a slice list: ~3x a re.sub
    return b"".join((_BEGIN, b"\n".join(lines), b"\n", _END))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _split(part: bytes) -> bytes:
    literals: list[bytes] = []
    ders: list[bytes] = []
    start = 0
    for m in _PEM.finditer(part):
        try:
            der = base64.b64decode(m.group(1).replace(b"\n", b""), validate=True)
        except ValueError:
            continue
        if pem(der) != m.group(0):  # not in Go's exact layout: keep it as it is
            continue
        literals.append(part[start : m.start()])
        ders.append(der)
        start = m.end()
    literals.append(part[start:])
    out = [_varint(len(ders))]
    for i, literal in enumerate(literals):
        out += [_varint(len(literal)), literal]
        if i < len(ders):
            out += [_varint(len(ders[i])), ders[i]]
    return b"".join(out)


def pack_block(
    data: Sequence[bytes], signatures: bytes, transactions_filter: bytes, *, dictionary: bytes
) -> bytes:
    """The packed, compressed form of a block's data entries and metadata (``dictionary``:
    :func:`packing_dictionary`)."""
    parts = [_varint(len(data)), *(_split(d) for d in data)]
    parts += [_split(signatures), _split(transactions_filter)]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=dictionary)
    return compressor.compress(b"".join(parts)) + compressor.flush()


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def varint(self) -> int:
        if self.pos < len(self.buf) and self.buf[self.pos] < 0x80:  # one byte: most lengths
            self.pos += 1
            return self.buf[self.pos - 1]
        n = shift = 0
        while True:
            if self.pos >= len(self.buf) or shift > 35:
                raise PackedBlockError("truncated or overlong length")
            byte = self.buf[self.pos]
            self.pos += 1
            n |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return n
            shift += 7

    def take(self) -> bytes:
        n = self.varint()
        end = self.pos + n
        if end > len(self.buf):
            raise PackedBlockError(f"a length of {n} runs past the end")
        chunk, self.pos = self.buf[self.pos : end], end
        return chunk

    def part(self) -> bytes:
        certificates = self.varint()
        pieces = [self.take()]
        for _ in range(certificates):
            pieces += [pem(self.take()), self.take()]
        return b"".join(pieces)


def unpack_block(packed: bytes, *, dictionary: bytes) -> tuple[list[bytes], bytes, bytes]:
    """``(data entries, SIGNATURES metadata, TRANSACTIONS_FILTER)`` of a packed block.

    Raises:
        PackedBlockError: not raw DEFLATE, larger than :data:`MAX_UNPACKED_BYTES`, or a
            layout that does not parse to the end exactly.
    """
    inflater = zlib.decompressobj(-15, zdict=dictionary)
    try:
        raw = inflater.decompress(packed, MAX_UNPACKED_BYTES)
    except zlib.error as exc:
        raise PackedBlockError(f"not a raw DEFLATE stream: {exc}") from None
    if inflater.unconsumed_tail:
        raise PackedBlockError(f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise PackedBlockError("the DEFLATE stream is truncated or followed by other bytes")
    reader = _Reader(raw)
    count = reader.varint()
    if count < 1 or count > 10_000:
        raise PackedBlockError(f"{count} data entries")
    data = [reader.part() for _ in range(count)]
    signatures, codes = reader.part(), reader.part()
    if reader.pos != len(raw):
        raise PackedBlockError(f"{len(raw) - reader.pos} bytes after the last part")
    return data, signatures, codes
