"""Pure decoding helpers for Fabric blocks and transaction envelopes.

No I/O, no network: every function takes ``common.Block`` / ``common.Envelope`` messages
(this package's :mod:`~credit_ledger_verify.fabric.protos` classes, or any protobuf message
of that type, e.g. ``fabric_protos``' from a Deliver stream) or their serialized bytes and
returns frozen dataclasses. They serve block event listeners, offline verifiers and index
rebuilds alike::

    info = parse_block(block_bytes)
    for tx in info.transactions:
        if tx.valid:
            for ns in tx.rwsets:
                for write in ns.writes: ...

Envelopes that cannot be decoded do not abort a block: the transaction is returned with
``decode_error`` set and whatever could be read (Fabric itself marks such a transaction
invalid with ``BAD_PAYLOAD`` and the like).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.message import Message

from credit_ledger_verify.fabric import protos
from credit_ledger_verify.fabric.envelope import (
    EndorsedAction,
    decode_actions,
    decode_header,
    kv_rwset,
)
from credit_ledger_verify.fabric.protos import DecodeError

__all__ = [
    "BlockInfo",
    "BlockLike",
    "ChaincodeActionInfo",
    "EndorsementInfo",
    "KVRead",
    "KVWrite",
    "NamespaceRWSet",
    "TransactionInfo",
    "as_block",
    "block_data_hash",
    "block_header_bytes",
    "block_header_hash",
    "header_type_name",
    "parse_block",
    "parse_envelope",
    "transactions_filter",
    "validation_code_name",
]

_VALIDATION_NAMES = protos.TX_VALIDATION_NAMES
_HEADER_TYPE_NAMES = protos.HEADER_TYPE_NAMES
_VALID = protos.VALID


def validation_code_name(code: int) -> str:
    """Name of a ``protos.TxValidationCode`` value (``"VALID"``, ``"MVCC_READ_CONFLICT"`` …)."""
    return _VALIDATION_NAMES.get(code, f"UNKNOWN_CODE_{code}")


def header_type_name(header_type: int) -> str:
    """Name of a ``common.HeaderType`` value (``"ENDORSER_TRANSACTION"``, ``"CONFIG"`` …)."""
    return _HEADER_TYPE_NAMES.get(header_type, f"UNKNOWN_TYPE_{header_type}")


@dataclass(frozen=True, slots=True)
class KVWrite:
    key: str
    value: bytes
    is_delete: bool = False


@dataclass(frozen=True, slots=True)
class KVRead:
    key: str
    version: tuple[int, int] | None
    """``(block number, tx number)`` of the version read, ``None`` if the key did not exist."""


@dataclass(frozen=True, slots=True)
class NamespaceRWSet:
    """Public reads and writes of one chaincode namespace."""

    namespace: str
    reads: tuple[KVRead, ...]
    writes: tuple[KVWrite, ...]
    collections: tuple[str, ...] = ()
    """Names of private data collections touched (their hashed sets are not decoded)."""


@dataclass(frozen=True, slots=True)
class EndorsementInfo:
    """One endorsement: the endorser's identity and its signature.

    The signature covers ``proposal_response_payload ‖ endorser`` (see
    :attr:`ChaincodeActionInfo.proposal_response_payload`).
    """

    msp_id: str
    certificate_pem: bytes
    endorser: bytes
    """Serialized ``msp.SerializedIdentity`` of the endorser."""
    signature: bytes


@dataclass(frozen=True, slots=True)
class ChaincodeActionInfo:
    """One chaincode action of an endorser transaction."""

    chaincode_name: str
    chaincode_version: str
    response_status: int
    response_message: str
    response_payload: bytes
    rwsets: tuple[NamespaceRWSet, ...]
    endorsements: tuple[EndorsementInfo, ...]
    proposal_response_payload: bytes
    """The bytes every endorsement signed (with the endorser bytes appended)."""
    proposal_hash: bytes
    event_name: str = ""
    event_payload: bytes = b""


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    """A transaction envelope from a block, decoded."""

    index: int
    """Position in the block's data."""
    transaction_id: str
    channel_id: str
    header_type: int
    validation_code: int | None
    """``None`` when decoded outside a block (no TRANSACTIONS_FILTER available)."""
    creator_msp_id: str
    creator: bytes
    """Serialized ``msp.SerializedIdentity`` of the submitter."""
    timestamp: datetime | None
    actions: tuple[ChaincodeActionInfo, ...]
    envelope: bytes = field(repr=False)
    """The raw serialized ``common.Envelope`` (payload + submitter's signature)."""
    decode_error: str | None = None

    @property
    def header_type_name(self) -> str:
        return header_type_name(self.header_type)

    @property
    def validation_code_name(self) -> str | None:
        if self.validation_code is None:
            return None
        return validation_code_name(self.validation_code)

    @property
    def valid(self) -> bool:
        """Committed as valid (``False`` if unknown)."""
        return self.validation_code == _VALID

    @property
    def is_endorser_transaction(self) -> bool:
        return self.header_type == protos.ENDORSER_TRANSACTION

    @property
    def rwsets(self) -> tuple[NamespaceRWSet, ...]:
        """Read-write sets of all actions."""
        return tuple(ns for action in self.actions for ns in action.rwsets)

    def writes(self) -> dict[str, list[KVWrite]]:
        """Public KV writes per chaincode namespace."""
        out: dict[str, list[KVWrite]] = {}
        for ns in self.rwsets:
            out.setdefault(ns.namespace, []).extend(ns.writes)
        return out

    @property
    def endorsements(self) -> tuple[EndorsementInfo, ...]:
        """Endorsements of all actions (usually one action)."""
        return tuple(e for action in self.actions for e in action.endorsements)


@dataclass(frozen=True, slots=True)
class BlockInfo:
    number: int
    previous_hash: bytes
    data_hash: bytes
    transactions: tuple[TransactionInfo, ...]

    @property
    def header_hash(self) -> bytes:
        """Hash of this block's header (what the next block's ``previous_hash`` holds)."""
        return block_header_hash(self.number, self.previous_hash, self.data_hash)


# -- hashing ----------------------------------------------------------------------------------


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def block_header_bytes(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    """Fabric's ``protoutil.BlockHeaderBytes``: ASN.1 DER ``SEQUENCE {INTEGER number,
    OCTET STRING previous_hash, OCTET STRING data_hash}`` — what orderers sign and hash."""
    if number < 0:
        raise ValueError(f"block number {number} is negative")
    num = number.to_bytes(number.bit_length() // 8 + 1, "big")  # minimal, sign bit clear
    body = (
        b"\x02" + _der_length(len(num)) + num
        + b"\x04" + _der_length(len(previous_hash)) + previous_hash
        + b"\x04" + _der_length(len(data_hash)) + data_hash
    )  # fmt: skip
    return b"\x30" + _der_length(len(body)) + body


def block_header_hash(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    """SHA-256 of :func:`block_header_bytes`: the block hash (next block's previous hash)."""
    return hashlib.sha256(block_header_bytes(number, previous_hash, data_hash)).digest()


def block_data_hash(data: Sequence[bytes]) -> bytes:
    """SHA-256 of the concatenated envelopes: a valid block's ``header.data_hash``."""
    digest = hashlib.sha256()
    for item in data:
        digest.update(item)
    return digest.digest()


# -- decoding ---------------------------------------------------------------------------------


class _Metadata(Protocol):
    @property
    def metadata(self) -> Sequence[bytes]: ...


class BlockLike(Protocol):
    """A ``common.Block`` of any protobuf class (this package's or ``fabric_protos``')."""

    @property
    def metadata(self) -> _Metadata: ...


def transactions_filter(block: BlockLike) -> bytes:
    """Per-transaction validation codes from the block metadata (empty if absent)."""
    metadata = block.metadata.metadata
    index = protos.TRANSACTIONS_FILTER
    return bytes(metadata[index]) if len(metadata) > index else b""


def _timestamp(ts: object) -> datetime | None:
    seconds = getattr(ts, "seconds", 0)
    nanos = getattr(ts, "nanos", 0)
    if not seconds and not nanos:
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)


def _identity(serialized: bytes) -> tuple[str, bytes]:
    sid = protos.SerializedIdentity.FromString(serialized)
    return sid.mspid, sid.id_bytes


def _rwsets(action: EndorsedAction, include_reads: bool) -> tuple[NamespaceRWSet, ...]:
    out: list[NamespaceRWSet] = []
    for ns in action.namespaces:
        kv = kv_rwset(ns)
        reads = (
            tuple(
                KVRead(
                    key=r.key,
                    version=(r.version.block_num, r.version.tx_num)
                    if r.HasField("version")
                    else None,
                )
                for r in kv.reads
            )
            if include_reads
            else ()
        )
        writes = tuple([KVWrite(w.key, w.value, w.is_delete) for w in kv.writes])
        out.append(
            NamespaceRWSet(
                namespace=ns.namespace,
                reads=reads,
                writes=writes,
                collections=tuple(c.collection_name for c in ns.collection_hashed_rwset),
            )
        )
    return tuple(out)


def _action(action: EndorsedAction, include_reads: bool) -> ChaincodeActionInfo:
    cc_action = action.chaincode_action
    endorsements = []
    for e in action.endorsements:
        msp_id, cert = _identity(e.endorser)
        endorsements.append(
            EndorsementInfo(
                msp_id=msp_id, certificate_pem=cert, endorser=e.endorser, signature=e.signature
            )
        )
    event_name = ""
    event_payload = b""
    if cc_action.events:
        event = protos.ChaincodeEvent.FromString(cc_action.events)
        event_name, event_payload = event.event_name, event.payload
    return ChaincodeActionInfo(
        chaincode_name=cc_action.chaincode_id.name,
        chaincode_version=cc_action.chaincode_id.version,
        response_status=cc_action.response.status,
        response_message=cc_action.response.message,
        response_payload=cc_action.response.payload,
        rwsets=_rwsets(action, include_reads),
        endorsements=tuple(endorsements),
        proposal_response_payload=action.proposal_response_payload,
        proposal_hash=action.proposal_hash,
        event_name=event_name,
        event_payload=event_payload,
    )


def parse_envelope(
    envelope: bytes | Message,
    *,
    index: int = 0,
    validation_code: int | None = None,
    include_reads: bool = True,
) -> TransactionInfo:
    """Decode a transaction envelope (as stored in a block's data) into plain dataclasses.

    ``include_reads=False`` skips decoding the read sets (``NamespaceRWSet.reads`` is then
    empty), which makes bulk decoding of large write batches faster. The decoding itself is
    :mod:`credit_ledger_verify.fabric.envelope`'s.
    """
    raw = envelope.SerializeToString() if isinstance(envelope, Message) else bytes(envelope)
    tx_id = channel_id = creator_msp = ""
    creator = b""
    header_type = -1
    timestamp: datetime | None = None
    actions: tuple[ChaincodeActionInfo, ...] = ()
    error: str | None = None
    try:
        header = decode_header(raw)
        ch = header.channel_header
        tx_id, channel_id, header_type = ch.tx_id, ch.channel_id, ch.type
        timestamp = _timestamp(ch.timestamp)
        creator = header.creator
        if creator:
            creator_msp, _ = _identity(creator)
        if header_type == protos.ENDORSER_TRANSACTION:
            actions = tuple(_action(a, include_reads) for a in decode_actions(header))
    except (DecodeError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return TransactionInfo(
        index=index,
        transaction_id=tx_id,
        channel_id=channel_id,
        header_type=header_type,
        validation_code=validation_code,
        creator_msp_id=creator_msp,
        creator=creator,
        timestamp=timestamp,
        actions=actions,
        envelope=raw,
        decode_error=error,
    )


def as_block(block: bytes | Message) -> protos.Block:
    """A block as this package's ``common.Block`` (from bytes or another protobuf class)."""
    if isinstance(block, protos.Block):
        return block
    raw = block.SerializeToString() if isinstance(block, Message) else bytes(block)
    return protos.Block.FromString(raw)


def parse_block(block: bytes | Message, *, include_reads: bool = True) -> BlockInfo:
    """Decode every transaction of a block, with validation codes from its metadata."""
    block = as_block(block)
    codes = transactions_filter(block)
    transactions = tuple(
        parse_envelope(data, index=i, validation_code=codes[i] if i < len(codes) else None)
        for i, data in enumerate(block.data.data)
    )
    return BlockInfo(
        number=block.header.number,
        previous_hash=block.header.previous_hash,
        data_hash=block.header.data_hash,
        transactions=transactions,
    )
