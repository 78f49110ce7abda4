"""The Fabric protobuf messages the verifier reads, declared here so that the verifier needs
``protobuf`` only — not ``hyperledger-fabric-protos``, whose distribution pulls in ``grpcio``.

Only the fields something here reads are declared (protobuf skips the others on parsing);
names and field numbers are Fabric's (``fabric-protos`` v2: ``common/common.proto``,
``peer/transaction.proto``, ``peer/proposal.proto``, ``peer/proposal_response.proto``,
``peer/chaincode.proto``, ``peer/chaincode_event.proto``, ``ledger/rwset/rwset.proto``,
``ledger/rwset/kvrwset/kv_rwset.proto``, ``msp/identities.proto``). The message classes are
built at import time in a private descriptor pool, so they are real protobuf classes (the C
parser, ``FromString``, ``DecodeError``) and never clash with ``fabric_protos`` when the
service has both loaded. ``tests/unit/fabric/test_protos.py`` holds every declared field
against ``fabric_protos``' descriptors and decodes the same bytes with both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.message import DecodeError, Message

__all__ = [
    "ENDORSER_TRANSACTION",
    "HEADER_TYPE_NAMES",
    "SCHEMA",
    "SIGNATURES",
    "TRANSACTIONS_FILTER",
    "TX_VALIDATION_NAMES",
    "VALID",
    "Block",
    "ChaincodeAction",
    "ChaincodeActionPayload",
    "ChaincodeEvent",
    "ChannelHeader",
    "DecodeError",
    "Endorsement",
    "Envelope",
    "KVRWSet",
    "Metadata",
    "NsReadWriteSet",
    "Payload",
    "ProposalResponsePayload",
    "SerializedIdentity",
    "SignatureHeader",
    "Transaction",
    "TransactionAction",
    "TxReadWriteSet",
]

#: proto package → message → fields, in ``.proto`` syntax (``[repeated] type name = number``).
SCHEMA: dict[str, dict[str, str]] = {
    "common": {
        "Block": "BlockHeader header = 1; BlockData data = 2; BlockMetadata metadata = 3",
        "BlockHeader": "uint64 number = 1; bytes previous_hash = 2; bytes data_hash = 3",
        "BlockData": "repeated bytes data = 1",
        "BlockMetadata": "repeated bytes metadata = 1",
        "Envelope": "bytes payload = 1; bytes signature = 2",
        "Payload": "Header header = 1; bytes data = 2",
        "Header": "bytes channel_header = 1; bytes signature_header = 2",
        "ChannelHeader": "int32 type = 1; int32 version = 2; "
        "google.protobuf.Timestamp timestamp = 3; string channel_id = 4; string tx_id = 5; "
        "uint64 epoch = 6",
        "SignatureHeader": "bytes creator = 1; bytes nonce = 2",
        "Metadata": "bytes value = 1; repeated MetadataSignature signatures = 2",
        "MetadataSignature": "bytes signature_header = 1; bytes signature = 2; "
        "bytes identifier_header = 3",
    },
    "msp": {"SerializedIdentity": "string mspid = 1; bytes id_bytes = 2"},
    "protos": {
        "Transaction": "repeated TransactionAction actions = 1",
        "TransactionAction": "bytes header = 1; bytes payload = 2",
        "ChaincodeActionPayload": "bytes chaincode_proposal_payload = 1; "
        "ChaincodeEndorsedAction action = 2",
        "ChaincodeEndorsedAction": "bytes proposal_response_payload = 1; "
        "repeated Endorsement endorsements = 2",
        "Endorsement": "bytes endorser = 1; bytes signature = 2",
        "ProposalResponsePayload": "bytes proposal_hash = 1; bytes extension = 2",
        "ChaincodeAction": "bytes results = 1; bytes events = 2; Response response = 3; "
        "ChaincodeID chaincode_id = 4",
        "Response": "int32 status = 1; string message = 2; bytes payload = 3",
        "ChaincodeID": "string path = 1; string name = 2; string version = 3",
        "ChaincodeEvent": "string chaincode_id = 1; string tx_id = 2; string event_name = 3; "
        "bytes payload = 4",
    },
    "rwset": {
        "TxReadWriteSet": "repeated NsReadWriteSet ns_rwset = 2",
        "NsReadWriteSet": "string namespace = 1; bytes rwset = 2; "
        "repeated CollectionHashedReadWriteSet collection_hashed_rwset = 3",
        "CollectionHashedReadWriteSet": "string collection_name = 1",
    },
    "kvrwset": {
        "KVRWSet": "repeated KVRead reads = 1; repeated KVWrite writes = 3",
        "KVRead": "string key = 1; Version version = 2",
        "KVWrite": "string key = 1; bool is_delete = 2; bytes value = 3",
        "Version": "uint64 block_num = 1; uint64 tx_num = 2",
    },
}

#: ``common.HeaderType`` values by number.
HEADER_TYPE_NAMES: dict[int, str] = dict(
    enumerate(
        [
            "MESSAGE",
            "CONFIG",
            "CONFIG_UPDATE",
            "ENDORSER_TRANSACTION",
            "ORDERER_TRANSACTION",
            "DELIVER_SEEK_INFO",
            "CHAINCODE_PACKAGE",
        ]
    )
)
ENDORSER_TRANSACTION = 3

#: ``protos.TxValidationCode`` values by number.
TX_VALIDATION_NAMES: dict[int, str] = {
    **dict(
        enumerate(
            [
                "VALID",
                "NIL_ENVELOPE",
                "BAD_PAYLOAD",
                "BAD_COMMON_HEADER",
                "BAD_CREATOR_SIGNATURE",
                "INVALID_ENDORSER_TRANSACTION",
                "INVALID_CONFIG_TRANSACTION",
                "UNSUPPORTED_TX_PAYLOAD",
                "BAD_PROPOSAL_TXID",
                "DUPLICATE_TXID",
                "ENDORSEMENT_POLICY_FAILURE",
                "MVCC_READ_CONFLICT",
                "PHANTOM_READ_CONFLICT",
                "UNKNOWN_TX_TYPE",
                "TARGET_CHAIN_NOT_FOUND",
                "MARSHAL_TX_ERROR",
                "NIL_TXACTION",
                "EXPIRED_CHAINCODE",
                "CHAINCODE_VERSION_CONFLICT",
                "BAD_HEADER_EXTENSION",
                "BAD_CHANNEL_HEADER",
                "BAD_RESPONSE_PAYLOAD",
                "BAD_RWSET",
                "ILLEGAL_WRITESET",
                "INVALID_WRITESET",
                "INVALID_CHAINCODE",
            ]
        )
    ),
    254: "NOT_VALIDATED",
    255: "INVALID_OTHER_REASON",
}
VALID = 0

#: ``common.BlockMetadataIndex``: orderer signatures; per-transaction validation codes.
SIGNATURES = 0
TRANSACTIONS_FILTER = 2

_FIELD = re.compile(r"(repeated )?([\w.]+) (\w+) = (\d+)")
_T = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "bytes": _T.TYPE_BYTES,
    "string": _T.TYPE_STRING,
    "uint64": _T.TYPE_UINT64,
    "int32": _T.TYPE_INT32,
    "bool": _T.TYPE_BOOL,
}


def _file(package: str, messages: dict[str, str]) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"credit_ledger_verify/{package}.proto", package=package, syntax="proto3"
    )
    for name, fields in messages.items():
        message = proto.message_type.add(name=name)
        for spec in fields.split(";"):
            match = _FIELD.fullmatch(spec.strip())
            if match is None:
                raise ValueError(f"bad field spec {spec!r} in {package}.{name}")
            repeated, kind, field_name, number = match.groups()
            field = message.field.add(
                name=field_name,
                number=int(number),
                label=_T.LABEL_REPEATED if repeated else _T.LABEL_OPTIONAL,
            )
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type = _T.TYPE_MESSAGE
                field.type_name = "." + (kind if "." in kind else f"{package}.{kind}")
    if package == "common":
        proto.dependency.append(timestamp_pb2.DESCRIPTOR.name)
    return proto


def _build() -> dict[str, type[Message]]:
    pool = descriptor_pool.DescriptorPool()
    timestamp = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp)
    pool.Add(timestamp)
    classes: dict[str, type[Message]] = {}
    for package, messages in SCHEMA.items():
        pool.Add(_file(package, messages))
        for name in messages:
            descriptor = pool.FindMessageTypeByName(f"{package}.{name}")
            classes[name] = message_factory.GetMessageClass(descriptor)
    return classes


_CLASSES = _build()

if TYPE_CHECKING:
    # What mypy sees: each class with the fields declared above (protobuf's Message gives
    # FromString, SerializeToString, HasField).

    class Timestamp(Message):
        seconds: int
        nanos: int

    class BlockHeader(Message):
        number: int
        previous_hash: bytes
        data_hash: bytes

    class BlockData(Message):
        data: Sequence[bytes]

    class BlockMetadata(Message):
        metadata: Sequence[bytes]

    class Block(Message):
        header: BlockHeader
        data: BlockData
        metadata: BlockMetadata

    class Envelope(Message):
        payload: bytes
        signature: bytes

    class Header(Message):
        channel_header: bytes
        signature_header: bytes

    class Payload(Message):
        header: Header
        data: bytes

    class ChannelHeader(Message):
        type: int
        version: int
        timestamp: Timestamp
        channel_id: str
        tx_id: str
        epoch: int

    class SignatureHeader(Message):
        creator: bytes
        nonce: bytes

    class MetadataSignature(Message):
        signature_header: bytes
        signature: bytes
        identifier_header: bytes

    class Metadata(Message):
        value: bytes
        signatures: Sequence[MetadataSignature]

    class SerializedIdentity(Message):
        mspid: str
        id_bytes: bytes

    class TransactionAction(Message):
        header: bytes
        payload: bytes

    class Transaction(Message):
        actions: Sequence[TransactionAction]

    class Endorsement(Message):
        endorser: bytes
        signature: bytes

    class ChaincodeEndorsedAction(Message):
        proposal_response_payload: bytes
        endorsements: Sequence[Endorsement]

    class ChaincodeActionPayload(Message):
        chaincode_proposal_payload: bytes
        action: ChaincodeEndorsedAction

    class ProposalResponsePayload(Message):
        proposal_hash: bytes
        extension: bytes

    class Response(Message):
        status: int
        message: str
        payload: bytes

    class ChaincodeID(Message):
        path: str
        name: str
        version: str

    class ChaincodeAction(Message):
        results: bytes
        events: bytes
        response: Response
        chaincode_id: ChaincodeID

    class ChaincodeEvent(Message):
        chaincode_id: str
        tx_id: str
        event_name: str
        payload: bytes

    class CollectionHashedReadWriteSet(Message):
        collection_name: str

    class NsReadWriteSet(Message):
        namespace: str
        rwset: bytes
        collection_hashed_rwset: Sequence[CollectionHashedReadWriteSet]

    class TxReadWriteSet(Message):
        ns_rwset: Sequence[NsReadWriteSet]

    class Version(Message):
        block_num: int
        tx_num: int

    class KVRead(Message):
        key: str
        version: Version

    class KVWrite(Message):
        key: str
        is_delete: bool
        value: bytes

    class KVRWSet(Message):
        reads: Sequence[KVRead]
        writes: Sequence[KVWrite]

else:
    globals().update(_CLASSES)


def message_class(name: str) -> Any:
    """The built class of message ``name`` (unqualified, as in :data:`SCHEMA`)."""
    return _CLASSES[name]
