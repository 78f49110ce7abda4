from __future__ import annotations

import grpc
import grpc.aio
import pytest
from fabric_gateway import (
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    EventsError,
    InMemoryCheckpointer,
    SubmitError,
    connect,
    connect_async,
)
from fabric_gateway.errors import parse_status_details
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import transaction_pb2
from fg_fakes import Client, Failure, FakeGateway, chaincode_event
from fg_testutil import block, endorser_envelope, rpc_status

DETAILS = [
    gateway_pb2.ErrorDetail(
        address="peer0.bank:7051", msp_id="BankMSP", message="chaincode response 500, bad batch"
    ),
    gateway_pb2.ErrorDetail(
        address="peer0.reg:7051", msp_id="RegulatorMSP", message="chaincode response 500, bad batch"
    ),
]


def test_parse_status_details_from_constructed_status() -> None:
    status = rpc_status(
        10,
        "failed to endorse transaction",
        [
            ("type.googleapis.com/gateway.ErrorDetail", DETAILS[0].SerializeToString()),
            ("type.googleapis.com/google.rpc.DebugInfo", b"\x0a\x01x"),
            ("type.googleapis.com/gateway.ErrorDetail", DETAILS[1].SerializeToString()),
        ],
    )
    details = parse_status_details([("other", "x"), ("grpc-status-details-bin", status)])
    assert details == (
        ErrorDetail("peer0.bank:7051", "BankMSP", "chaincode response 500, bad batch"),
        ErrorDetail("peer0.reg:7051", "RegulatorMSP", "chaincode response 500, bad batch"),
    )
    assert parse_status_details(None) == ()
    assert parse_status_details([("grpc-status-details-bin", b"\xff\xff")]) == ()


def test_endorse_error_carries_peer_details(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.failures["Endorse"] = Failure(
        grpc.StatusCode.ABORTED, "failed to endorse transaction", DETAILS
    )
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    proposal = gateway.get_network("ch").get_contract("cc").new_proposal("PutBatch", args=["x"])
    with pytest.raises(EndorseError) as info:
        proposal.endorse()
    err = info.value
    assert err.transaction_id == proposal.transaction_id
    assert err.code is grpc.StatusCode.ABORTED
    assert err.details == tuple(ErrorDetail(d.address, d.msp_id, d.message) for d in DETAILS)
    text = str(err)
    assert text.startswith(f"endorse failed for transaction {proposal.transaction_id}: ABORTED")
    assert "peer0.bank:7051 (BankMSP): chaincode response 500, bad batch" in text
    assert "peer0.reg:7051 (RegulatorMSP)" in text


@pytest.mark.parametrize(
    ("method", "error_type"),
    [("Evaluate", EvaluateError), ("Submit", SubmitError), ("CommitStatus", CommitStatusError)],
)
def test_each_step_raises_its_error(
    fake_gateway: FakeGateway, client: Client, method: str, error_type: type[Exception]
) -> None:
    fake_gateway.failures[method] = Failure(grpc.StatusCode.UNAVAILABLE, "no peers available")
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ch").get_contract("cc")
    call = contract.evaluate if method == "Evaluate" else contract.submit
    with pytest.raises(error_type) as info:
        call("F")
    assert info.value.code is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert info.value.transaction_id  # type: ignore[attr-defined]


def test_deadline_is_applied_and_reported(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.delays["Evaluate"] = 0.5
    gateway = connect(
        identity=client.identity, signer=client.signer, channel=client.channel, evaluate_timeout=0.1
    )
    contract = gateway.get_network("ch").get_contract("cc")
    with pytest.raises(EvaluateError) as info:
        contract.evaluate("F")
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "timeout 0.1s" in str(info.value)
    # per-call override; generous, because the timed-out call's handler may still hold the
    # fake server's thread on a loaded machine
    assert contract.evaluate("F", timeout=10.0) == b"result-payload"


def test_submit_raises_commit_error_but_status_does_not(
    fake_gateway: FakeGateway, client: Client
) -> None:
    fake_gateway.commit_code = transaction_pb2.MVCC_READ_CONFLICT
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    contract = gateway.get_network("ch").get_contract("cc")
    with pytest.raises(CommitError) as info:
        contract.submit("Touch", args=["k"])
    assert info.value.code_name == "MVCC_READ_CONFLICT"
    assert info.value.block_number == 7
    assert "MVCC_READ_CONFLICT" in str(info.value)
    status = contract.new_proposal("Touch").endorse().submit().status()
    assert not status.successful
    assert status.code == transaction_pb2.MVCC_READ_CONFLICT
    assert status.code_name == "MVCC_READ_CONFLICT"


def test_transaction_result_and_envelope(fake_gateway: FakeGateway, client: Client) -> None:
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    tx = gateway.get_network("ch").get_contract("cc").new_proposal("F").endorse()
    assert tx.result == b"result-payload"
    assert tx.channel_name == "ch"
    env = common_pb2.Envelope.FromString(tx.envelope_bytes())
    assert env.signature
    restored = gateway.new_transaction(tx.bytes())
    assert restored.transaction_id == tx.transaction_id
    assert restored.envelope_bytes() == tx.envelope_bytes()  # same signed envelope resubmitted


def test_network_new_commit(fake_gateway: FakeGateway, client: Client) -> None:
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    status = gateway.get_network("ch").new_commit("abc").status()
    assert status.transaction_id == "abc"
    assert status.block_number == 7


async def test_async_flow_matches_sync(fake_gateway: FakeGateway, client: Client) -> None:
    async with grpc.aio.insecure_channel(fake_gateway.address) as channel:
        gateway = connect_async(identity=client.identity, signer=client.signer, channel=channel)
        contract = gateway.get_network("ch").get_contract("cc")
        assert await contract.evaluate("F") == b"result-payload"
        assert await contract.submit("F", args=["a"]) == b"result-payload"
        proposal = contract.new_proposal("G")
        tx = await proposal.endorse()
        commit = await tx.submit()
        status = await commit.status()
        assert status.successful
        assert status.transaction_id == proposal.transaction_id
        fake_gateway.failures["Endorse"] = Failure(grpc.StatusCode.ABORTED, "nope", DETAILS[:1])
        with pytest.raises(EndorseError) as info:
            await contract.submit("F")
        assert info.value.details[0].msp_id == "BankMSP"
        fake_gateway.commit_code = transaction_pb2.MVCC_READ_CONFLICT
        del fake_gateway.failures["Endorse"]
        with pytest.raises(CommitError):
            await contract.submit("F")


def test_chaincode_events_and_checkpoint_resume(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.event_batches = [
        gateway_pb2.ChaincodeEventsResponse(
            block_number=3, events=[chaincode_event("t1"), chaincode_event("t2")]
        ),
        gateway_pb2.ChaincodeEventsResponse(
            block_number=4, events=[chaincode_event("t3", payload=b"p")]
        ),
    ]
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    network = gateway.get_network("ch")
    checkpointer = InMemoryCheckpointer()
    with network.chaincode_events("cc", start_block=2, checkpointer=checkpointer) as events:
        seen = []
        for event in events:
            seen.append((event.block_number, event.transaction_id))
            checkpointer.checkpoint_chaincode_event(event)
            if event.transaction_id == "t2":
                break
    assert seen == [(3, "t1"), (3, "t2")]
    first = gateway_pb2.ChaincodeEventsRequest.FromString(
        fake_gateway.requests["ChaincodeEvents"][0].request
    )
    assert first.start_position.specified.number == 2
    assert first.after_transaction_id == ""
    assert first.chaincode_id == "cc"
    assert first.channel_id == "ch"
    # resume: starts in block 3 after t2
    events = network.chaincode_events("cc", start_block=0, checkpointer=checkpointer)
    next(events)
    events.close()
    second = gateway_pb2.ChaincodeEventsRequest.FromString(
        fake_gateway.requests["ChaincodeEvents"][1].request
    )
    assert second.start_position.specified.number == 3
    assert second.after_transaction_id == "t2"
    # no start: next commit
    events = network.chaincode_events("cc")
    next(events)
    events.close()
    third = gateway_pb2.ChaincodeEventsRequest.FromString(
        fake_gateway.requests["ChaincodeEvents"][2].request
    )
    assert third.start_position.HasField("next_commit")


def test_chaincode_events_close_stops_iteration(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.event_batches = [
        gateway_pb2.ChaincodeEventsResponse(block_number=1, events=[chaincode_event("a")])
    ]
    fake_gateway.stream_forever = True
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    events = gateway.get_network("ch").chaincode_events("cc")
    assert next(events).transaction_id == "a"
    events.close()
    assert list(events) == []


def test_chaincode_events_error(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.failures["ChaincodeEvents"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED, "access denied"
    )
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    with pytest.raises(EventsError) as info:
        list(gateway.get_network("ch").chaincode_events("cc"))
    assert info.value.code is grpc.StatusCode.PERMISSION_DENIED


def test_block_events_seek_info_and_status(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.blocks = [block(5, [endorser_envelope(tx_id="a")], [0]), block(6, [], [])]
    gateway = connect(identity=client.identity, signer=client.signer, channel=client.channel)
    network = gateway.get_network("ch")
    checkpointer = InMemoryCheckpointer()
    checkpointer.checkpoint_block(4)
    numbers = [
        b.header.number for b in network.block_events(start_block=1, checkpointer=checkpointer)
    ]
    assert numbers == [5, 6]
    envelope = fake_gateway.requests["Deliver"][0]
    payload = common_pb2.Payload.FromString(envelope.payload)
    ch = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    assert ch.type == common_pb2.DELIVER_SEEK_INFO
    assert ch.channel_id == "ch"
    seek = ab_pb2.SeekInfo.FromString(payload.data)
    assert seek.start.specified.number == 5
    assert seek.stop.specified.number == 2**64 - 1
    assert envelope.signature
    fake_gateway.deliver_status = common_pb2.NOT_FOUND
    fake_gateway.blocks = []
    with pytest.raises(EventsError, match="NOT_FOUND"):
        list(network.block_events())


async def test_async_events(fake_gateway: FakeGateway, client: Client) -> None:
    fake_gateway.event_batches = [
        gateway_pb2.ChaincodeEventsResponse(block_number=9, events=[chaincode_event("x")])
    ]
    fake_gateway.blocks = [block(2, [], [])]
    async with grpc.aio.insecure_channel(fake_gateway.address) as channel:
        gateway = connect_async(identity=client.identity, signer=client.signer, channel=channel)
        network = gateway.get_network("ch")
        async with network.chaincode_events("cc") as events:
            got = [e async for e in events]
        assert [(e.block_number, e.transaction_id) for e in got] == [(9, "x")]
        blocks = [b.header.number async for b in network.block_events(start_block=0)]
        assert blocks == [2]


def test_offline_signed_event_requests(fake_gateway: FakeGateway, client: Client) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    fake_gateway.event_batches = [
        gateway_pb2.ChaincodeEventsResponse(block_number=1, events=[chaincode_event("e1")])
    ]
    fake_gateway.blocks = [block(3, [], [])]
    offline = connect(identity=client.identity, channel=client.channel)  # no signer
    network = offline.get_network("ch")

    request = network.new_chaincode_events_request("cc", start_block=1)
    assert not request.signed
    signed = offline.new_signed_chaincode_events_request(
        request.bytes(), client.signer(request.digest())
    )
    assert [e.transaction_id for e in signed.events()] == ["e1"]
    sent = fake_gateway.requests["ChaincodeEvents"][0]
    public_key = client.identity.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(sent.signature, sent.request, ec.ECDSA(hashes.SHA256()))

    block_request = network.new_block_events_request(start_block=3)
    signed_blocks = offline.new_signed_block_events_request(
        block_request.bytes(), client.signer(block_request.digest())
    )
    assert [b.header.number for b in signed_blocks.events()] == [3]
    envelope = fake_gateway.requests["Deliver"][0]
    public_key.verify(envelope.signature, envelope.payload, ec.ECDSA(hashes.SHA256()))

    from fabric_gateway import SignerRequiredError

    with pytest.raises(SignerRequiredError):
        network.chaincode_events("cc")
