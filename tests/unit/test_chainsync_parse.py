"""Chain sync's reading of blocks: which writes become mirror rows (the key/value codec
itself is tested in test_onchain.py against the shared vectors).

The block builders here are also used by test_chainsync_mirror.py; they produce protobuf
structures the way Fabric lays them out (envelope → payload → transaction → action →
proposal response payload → chaincode action → rwset), not a Fabric network.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from credit_ledger_verify.fabric.blocks import block_data_hash, block_header_hash
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_service.chainsync.parse import (
    BlockRows,
    ChainBatchRow,
    ChainCheckpointRow,
    ChainIntegrityError,
    ChainRecordRow,
    extract_block,
    extract_writes,
)

NS = "ledger"
VALID = transaction_pb2.VALID
TS = "2026-01-05T09:00:00.123456789Z"
TS_PARSED = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)


# -- builders ------------------------------------------------------------------------------------


def record_value(batch_id: str, leaf: int) -> bytes:
    """Exactly the chaincode's bytes: leaf index (LEB128) ‖ batch id — written out here
    independently of the code under test."""
    varint = bytearray()
    while True:
        low, leaf = leaf & 0x7F, leaf >> 7
        varint.append(low | (0x80 if leaf else 0))
        if not leaf:
            break
    return bytes(varint) + batch_id.encode()


def batch_value(
    batch_id: str, root: bytes, size: int, tx_id: str, msp: str = "PlatformMSP", ts: str = TS
) -> bytes:
    return (
        f'{{"batch_id":"{batch_id}","root":"{root.hex()}","size":{size},"tx_id":"{tx_id}",'
        f'"msp":"{msp}","ts":"{ts}"}}'
    ).encode()


def commitment_of(record_id: str) -> bytes:
    return hashlib.sha256(record_id.encode()).digest()


def commitment_key(commitment: bytes) -> str:
    """Exactly the chaincode's record key: unpadded base64url of the commitment — written out
    here independently of the code under test."""
    return f"\x00rec\x00{base64.urlsafe_b64encode(commitment).decode().rstrip('=')}\x00"


def rec_key(record_id: str) -> str:
    """The record's state key: its commitment (here derived from a test name)."""
    return commitment_key(commitment_of(record_id))


def batch_writes(
    batch_id: str, tx_id: str, record_ids: list[str], *, root: bytes | None = None
) -> list[tuple[str, bytes]]:
    """The 1 + N writes of a PutBatch, sorted by key as Fabric does."""
    writes = [
        (
            f"\x00batch\x00{batch_id}\x00",
            batch_value(
                batch_id, root or hashlib.sha256(batch_id.encode()).digest(), len(record_ids), tx_id
            ),
        )
    ]
    writes += [(rec_key(rid), record_value(batch_id, i)) for i, rid in enumerate(record_ids)]
    return sorted(writes)


def envelope(
    tx_id: str,
    writes: list[tuple[str, bytes]] | None = None,
    *,
    namespace: str = NS,
    header_type: int = common_pb2.ENDORSER_TRANSACTION,
    deletes: Sequence[str] = (),
    other: dict[str, list[tuple[str, bytes]]] | None = None,
) -> common_pb2.Envelope:
    namespaces = {namespace: writes or []}
    namespaces.update(other or {})
    txrw = rwset_pb2.TxReadWriteSet(data_model=rwset_pb2.TxReadWriteSet.KV)
    for ns, ws in namespaces.items():
        kv = kv_rwset_pb2.KVRWSet(
            writes=[kv_rwset_pb2.KVWrite(key=k, value=v) for k, v in ws]
            + [
                kv_rwset_pb2.KVWrite(key=k, is_delete=True)
                for k in (deletes if ns == namespace else [])
            ],
            reads=[kv_rwset_pb2.KVRead(key=k) for k, _ in ws],
        )
        txrw.ns_rwset.append(rwset_pb2.NsReadWriteSet(namespace=ns, rwset=kv.SerializeToString()))
    action = proposal_pb2.ChaincodeAction(results=txrw.SerializeToString())
    action.chaincode_id.name = namespace
    prp = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=b"h", extension=action.SerializeToString()
    )
    cap = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=prp.SerializeToString()
        )
    )
    tx = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=cap.SerializeToString())]
    )
    ch = common_pb2.ChannelHeader(type=header_type, channel_id="ledger", tx_id=tx_id)
    ch.timestamp.seconds = 1_767_603_600
    sh = common_pb2.SignatureHeader(
        creator=identities_pb2.SerializedIdentity(
            mspid="PlatformMSP", id_bytes=b"cert"
        ).SerializeToString()
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=ch.SerializeToString(), signature_header=sh.SerializeToString()
        ),
        data=tx.SerializeToString() if header_type == common_pb2.ENDORSER_TRANSACTION else b"",
    )
    return common_pb2.Envelope(payload=payload.SerializeToString(), signature=b"sig")


def make_block(
    number: int,
    envelopes: list[common_pb2.Envelope],
    codes: list[int] | None = None,
    previous_hash: bytes = b"",
) -> common_pb2.Block:
    data = [e.SerializeToString() for e in envelopes]
    block = common_pb2.Block()
    block.header.number = number
    block.header.previous_hash = previous_hash
    block.header.data_hash = block_data_hash(data)
    block.data.data.extend(data)
    filt = bytes(codes if codes is not None else [VALID] * len(data))
    for _ in range(common_pb2.TRANSACTIONS_FILTER + 1):
        block.metadata.metadata.append(b"")
    block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] = filt
    return block


def make_chain(
    per_block: list[list[common_pb2.Envelope]], codes: dict[int, list[int]] | None = None
) -> list[common_pb2.Block]:
    """Blocks 0..n-1 linked by previous-hash; ``codes``: validation codes by block number
    (default: all VALID)."""
    chain: list[common_pb2.Block] = []
    previous = b""
    for number, envs in enumerate(per_block):
        block = make_block(number, envs, (codes or {}).get(number), previous_hash=previous)
        previous = block_header_hash(number, previous, block.header.data_hash)
        chain.append(block)
    return chain


# -- write sets ------------------------------------------------------------------------------------


def _rows(
    writes: list[tuple[str, bytes]], tx_id: str = "tx1", deletes: Sequence[str] = ()
) -> BlockRows:
    out = BlockRows(number=5, previous_hash=b"", data_hash=b"", header_hash=b"")
    extract_writes(
        [(k, v, False) for k, v in writes] + [(k, b"", True) for k in deletes],
        block_number=5,
        tx_index=2,
        tx_id=tx_id,
        out=out,
    )
    return out


def test_put_batch_write_set() -> None:
    ids = ["r1", "r2", "r0"]
    out = _rows(batch_writes("b1", "tx1", ids))
    assert out.anomalies == []
    assert out.batches == [
        ChainBatchRow(
            "b1", hashlib.sha256(b"b1").digest(), 3, "tx1", 5, 2, "PlatformMSP", TS_PARSED
        )
    ]
    assert sorted(out.records) == sorted(
        ChainRecordRow(commitment_of(rid), "b1", i, 5, "tx1") for i, rid in enumerate(ids)
    )


def test_touch_keys_are_ignored_and_oddities_reported() -> None:
    writes = [*batch_writes("b1", "tx1", ["r1"]), ("\x00touch\x00k\x00", b"tx1")]
    out = _rows(writes)
    assert len(out.records) == 1
    assert len(out.batches) == 1
    assert out.anomalies == []

    out = _rows([("plain-key", b"x")])
    assert out.anomalies
    assert "not a composite key" in out.anomalies[0]

    out = _rows([], deletes=[rec_key("r1")])
    assert out.records == []
    assert "deleted" in out.anomalies[0]

    bad = [(rec_key("r1"), b"\x80")]
    out = _rows(bad)
    assert out.records == []
    assert "block 5 tx 2 (tx1)" in out.anomalies[0]
    assert "truncated" in out.anomalies[0]

    # a record key that is not a commitment (e.g. the old layout's record id)
    out = _rows([("\x00rec\x00r1\x00", record_value("b1", 0))])
    assert out.records == []
    assert "43 canonical base64url" in out.anomalies[0]

    # the v3 draft's 64-hex key (and one a lenient base64 decoder would take) are refused
    c = commitment_of("r1")
    for key in (f"\x00rec\x00{c.hex()}\x00", commitment_key(c)[:-2] + "R\x00"):
        out = _rows([(key, record_value("b1", 0))])
        assert out.records == []
        assert "43 canonical base64url" in out.anomalies[0]


def test_record_without_its_batch_in_the_transaction_is_flagged() -> None:
    writes = [(rec_key("r1"), record_value("b-other", 0))]
    out = _rows(writes)
    assert out.records  # still mirrored: the chain did write it
    assert "names batch 'b-other'" in out.anomalies[0]


def test_batch_value_must_match_key_and_transaction() -> None:
    writes = [("\x00batch\x00b1\x00", batch_value("b2", bytes(32), 1, "tx1"))]
    assert "key names 'b1'" in _rows(writes).anomalies[0]
    writes = [("\x00batch\x00b1\x00", batch_value("b1", bytes(32), 1, "tx-else"))]
    assert "names tx 'tx-else'" in _rows(writes).anomalies[0]


NOTE = (
    "credit-ledger.example/ledger/ledger\n3\nq83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng=\n"
    "\n\u2014 sig\n"
)


def checkpoint_value(size: int, prev_size: int, tx_id: str, root: bytes = b"\x12" * 32) -> bytes:
    """The chaincode's bytes for a checkpoint value (Go struct order, compact JSON),
    written out here independently of the code under test."""
    note = NOTE.replace("\n", "\\n").replace("\u2014", "\u2014")
    return (
        f'{{"size":{size},"root":"{root.hex()}","prev_size":{prev_size},"note":"{note}",'
        f'"tx_id":"{tx_id}","msp":"PlatformMSP","ts":"{TS}"}}'
    ).encode()


def test_checkpoint_keys_are_mirrored_verbatim_head_and_log_key_are_not() -> None:
    writes = [
        ("\x00tlog\x00key\x00", b"credit-ledger.example/ledger/ledger+abcd1234+AAAA"),
        ("\x00tlog\x00head\x00", b'{"size":3,"root":"' + (b"12" * 32) + b'"}'),
        (f"\x00tlog\x00{3:020d}\x00", checkpoint_value(3, 0, "tx1")),
    ]
    out = _rows(writes)
    assert out.anomalies == []
    assert out.batches == []
    assert out.records == []
    assert out.checkpoints == [
        ChainCheckpointRow(3, b"\x12" * 32, 0, NOTE.encode(), "tx1", 5, 2, "PlatformMSP", TS)
    ]


def test_checkpoint_value_must_match_its_key_and_transaction() -> None:
    out = _rows([(f"\x00tlog\x00{4:020d}\x00", checkpoint_value(3, 0, "tx1"))])
    assert out.checkpoints == []
    assert "names size 3, key 4" in out.anomalies[0]
    out = _rows([(f"\x00tlog\x00{3:020d}\x00", checkpoint_value(3, 0, "tx-else"))])
    assert "names tx 'tx-else'" in out.anomalies[0]
    out = _rows([(f"\x00tlog\x00{3:020d}\x00", checkpoint_value(3, 3, "tx1"))])
    assert "prev_size" in out.anomalies[0]


_ids = st.text(alphabet="abcXYZ019._:-", min_size=1, max_size=128)


@settings(max_examples=200, deadline=None)
@given(
    batch_id=_ids,
    record_ids=st.lists(_ids, min_size=1, max_size=30, unique=True),
    block=st.integers(0, 2**40),
)
def test_layout_round_trip(batch_id: str, record_ids: list[str], block: int) -> None:
    out = BlockRows(number=block, previous_hash=b"", data_hash=b"", header_hash=b"")
    extract_writes(
        [(k, v, False) for k, v in batch_writes(batch_id, "t", record_ids)],
        block_number=block,
        tx_index=0,
        tx_id="t",
        out=out,
    )
    assert out.anomalies == []
    assert [b.batch_id for b in out.batches] == [batch_id]
    assert {r.commitment: r.leaf_index for r in out.records} == {
        commitment_of(rid): i for i, rid in enumerate(record_ids)
    }


# -- blocks ----------------------------------------------------------------------------------------


def test_extract_block_only_valid_endorser_transactions_in_the_namespace() -> None:
    good = envelope("t-good", batch_writes("b1", "t-good", ["r1", "r2"]))
    invalid = envelope("t-bad", batch_writes("b2", "t-bad", ["r3"]))
    other_ns = envelope("t-other", None, other={"mycc": batch_writes("b3", "t-other", ["r4"])})
    config = envelope("t-config", header_type=common_pb2.CONFIG)
    block = make_block(
        7,
        [good, invalid, other_ns, config],
        [VALID, transaction_pb2.MVCC_READ_CONFLICT, VALID, VALID],
    )
    rows = extract_block(block.SerializeToString(), NS, keep_envelopes=True)
    assert rows.number == 7
    assert [b.batch_id for b in rows.batches] == ["b1"]
    assert rows.batches[0].tx_index == 0
    assert rows.batches[0].block_number == 7
    assert {r.commitment for r in rows.records} == {commitment_of("r1"), commitment_of("r2")}
    assert rows.valid_transactions == 3
    assert rows.skipped_transactions == 1
    assert rows.envelopes == {"b1": good.SerializeToString()}
    assert rows.header_hash == block_header_hash(7, b"", block.header.data_hash)
    assert extract_block(block, NS).envelopes == {}


def test_extract_block_without_validation_codes_mirrors_nothing() -> None:
    block = make_block(1, [envelope("t", batch_writes("b1", "t", ["r1"]))], codes=[])
    rows = extract_block(block, NS)
    assert rows.records == []
    assert rows.skipped_transactions == 1


def test_extract_block_refuses_altered_data() -> None:
    block = make_block(3, [envelope("t", batch_writes("b1", "t", ["r1"]))])
    block.data.data[0] = envelope("t", batch_writes("b1", "t", ["r-forged"])).SerializeToString()
    with pytest.raises(ChainIntegrityError, match="block 3: data hash"):
        extract_block(block, NS)


def test_undecodable_valid_transaction_is_an_anomaly() -> None:
    block = make_block(2, [])
    block.data.data.append(b"\xff\xff")
    block.header.data_hash = block_data_hash(list(block.data.data))
    block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] = bytes([VALID])
    rows = extract_block(block, NS)
    assert rows.skipped_transactions == 1
    assert "undecodable" in rows.anomalies[0]
