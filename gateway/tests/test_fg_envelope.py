"""credit_ledger_verify.fabric.envelope: the one decoder from envelope to endorsed action parts."""

from __future__ import annotations

import hashlib

import pytest
from credit_ledger_verify.fabric import blocks
from credit_ledger_verify.fabric.envelope import (
    EnvelopeError,
    decode_actions,
    decode_endorsed_transaction,
    decode_header,
    kv_rwset,
)
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

CREATOR = identities_pb2.SerializedIdentity(mspid="Org1MSP", id_bytes=b"pem").SerializeToString()


def _envelope(actions: int = 1, header_type: int = common_pb2.ENDORSER_TRANSACTION) -> bytes:
    kv = kv_rwset_pb2.KVRWSet(writes=[kv_rwset_pb2.KVWrite(key="k", value=b"v")])
    results = rwset_pb2.TxReadWriteSet(
        ns_rwset=[rwset_pb2.NsReadWriteSet(namespace="cc", rwset=kv.SerializeToString())]
    )
    cc_action = proposal_pb2.ChaincodeAction(results=results.SerializeToString())
    cc_action.chaincode_id.name = "cc"
    prp = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=b"ph", extension=cc_action.SerializeToString()
    ).SerializeToString()
    cap = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=b"cpp",
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=prp,
            endorsements=[proposal_response_pb2.Endorsement(endorser=CREATOR, signature=b"s")],
        ),
    )
    tx = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(header=b"ah", payload=cap.SerializeToString())]
        * actions
    )
    ch = common_pb2.ChannelHeader(type=header_type, channel_id="c", tx_id="t1")
    sh = common_pb2.SignatureHeader(creator=CREATOR, nonce=b"nonce")
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=ch.SerializeToString(), signature_header=sh.SerializeToString()
        ),
        data=tx.SerializeToString(),
    )
    return common_pb2.Envelope(
        payload=payload.SerializeToString(), signature=b"sig"
    ).SerializeToString()


def test_decodes_every_part_with_the_signed_bytes() -> None:
    header, action = decode_endorsed_transaction(_envelope())
    assert header.tx_id == "t1"
    assert header.creator == CREATOR
    assert header.nonce == b"nonce"
    assert header.signature == b"sig"
    assert common_pb2.Payload.FromString(header.payload).header.channel_header == (
        header.channel_header_bytes
    )
    assert action.action_header == b"ah"
    assert action.chaincode_proposal_payload == b"cpp"
    assert action.proposal_hash == b"ph"
    assert action.chaincode_name == "cc"
    assert [e.endorser for e in action.endorsements] == [CREATOR]
    ns = action.namespace("cc")
    assert ns is not None
    assert action.namespace("other") is None
    assert [(w.key, w.value) for w in kv_rwset(ns).writes] == [("k", b"v")]
    # parse_envelope is built on the same decoder
    info = blocks.parse_envelope(_envelope())
    assert info.decode_error is None
    assert info.actions[0].proposal_response_payload == action.proposal_response_payload


def test_refusals_name_the_part() -> None:
    with pytest.raises(EnvelopeError, match="not a transaction envelope"):
        decode_header(b"\xff\xff")
    with pytest.raises(EnvelopeError, match="2 actions, expected exactly 1"):
        decode_endorsed_transaction(_envelope(actions=2))
    with pytest.raises(EnvelopeError, match="CONFIG transaction, not ENDORSER_TRANSACTION"):
        decode_actions(decode_header(_envelope(header_type=common_pb2.CONFIG)))
    bad = rwset_pb2.NsReadWriteSet(namespace="cc", rwset=b"\xff\xff")
    with pytest.raises(EnvelopeError, match="namespace 'cc' does not decode"):
        kv_rwset(bad)


@pytest.mark.parametrize("number", [0, 1, 127, 128, 255, 256, 65535, 65536, 2**40, 2**63 - 1])
def test_block_header_bytes_is_the_hashed_der(number: int) -> None:
    prev, data = b"\x01" * 32, b"\x02" * 32
    der = blocks.block_header_bytes(number, prev, data)
    assert der[0] == 0x30
    assert blocks.block_header_hash(number, prev, data) == hashlib.sha256(der).digest()
