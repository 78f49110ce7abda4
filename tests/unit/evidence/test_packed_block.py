"""The checkpoint form's packed block: byte-exact round trip of the real block's parts, PEM
re-made exactly, and every malformed packing refused (never a crash, never a bomb)."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest
from credit_ledger_verify.evidence.packed_block import (
    MAX_UNPACKED_BYTES,
    PackedBlockError,
    pack_block,
    packing_dictionary,
    pem,
    unpack_block,
)

from ledger_service.evidence import TrustStore

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence" / "checkpoint"


def _golden_parts() -> tuple[list[bytes], bytes, bytes, bytes, list[bytes], bytes]:
    bundle = json.loads((DATA / "bundle.json").read_bytes())
    trust = TrustStore.load(DATA / "trust")
    cas = [d for m in bundle["anchor"]["cas"] for d in trust.ca_certificates_der(m)]
    dictionary = packing_dictionary(cas, bundle["checkpoint"].encode())
    data, sigs, codes = unpack_block(
        base64.b64decode(bundle["anchor"]["packed"]), dictionary=dictionary
    )
    return data, sigs, codes, dictionary, cas, bundle["checkpoint"].encode()


def test_the_real_block_round_trips_byte_for_byte() -> None:
    data, sigs, codes, dictionary, cas, note = _golden_parts()
    assert data[0].count(b"-----BEGIN CERTIFICATE-----\n") == 4  # creator x2, two endorsers
    assert sigs.count(b"-----BEGIN CERTIFICATE-----\n") == 1  # the orderer
    packed = pack_block(data, sigs, codes, dictionary=dictionary)
    assert unpack_block(packed, dictionary=dictionary) == (data, sigs, codes)
    # carrying the certificates as DER is what makes it small: compare with plain DEFLATE
    plain = zlib.compress(b"".join([*data, sigs, codes]), 9)
    assert len(packed) < len(plain) * 0.85, (len(packed), len(plain))
    # and the dictionary's predicted text (the written value's start, the fixed names)
    # beyond the CA certificates and the note
    bare = b"".join(cas) + note
    assert len(packed) < len(pack_block(data, sigs, codes, dictionary=bare)) - 100


def test_the_dictionary_predicts_the_written_value_and_tolerates_any_note() -> None:
    bundle = json.loads((DATA / "bundle.json").read_bytes())
    note = bundle["checkpoint"].encode()
    data = _golden_parts()[0][0]
    predicted = packing_dictionary([], note)
    size, root = note.decode().split("\n")[1:3]
    start = b'{"size":%b,"root":"%b","prev_size":' % (
        size.encode(),
        base64.b64decode(root).hex().encode(),
    )
    assert predicted.endswith(
        b',"note":"' + json.dumps(note.decode(), ensure_ascii=False)[1:-1].encode()
    )
    assert start in predicted
    assert start in data  # the chaincode's value begins so
    root_b64 = base64.b64encode(bytes(32))
    for odd in (
        b"",
        b"x",
        b"a\nb\nc\n",
        b"o\n12\n" + b"!" * 44 + b"\n\n",
        b"o\n12\n" + root_b64 + b"\n\xff\n",  # not UTF-8 after a well-formed head
    ):
        assert packing_dictionary([b"ca"], odd).startswith(b"ca")  # no error, only less help


def test_pem_not_in_gos_layout_stays_literal() -> None:
    der = bytes(range(200))
    odd = pem(der).replace(b"\n", b"\r\n", 1)  # not what pem.Encode writes: kept as bytes
    parts = [b"x" + pem(der) + b"y" + odd + b"z"]
    assert unpack_block(pack_block(parts, b"", b"\x00", dictionary=b""), dictionary=b"")[0] == parts


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\x01", "truncated"),  # one data entry, then nothing
        (b"\x00", "0 data entries"),
        (b"\x01\x00\x05ab", "runs past the end"),
        (b"\x01\x00\x00\x00\x00\x00\x00\xff", "after the last part"),
    ],
)
def test_malformed_layouts_are_refused(raw: bytes, why: str) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    with pytest.raises(PackedBlockError, match=why):
        unpack_block(compressor.compress(raw) + compressor.flush(), dictionary=b"")


def test_a_deflate_bomb_is_refused_before_it_grows() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"\x00" * (MAX_UNPACKED_BYTES + 1)) + compressor.flush()
    with pytest.raises(PackedBlockError, match="more than"):
        unpack_block(bomb, dictionary=b"")


def test_garbage_and_trailing_bytes_are_refused() -> None:
    with pytest.raises(PackedBlockError, match="DEFLATE"):
        unpack_block(b"\xff\xff\xff", dictionary=b"")
    good = pack_block([b"a"], b"", b"\x00", dictionary=b"")
    with pytest.raises(PackedBlockError, match="followed by other bytes"):
        unpack_block(good + b"x", dictionary=b"")
