from __future__ import annotations

import hashlib

from credit_ledger_verify.fabric import blocks
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from fg_testutil import block, endorser_envelope, serialized


def _cert(name: str) -> bytes:
    return f"-----BEGIN CERTIFICATE-----\n{name}\n-----END CERTIFICATE-----\n".encode()


def test_parse_block_transactions() -> None:
    creator = serialized("PlatformMSP", _cert("writer"))
    valid = endorser_envelope(
        tx_id="t1",
        channel="ledger",
        chaincode="ledger",
        creator=creator,
        writes=[("batch~1", b"root"), ("rec~a", b"c1")],
        reads=[("batch~1", None), ("cfg", (3, 0))],
        result=b"ok",
        endorsers=[("PlatformMSP", _cert("p")), ("BankMSP", _cert("b"))],
        event=("BatchAnchored", b"{}"),
        signature=b"sig",
    )
    conflict = endorser_envelope(
        tx_id="t2", channel="ledger", creator=creator, writes=[("k", b"v")]
    )
    raw = block(12, [valid, conflict], [transaction_pb2.VALID, transaction_pb2.MVCC_READ_CONFLICT])
    info = blocks.parse_block(raw.SerializeToString())
    assert info.number == 12
    assert [t.transaction_id for t in info.transactions] == ["t1", "t2"]
    t1, t2 = info.transactions
    assert t1.valid
    assert t1.validation_code_name == "VALID"
    assert not t2.valid
    assert t2.validation_code_name == "MVCC_READ_CONFLICT"
    assert t1.header_type_name == "ENDORSER_TRANSACTION"
    assert t1.is_endorser_transaction
    assert t1.channel_id == "ledger"
    assert t1.creator_msp_id == "PlatformMSP"
    assert t1.creator == creator
    assert t1.timestamp is not None
    assert t1.timestamp.year == 2023
    assert t1.writes() == {
        "ledger": [blocks.KVWrite("batch~1", b"root"), blocks.KVWrite("rec~a", b"c1")]
    }
    assert t1.rwsets[0].reads == (blocks.KVRead("batch~1", None), blocks.KVRead("cfg", (3, 0)))
    assert [e.msp_id for e in t1.endorsements] == ["PlatformMSP", "BankMSP"]
    assert t1.endorsements[1].certificate_pem == _cert("b")
    action = t1.actions[0]
    assert action.chaincode_name == "ledger"
    assert action.response_payload == b"ok"
    assert action.event_name == "BatchAnchored"
    assert action.event_payload == b"{}"
    assert t1.envelope == valid.SerializeToString()
    assert common_pb2.Envelope.FromString(t1.envelope).signature == b"sig"
    assert t1.decode_error is None


def test_parse_envelope_standalone_and_garbage() -> None:
    info = blocks.parse_envelope(endorser_envelope(tx_id="x"))
    assert info.validation_code is None
    assert info.validation_code_name is None
    assert not info.valid
    bad = blocks.parse_envelope(b"\x0a\x03abc")
    assert bad.decode_error is not None
    raw = block(1, [], [])
    raw.data.data.append(b"\xff\xff")
    parsed = blocks.parse_block(raw)
    assert parsed.transactions[0].decode_error is not None


def test_config_transaction_has_no_actions() -> None:
    ch = common_pb2.ChannelHeader(type=common_pb2.CONFIG, channel_id="c")
    env = common_pb2.Envelope(
        payload=common_pb2.Payload(
            header=common_pb2.Header(channel_header=ch.SerializeToString()), data=b"\x0a\x00"
        ).SerializeToString()
    )
    info = blocks.parse_envelope(env, validation_code=0)
    assert info.header_type_name == "CONFIG"
    assert info.actions == ()
    assert info.valid


def test_block_data_hash() -> None:
    data = [b"abc", b"def"]
    assert blocks.block_data_hash(data) == hashlib.sha256(b"abcdef").digest()


def test_block_header_hash_der_encoding() -> None:
    # SEQUENCE { INTEGER number, OCTET STRING prev, OCTET STRING data }
    for number, encoded in [
        (0, b"\x02\x01\x00"),
        (127, b"\x02\x01\x7f"),
        (128, b"\x02\x02\x00\x80"),
        (256, b"\x02\x02\x01\x00"),
        (2**63, b"\x02\x09\x00\x80" + b"\x00" * 7),
    ]:
        body = encoded + b"\x04\x01p" + b"\x04\x00"
        expected = hashlib.sha256(b"\x30" + bytes((len(body),)) + body).digest()
        assert blocks.block_header_hash(number, b"p", b"") == expected
    long_prev = b"x" * 200
    body = b"\x02\x01\x05" + b"\x04\x81\xc8" + long_prev + b"\x04\x00"
    expected = hashlib.sha256(b"\x30\x81" + bytes((len(body),)) + body).digest()
    assert blocks.block_header_hash(5, long_prev, b"") == expected


def test_names() -> None:
    assert blocks.validation_code_name(11) == "MVCC_READ_CONFLICT"
    assert blocks.validation_code_name(9999) == "UNKNOWN_CODE_9999"
    assert blocks.header_type_name(3) == "ENDORSER_TRANSACTION"
