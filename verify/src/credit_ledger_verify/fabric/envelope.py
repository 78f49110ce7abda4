"""The one decoder of Fabric transaction envelopes: Envelope → Payload → Transaction →
ChaincodeActionPayload → ProposalResponsePayload → ChaincodeAction → TxReadWriteSet.

Everything that reads transactions out of blocks (``blocks.parse_envelope``, event
listeners, offline verifiers, index rebuilds) goes through these functions, so the chain of
nested messages is written down once. They return the *parts* — the exact bytes that
signatures and hashes cover next to the decoded messages — and decode nothing a caller did
not ask for: the header first (:func:`decode_header`), then the actions
(:func:`decode_actions`), then one namespace's key/value sets (:func:`kv_rwset`).

protobuf ``bytes`` fields are copied on every access, so each large field is read once here
and kept in the returned objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.fabric import protos
from credit_ledger_verify.fabric.protos import DecodeError

__all__ = [
    "EndorsedAction",
    "EnvelopeError",
    "EnvelopeHeader",
    "decode_action",
    "decode_actions",
    "decode_endorsed_transaction",
    "decode_header",
    "kv_rwset",
]


class EnvelopeError(LedgerError, ValueError):
    """An envelope that is not what the caller asked for (wrong type, not one action, or a
    nested message that does not decode); the message says which part."""

    code: ClassVar[str] = "fabric_envelope_malformed"


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    """The outer layers of an envelope: what the creator signed and who the creator is."""

    signature: bytes
    """The creator's signature over :attr:`payload`."""
    payload: bytes
    """Serialized ``common.Payload``."""
    payload_data: bytes
    """``Payload.data`` (a serialized ``Transaction`` for an endorser transaction)."""
    channel_header_bytes: bytes
    channel_header: protos.ChannelHeader
    creator: bytes
    """Serialized ``msp.SerializedIdentity`` of the submitter."""
    nonce: bytes

    @property
    def tx_id(self) -> str:
        return self.channel_header.tx_id

    @property
    def header_type(self) -> int:
        return self.channel_header.type


@dataclass(frozen=True, slots=True)
class EndorsedAction:
    """One action of an endorser transaction, with the bytes its endorsements cover."""

    action_header: bytes
    """``TransactionAction.header`` (serialized signature header of the proposal)."""
    chaincode_proposal_payload: bytes
    endorsements: Sequence[protos.Endorsement]
    proposal_response_payload: bytes
    """What every endorsement signed (followed by the endorser's serialized identity)."""
    proposal_hash: bytes
    chaincode_action: protos.ChaincodeAction
    namespaces: Sequence[protos.NsReadWriteSet]
    """Read-write sets per namespace; :func:`kv_rwset` decodes one's public reads/writes."""

    @property
    def chaincode_name(self) -> str:
        return self.chaincode_action.chaincode_id.name

    def namespace(self, name: str) -> protos.NsReadWriteSet | None:
        """The first read-write set of namespace ``name`` (``None`` if not touched)."""
        for ns in self.namespaces:
            if ns.namespace == name:
                return ns
        return None


def decode_header(raw: bytes) -> EnvelopeHeader:
    """Envelope → payload → channel header and signature header.

    Raises:
        EnvelopeError: a layer does not decode.
    """
    try:
        envelope = protos.Envelope.FromString(raw)
        payload_bytes = envelope.payload
        payload = protos.Payload.FromString(payload_bytes)
        header = payload.header
        channel_header_bytes = header.channel_header
        channel_header = protos.ChannelHeader.FromString(channel_header_bytes)
        signature_header = protos.SignatureHeader.FromString(header.signature_header)
    except DecodeError as exc:
        raise EnvelopeError(f"not a transaction envelope: {exc}") from None
    return EnvelopeHeader(
        signature=envelope.signature,
        payload=payload_bytes,
        payload_data=payload.data,
        channel_header_bytes=channel_header_bytes,
        channel_header=channel_header,
        creator=signature_header.creator,
        nonce=signature_header.nonce,
    )


def decode_action(action: protos.TransactionAction) -> EndorsedAction:
    """TransactionAction → ChaincodeActionPayload → ProposalResponsePayload →
    ChaincodeAction → TxReadWriteSet (namespaces not decoded further).

    Raises:
        EnvelopeError: a layer does not decode.
    """
    try:
        action_payload = protos.ChaincodeActionPayload.FromString(action.payload)
        endorsed = action_payload.action
        prp_bytes = endorsed.proposal_response_payload
        prp = protos.ProposalResponsePayload.FromString(prp_bytes)
        cc_action = protos.ChaincodeAction.FromString(prp.extension)
        results = cc_action.results
        namespaces: Sequence[protos.NsReadWriteSet] = (
            protos.TxReadWriteSet.FromString(results).ns_rwset if results else ()
        )
    except DecodeError as exc:
        raise EnvelopeError(f"the transaction action does not decode: {exc}") from None
    return EndorsedAction(
        action_header=action.header,
        chaincode_proposal_payload=action_payload.chaincode_proposal_payload,
        endorsements=endorsed.endorsements,
        proposal_response_payload=prp_bytes,
        proposal_hash=prp.proposal_hash,
        chaincode_action=cc_action,
        namespaces=namespaces,
    )


def decode_actions(header: EnvelopeHeader) -> tuple[EndorsedAction, ...]:
    """Every action of an endorser transaction.

    Raises:
        EnvelopeError: not an ``ENDORSER_TRANSACTION``, or something does not decode.
    """
    if header.header_type != protos.ENDORSER_TRANSACTION:
        name = protos.HEADER_TYPE_NAMES.get(header.header_type, f"type {header.header_type}")
        raise EnvelopeError(f"a {name} transaction, not ENDORSER_TRANSACTION")
    try:
        transaction = protos.Transaction.FromString(header.payload_data)
    except DecodeError as exc:
        raise EnvelopeError(f"the transaction does not decode: {exc}") from None
    return tuple(decode_action(a) for a in transaction.actions)


def decode_endorsed_transaction(raw: bytes) -> tuple[EnvelopeHeader, EndorsedAction]:
    """An endorser transaction with exactly one action (what Fabric's validator accepts).

    Raises:
        EnvelopeError: any other envelope, or one that does not decode.
    """
    header = decode_header(raw)
    actions = decode_actions(header)
    if len(actions) != 1:
        raise EnvelopeError(f"the transaction has {len(actions)} actions, expected exactly 1")
    return header, actions[0]


def kv_rwset(ns: protos.NsReadWriteSet) -> protos.KVRWSet:
    """The public key/value reads and writes of one namespace.

    Raises:
        EnvelopeError: the set does not decode.
    """
    try:
        return protos.KVRWSet.FromString(ns.rwset)
    except DecodeError as exc:
        raise EnvelopeError(
            f"the read-write set of namespace {ns.namespace!r} does not decode: {exc}"
        ) from None
