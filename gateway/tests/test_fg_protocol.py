from __future__ import annotations

import hashlib

import grpc
import pytest
from fabric_gateway import (
    SignerRequiredError,
    compute_transaction_id,
    connect,
    hash,
    new_private_key_signer,
)
from fabric_gateway._protocol import build_proposal_bytes
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from fg_fakes import Client, FakeGateway
from fg_testutil import new_identity
from hypothesis import given, settings
from hypothesis import strategies as st

_IDENTITY = new_identity()


def test_transaction_id_is_sha256_of_nonce_and_creator() -> None:
    nonce = bytes(range(24))
    creator = b"creator-bytes"
    assert compute_transaction_id(nonce, creator) == hashlib.sha256(nonce + creator).hexdigest()
    assert len(compute_transaction_id(nonce, creator)) == 64


def _decode(
    proposal_bytes: bytes,
) -> tuple[
    common_pb2.ChannelHeader,
    common_pb2.SignatureHeader,
    chaincode_pb2.ChaincodeInvocationSpec,
    proposal_pb2.ChaincodeProposalPayload,
]:
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    ch = common_pb2.ChannelHeader.FromString(header.channel_header)
    sh = common_pb2.SignatureHeader.FromString(header.signature_header)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input)
    return ch, sh, spec, payload


def test_proposal_structure(client: Client) -> None:
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ledger").get_contract("ledgercc", "Records")
    proposal = contract.new_proposal(
        "PutBatch",
        args=["{}", b"\x00\x01"],
        transient={"secret": b"s3"},
        endorsing_organizations=["Org1MSP", "Org2MSP"],
    )
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    assert proposed.transaction_id == proposal.transaction_id
    assert list(proposed.endorsing_organizations) == ["Org1MSP", "Org2MSP"]
    assert not proposed.proposal.signature
    ch, sh, spec, payload = _decode(proposed.proposal.proposal_bytes)
    assert ch.type == common_pb2.ENDORSER_TRANSACTION
    assert ch.channel_id == "ledger"
    assert ch.epoch == 0
    assert ch.tx_id == proposal.transaction_id
    assert ch.timestamp.seconds > 1_600_000_000
    ext = proposal_pb2.ChaincodeHeaderExtension.FromString(ch.extension)
    assert ext.chaincode_id.name == "ledgercc"
    assert sh.creator == client.identity.serialize()
    assert len(sh.nonce) == 24
    assert proposal.transaction_id == compute_transaction_id(sh.nonce, sh.creator)
    assert spec.chaincode_spec.chaincode_id.name == "ledgercc"
    assert list(spec.chaincode_spec.input.args) == [b"Records:PutBatch", b"{}", b"\x00\x01"]
    assert dict(payload.TransientMap) == {"secret": b"s3"}


def test_nonces_and_ids_are_unique(client: Client) -> None:
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ch").get_contract("cc")
    ids = {contract.new_proposal("F").transaction_id for _ in range(200)}
    assert len(ids) == 200


def test_build_proposal_is_deterministic() -> None:
    from google.protobuf import timestamp_pb2

    kwargs = dict(
        channel="c",
        chaincode="cc",
        transaction_name="F",
        args=[b"a"],
        transient=None,
        creator=b"me",
        nonce=b"n" * 24,
        transaction_id="t",
        timestamp=timestamp_pb2.Timestamp(seconds=1),
    )
    assert build_proposal_bytes(**kwargs) == build_proposal_bytes(**kwargs)  # type: ignore[arg-type]


def test_args_must_be_a_sequence(client: Client) -> None:
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ch").get_contract("cc")
    with pytest.raises(TypeError):
        contract.new_proposal("F", args="abc")
    with pytest.raises(TypeError):
        contract.new_proposal("F", args=[1])  # type: ignore[list-item]


def test_offline_signing_matches_online_signing(fake_gateway: FakeGateway, client: Client) -> None:
    """Same proposal, same signature → identical bytes whether signed online or offline."""
    online = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    offline = connect(identity=client.identity, channel=client.channel)  # no signer

    proposal = online.get_network("ch").get_contract("cc").new_proposal("F", args=["x"])
    unsigned = proposal.bytes()
    proposal.sign()
    offline_proposal = offline.new_proposal(unsigned)
    assert (
        offline_proposal.digest()
        == proposal.digest()
        == hash.sha256(gateway_pb2.ProposedTransaction.FromString(unsigned).proposal.proposal_bytes)
    )
    signature = gateway_pb2.ProposedTransaction.FromString(proposal.bytes()).proposal.signature
    signed_offline = offline.new_signed_proposal(unsigned, signature)
    assert signed_offline.bytes() == proposal.bytes()

    # endorse the offline-signed proposal; then the transaction and the commit
    transaction = signed_offline.endorse()
    with pytest.raises(SignerRequiredError):
        transaction.submit()
    online_tx = online.new_transaction(transaction.bytes())
    online_tx.sign()
    tx_signature = online_tx.envelope.signature
    signed_tx = offline.new_signed_transaction(
        transaction.bytes(), client.signer(transaction.digest())
    )
    # ECDSA is randomised: compare structure with the online signature substituted
    assert (
        offline.new_signed_transaction(transaction.bytes(), tx_signature).bytes()
        == online_tx.bytes()
    )
    commit = signed_tx.submit()
    assert (
        fake_gateway.requests["Submit"][0].prepared_transaction.signature
        == signed_tx.envelope.signature
    )
    with pytest.raises(SignerRequiredError):
        commit.status()
    signed_commit = offline.new_signed_commit(commit.bytes(), client.signer(commit.digest()))
    status = signed_commit.status()
    assert status.successful
    assert status.transaction_id == proposal.transaction_id
    request = fake_gateway.requests["CommitStatus"][0]
    inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
    assert inner.transaction_id == proposal.transaction_id
    assert inner.channel_id == "ch"
    assert inner.identity == client.identity.serialize()


def test_signatures_verify_against_identity(fake_gateway: FakeGateway, client: Client) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ch").get_contract("cc")
    contract.submit("F", args=["1"])
    public_key = client.identity.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    endorse = fake_gateway.requests["Endorse"][0]
    public_key.verify(
        endorse.proposed_transaction.signature,
        endorse.proposed_transaction.proposal_bytes,
        ec.ECDSA(hashes.SHA256()),
    )
    submit = fake_gateway.requests["Submit"][0]
    public_key.verify(
        submit.prepared_transaction.signature,
        submit.prepared_transaction.payload,
        ec.ECDSA(hashes.SHA256()),
    )
    status_req = fake_gateway.requests["CommitStatus"][0]
    public_key.verify(status_req.signature, status_req.request, ec.ECDSA(hashes.SHA256()))


def test_bad_serialized_input(client: Client) -> None:
    from fabric_gateway import GatewayError

    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    with pytest.raises(GatewayError, match="not a serialized"):
        gateway.new_transaction(b"\xff\xff\xff")


async def test_connect_rejects_wrong_channel_kind() -> None:
    # Async so a running event loop exists: grpc.aio channels need one, and an earlier
    # test's asyncio.run() leaves the main thread without a current loop.
    identity, _ = new_identity()
    aio_channel = grpc.aio.insecure_channel("127.0.0.1:1")
    try:
        with pytest.raises(TypeError, match="connect_async"):
            connect(identity=identity, channel=aio_channel)  # type: ignore[arg-type]
    finally:
        await aio_channel.close()


@settings(max_examples=100, deadline=None)
@given(
    function=st.text(min_size=1, max_size=20).filter(lambda s: ":" not in s),
    contract_name=st.one_of(st.none(), st.text(alphabet="abcXYZ_", min_size=1, max_size=8)),
    args=st.lists(st.one_of(st.binary(max_size=64), st.text(max_size=32)), max_size=6),
    transient=st.dictionaries(st.text(max_size=8), st.binary(max_size=16), max_size=3),
    orgs=st.lists(st.sampled_from(["Org1MSP", "Org2MSP", "Org3MSP"]), max_size=3, unique=True),
)
def test_proposal_round_trip_property(
    function: str,
    contract_name: str | None,
    args: list[str | bytes],
    transient: dict[str, bytes],
    orgs: list[str],
) -> None:
    """Whatever goes in comes back out of the serialized proposal, through bytes()."""
    identity, key = _IDENTITY
    channel = grpc.insecure_channel("127.0.0.1:1")  # never used: nothing is sent
    gateway = connect(identity=identity, signer=new_private_key_signer(key), channel=channel)
    contract = gateway.get_network("ch").get_contract("cc", contract_name)
    proposal = contract.new_proposal(
        function, args=args, transient=transient, endorsing_organizations=orgs
    )
    restored = gateway.new_proposal(proposal.bytes())
    assert restored.transaction_id == proposal.transaction_id
    assert restored.endorsing_organizations == tuple(orgs)
    assert restored.channel_name == "ch"
    proposed = gateway_pb2.ProposedTransaction.FromString(restored.bytes())
    ch, sh, spec, payload = _decode(proposed.proposal.proposal_bytes)
    name = f"{contract_name}:{function}" if contract_name else function
    expected = [name.encode()] + [a.encode() if isinstance(a, str) else a for a in args]
    assert list(spec.chaincode_spec.input.args) == expected
    assert dict(payload.TransientMap) == transient
    assert ch.tx_id == compute_transaction_id(sh.nonce, sh.creator)
    channel.close()
