"""Protocol core shared by the sync and async clients: building, hashing, signing, parsing.

Nothing here performs I/O. Each stage object (proposal, transaction, commit, events) keeps
its request as a protobuf message and delegates building and signing to these functions,
so the sync and async APIs produce byte-identical requests.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import timestamp_pb2

from .errors import GatewayError, SignerRequiredError
from .hash import Hash
from .identity import Identity, serialize_identity
from .signing import Signer

NONCE_LENGTH = 24
MAX_BLOCK_NUMBER = 2**64 - 1

Arg = str | bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Timeouts:
    """Default deadline, in seconds, of each kind of gateway call."""

    evaluate: float = 5.0
    endorse: float = 15.0
    submit: float = 5.0
    commit_status: float = 60.0

    def __post_init__(self) -> None:
        for name in ("evaluate", "endorse", "submit", "commit_status"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}_timeout must be positive")


class SigningContext:
    """The client's identity, its serialized form, and how to hash and sign for it."""

    __slots__ = ("creator", "hash", "identity", "signer")

    def __init__(self, *, identity: Identity, signer: Signer | None, hash: Hash) -> None:
        self.identity = identity
        self.creator = serialize_identity(identity)
        self.signer = signer
        self.hash = hash

    def digest(self, message: bytes) -> bytes:
        return self.hash(message)

    def sign(self, message: bytes, what: str) -> bytes:
        if self.signer is None:
            raise SignerRequiredError(
                f"cannot sign the {what}: the gateway was connected without a signer; "
                f"sign its digest() offline and load it with the gateway's new_signed_* method"
            )
        return self.signer(self.hash(message))


def new_nonce() -> bytes:
    return os.urandom(NONCE_LENGTH)


def compute_transaction_id(nonce: bytes, creator: bytes) -> str:
    """Fabric transaction id: hex SHA-256 of the nonce followed by the creator bytes."""
    return hashlib.sha256(nonce + creator).hexdigest()


def _timestamp_now() -> timestamp_pb2.Timestamp:
    ns = time.time_ns()
    return timestamp_pb2.Timestamp(seconds=ns // 1_000_000_000, nanos=ns % 1_000_000_000)


def encode_args(args: Sequence[Arg]) -> list[bytes]:
    out: list[bytes] = []
    for arg in args:
        if isinstance(arg, bytes):
            out.append(arg)
        elif isinstance(arg, str):
            out.append(arg.encode())
        elif isinstance(arg, bytearray | memoryview):
            out.append(bytes(arg))
        else:
            raise TypeError(f"chaincode arguments must be str or bytes, not {type(arg).__name__}")
    return out


def build_proposal_bytes(
    *,
    channel: str,
    chaincode: str,
    transaction_name: str,
    args: Sequence[bytes],
    transient: Mapping[str, bytes] | None,
    creator: bytes,
    nonce: bytes,
    transaction_id: str,
    timestamp: timestamp_pb2.Timestamp | None = None,
) -> bytes:
    """Serialized ``protos.Proposal`` for a chaincode invocation."""
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        version=0,
        timestamp=timestamp if timestamp is not None else _timestamp_now(),
        channel_id=channel,
        tx_id=transaction_id,
        epoch=0,
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_id
        ).SerializeToString(),
    )
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=nonce)
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=[transaction_name.encode(), *args]),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation.SerializeToString(), TransientMap=transient or {}
    )
    return proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    ).SerializeToString()


def new_proposed_transaction(
    signing: SigningContext,
    *,
    channel: str,
    chaincode: str,
    transaction_name: str,
    args: Sequence[Arg],
    transient: Mapping[str, bytes] | None,
    endorsing_organizations: Sequence[str] | None,
    nonce: bytes | None = None,
) -> gateway_pb2.ProposedTransaction:
    nonce = new_nonce() if nonce is None else nonce
    tx_id = compute_transaction_id(nonce, signing.creator)
    proposal_bytes = build_proposal_bytes(
        channel=channel,
        chaincode=chaincode,
        transaction_name=transaction_name,
        args=encode_args(args),
        transient=transient,
        creator=signing.creator,
        nonce=nonce,
        transaction_id=tx_id,
    )
    return gateway_pb2.ProposedTransaction(
        transaction_id=tx_id,
        proposal=proposal_pb2.SignedProposal(proposal_bytes=proposal_bytes),
        endorsing_organizations=list(endorsing_organizations or ()),
    )


def proposal_channel(proposal_bytes: bytes) -> str:
    """Channel name recorded in a serialized proposal's channel header."""
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    return common_pb2.ChannelHeader.FromString(header.channel_header).channel_id


@dataclass(frozen=True, slots=True)
class PreparedInfo:
    channel: str
    transaction_id: str
    result: bytes


def parse_prepared_envelope(envelope: common_pb2.Envelope) -> PreparedInfo:
    """Channel, tx id and chaincode result of an endorsed (prepared) transaction envelope."""
    try:
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        transaction = transaction_pb2.Transaction.FromString(payload.data)
        result = b""
        if transaction.actions:
            action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
                transaction.actions[0].payload
            )
            response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
                action_payload.action.proposal_response_payload
            )
            action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
            result = action.response.payload
    except Exception as exc:  # protobuf DecodeError and friends
        raise GatewayError(f"malformed prepared transaction envelope: {exc}") from exc
    return PreparedInfo(
        channel=channel_header.channel_id, transaction_id=channel_header.tx_id, result=result
    )


def new_commit_status_request(
    *, channel: str, transaction_id: str, creator: bytes
) -> gateway_pb2.SignedCommitStatusRequest:
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=transaction_id, channel_id=channel, identity=creator
    )
    return gateway_pb2.SignedCommitStatusRequest(request=request.SerializeToString())


def seek_position(start_block: int | None) -> ab_pb2.SeekPosition:
    if start_block is None:
        return ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    if not 0 <= start_block <= MAX_BLOCK_NUMBER:
        raise ValueError(f"start block {start_block} out of range")
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))


def new_chaincode_events_request(
    *,
    channel: str,
    chaincode: str,
    creator: bytes,
    start_block: int | None,
    after_transaction_id: str | None,
) -> gateway_pb2.SignedChaincodeEventsRequest:
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel,
        chaincode_id=chaincode,
        identity=creator,
        start_position=seek_position(start_block),
        after_transaction_id=after_transaction_id or "",
    )
    return gateway_pb2.SignedChaincodeEventsRequest(request=request.SerializeToString())


def new_deliver_envelope(
    *,
    channel: str,
    creator: bytes,
    start_block: int | None,
    tls_certificate_hash: bytes = b"",
) -> common_pb2.Envelope:
    """Unsigned envelope of a ``SeekInfo`` from ``start_block`` (or the next commit) to forever."""
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.DELIVER_SEEK_INFO,
        timestamp=_timestamp_now(),
        channel_id=channel,
        epoch=0,
        tls_cert_hash=tls_certificate_hash,
    )
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=new_nonce())
    seek_info = ab_pb2.SeekInfo(
        start=seek_position(start_block),
        stop=ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=MAX_BLOCK_NUMBER)),
        behavior=ab_pb2.SeekInfo.BLOCK_UNTIL_READY,
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=signature_header.SerializeToString(),
        ),
        data=seek_info.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString())


def validation_code_name(code: int) -> str:
    try:
        return transaction_pb2.TxValidationCode.Name(code)
    except ValueError:
        return f"UNKNOWN_CODE_{code}"


@dataclass(frozen=True, slots=True)
class ClientCore:
    """What every stage object needs besides its RPC stub: signing context and deadlines."""

    signing: SigningContext
    timeouts: Timeouts
