"""Builders for unit tests: keys, certificates, envelopes and blocks made locally."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_gateway import X509Identity
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import timestamp_pb2


def self_signed_cert(key: ec.EllipticCurvePrivateKey, cn: str = "User1@test") -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def new_identity(msp_id: str = "Org1MSP") -> tuple[X509Identity, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    return X509Identity(msp_id=msp_id, certificate_pem=self_signed_cert(key)), key


def serialized(msp_id: str, cert: bytes) -> bytes:
    return identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=cert).SerializeToString()


def endorser_envelope(
    *,
    tx_id: str,
    channel: str = "ch",
    chaincode: str = "cc",
    creator: bytes = b"",
    writes: Sequence[tuple[str, bytes]] = (),
    reads: Sequence[tuple[str, tuple[int, int] | None]] = (),
    result: bytes = b"",
    endorsers: Sequence[tuple[str, bytes]] = (),
    event: tuple[str, bytes] | None = None,
    signature: bytes = b"",
    seconds: int = 1_700_000_000,
) -> common_pb2.Envelope:
    """An ENDORSER_TRANSACTION envelope shaped like the ones peers prepare."""
    kv = kv_rwset_pb2.KVRWSet(
        reads=[
            kv_rwset_pb2.KVRead(
                key=k,
                version=kv_rwset_pb2.Version(block_num=v[0], tx_num=v[1]) if v else None,
            )
            for k, v in reads
        ],
        writes=[kv_rwset_pb2.KVWrite(key=k, value=v) for k, v in writes],
    )
    txrw = rwset_pb2.TxReadWriteSet(
        data_model=rwset_pb2.TxReadWriteSet.KV,
        ns_rwset=[rwset_pb2.NsReadWriteSet(namespace=chaincode, rwset=kv.SerializeToString())],
    )
    events = b""
    if event is not None:
        events = chaincode_event_pb2.ChaincodeEvent(
            chaincode_id=chaincode, tx_id=tx_id, event_name=event[0], payload=event[1]
        ).SerializeToString()
    action = proposal_pb2.ChaincodeAction(
        results=txrw.SerializeToString(),
        events=events,
        response=proposal_response_pb2.Response(status=200, payload=result),
        chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode, version="1.0"),
    )
    prp = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=b"\x01" * 32, extension=action.SerializeToString()
    ).SerializeToString()
    cap = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=b"",
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=prp,
            endorsements=[
                proposal_response_pb2.Endorsement(
                    endorser=serialized(m, c), signature=b"sig-" + m.encode()
                )
                for m, c in endorsers
            ],
        ),
    )
    tx = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(header=b"", payload=cap.SerializeToString())]
    )
    ch = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        channel_id=channel,
        tx_id=tx_id,
        timestamp=timestamp_pb2.Timestamp(seconds=seconds, nanos=123_456_000),
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=ch.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(
                creator=creator, nonce=b"n" * 24
            ).SerializeToString(),
        ),
        data=tx.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString(), signature=signature)


def block(
    number: int, envelopes: Sequence[common_pb2.Envelope], codes: Sequence[int]
) -> common_pb2.Block:
    data = [e.SerializeToString() for e in envelopes]
    metadata = [b""] * 5
    metadata[common_pb2.TRANSACTIONS_FILTER] = bytes(codes)
    return common_pb2.Block(
        header=common_pb2.BlockHeader(number=number, previous_hash=b"p" * 32, data_hash=b"d" * 32),
        data=common_pb2.BlockData(data=data),
        metadata=common_pb2.BlockMetadata(metadata=metadata),
    )


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, value: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(value)) + value


def rpc_status(code: int, message: str, details: Sequence[tuple[str, bytes]]) -> bytes:
    """Serialized google.rpc.Status with Any-packed details ``(type_url, value)``."""
    out = encode_varint(1 << 3) + encode_varint(code) + field_bytes(2, message.encode())
    for type_url, value in details:
        out += field_bytes(3, field_bytes(1, type_url.encode()) + field_bytes(2, value))
    return out
