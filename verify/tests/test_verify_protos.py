"""credit_ledger_verify.fabric.protos declares the Fabric messages the verifier reads; every
declared field must be Fabric's (name, number, type, cardinality) — held here against the
descriptors of ``hyperledger-fabric-protos`` (a dev dependency of the workspace, not of the
package) — and both must decode the same bytes alike."""

from __future__ import annotations

import pytest
from credit_ledger_verify.fabric import protos
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
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

_MODULES = (
    common_pb2,
    identities_pb2,
    transaction_pb2,
    proposal_pb2,
    proposal_response_pb2,
    chaincode_pb2,
    chaincode_event_pb2,
    rwset_pb2,
    kv_rwset_pb2,
)
_DECLARED = [(package, name) for package, messages in protos.SCHEMA.items() for name in messages]


def _fabric_descriptor(package: str, name: str) -> Descriptor:
    for module in _MODULES:
        descriptor = module.DESCRIPTOR
        if descriptor.package == package and name in descriptor.message_types_by_name:
            found: Descriptor = descriptor.message_types_by_name[name]
            return found
    raise AssertionError(f"{package}.{name} is not a Fabric message")


def _shape(descriptor: Descriptor) -> dict[str, tuple[int, int, str, bool]]:
    return {
        f.name: (
            f.number,
            f.type,
            f.message_type.full_name if f.message_type is not None else "",
            f.label == f.LABEL_REPEATED,
        )
        for f in descriptor.fields
    }


@pytest.mark.parametrize(("package", "name"), _DECLARED, ids=lambda v: str(v))
def test_every_declared_field_is_fabrics(package: str, name: str) -> None:
    ours = _shape(protos.message_class(name).DESCRIPTOR)
    theirs = _shape(_fabric_descriptor(package, name))
    assert ours, f"{package}.{name} declares no field"
    for field, shape in ours.items():
        assert theirs.get(field) == shape, f"{package}.{name}.{field}: {shape} != Fabric's"


def test_enum_names_are_fabrics() -> None:
    assert {
        v.number: v.name for v in common_pb2.HeaderType.DESCRIPTOR.values
    } == protos.HEADER_TYPE_NAMES
    assert {
        v.number: v.name for v in transaction_pb2.TxValidationCode.DESCRIPTOR.values
    } == protos.TX_VALIDATION_NAMES
    assert (protos.VALID, protos.ENDORSER_TRANSACTION) == (
        transaction_pb2.VALID,
        common_pb2.ENDORSER_TRANSACTION,
    )
    assert (protos.SIGNATURES, protos.TRANSACTIONS_FILTER) == (
        common_pb2.SIGNATURES,
        common_pb2.TRANSACTIONS_FILTER,
    )


def _fields(message: Message) -> object:
    """A message's set fields by name, nested messages recursed (to compare across classes)."""
    out: dict[str, object] = {}
    for field, value in message.ListFields():
        if field.message_type is None:
            out[field.name] = list(value) if field.label == field.LABEL_REPEATED else value
        elif field.label == field.LABEL_REPEATED:
            out[field.name] = [_fields(v) for v in value]
        else:
            out[field.name] = _fields(value)
    return out


def test_the_same_bytes_decode_alike() -> None:
    kv = kv_rwset_pb2.KVRWSet(
        reads=[kv_rwset_pb2.KVRead(key="a", version=kv_rwset_pb2.Version(block_num=7, tx_num=2))],
        writes=[kv_rwset_pb2.KVWrite(key="\x00rec\x00k\x00", value=b"\x01b1", is_delete=False)],
        metadata_writes=[kv_rwset_pb2.KVMetadataWrite(key="skipped")],
    )
    header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, channel_id="ledger", tx_id="ab" * 32, epoch=1
    )
    header.timestamp.seconds = 1_700_000_000
    header.tls_cert_hash = b"not declared: skipped"
    raw_kv = kv.SerializeToString()
    raw_header = header.SerializeToString()
    assert _fields(protos.KVRWSet.FromString(raw_kv)) == {
        "reads": [{"key": "a", "version": {"block_num": 7, "tx_num": 2}}],
        "writes": [{"key": "\x00rec\x00k\x00", "value": b"\x01b1"}],
    }
    assert _fields(protos.ChannelHeader.FromString(raw_header)) == {
        k: v for k, v in _fields(header).items() if k != "tls_cert_hash"
    }


def test_malformed_bytes_are_refused_like_fabrics() -> None:
    truncated = common_pb2.Envelope(payload=b"x" * 40).SerializeToString()[:-5]
    with pytest.raises(protos.DecodeError):
        common_pb2.Envelope.FromString(truncated)
    with pytest.raises(protos.DecodeError):
        protos.Envelope.FromString(truncated)


def test_fabric_protos_and_ours_coexist_in_one_process() -> None:
    # a private pool: the same full names, no clash with fabric_protos' default pool
    assert protos.Envelope.DESCRIPTOR.full_name == common_pb2.Envelope.DESCRIPTOR.full_name
    assert protos.Envelope is not common_pb2.Envelope
