"""The fake Gateway and fixtures for fabric_gateway unit tests (a plain module with a name of its
own — test modules import its helpers, conftest.py re-exports its fixtures — so it cannot be
confused with another test folder's conftest).

``fake_gateway`` is an in-process gRPC server speaking the Gateway and Deliver service
*wire protocol* with scripted answers. It exercises this client's request building, gRPC
plumbing, deadlines and error conversion; it does not claim Fabric behaviour (the
integration tests in tests/integration/test_gateway*.py run against real peers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fabric_gateway import X509Identity, new_private_key_signer
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_event_pb2, events_pb2, proposal_pb2
from fg_testutil import endorser_envelope, new_identity, rpc_status


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str
    details: list[gateway_pb2.ErrorDetail] = field(default_factory=list)


@dataclass
class FakeGateway:
    address: str = ""
    requests: dict[str, list[Any]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    commit_code: int = 0
    commit_block: int = 7
    result: bytes = b"result-payload"
    event_batches: list[gateway_pb2.ChaincodeEventsResponse] = field(default_factory=list)
    blocks: list[common_pb2.Block] = field(default_factory=list)
    deliver_status: int = common_pb2.SUCCESS
    stream_forever: bool = False

    def record(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        self.requests.setdefault(method, []).append(request)
        delay = self.delays.get(method)
        if delay:
            time.sleep(delay)
        failure = self.failures.get(method)
        if failure is not None:
            if failure.details:
                status = rpc_status(
                    failure.code.value[0],
                    failure.message,
                    [
                        ("type.googleapis.com/gateway.ErrorDetail", d.SerializeToString())
                        for d in failure.details
                    ],
                )
                context.set_trailing_metadata((("grpc-status-details-bin", status),))
            context.abort(failure.code, failure.message)

    # -- handlers -----------------------------------------------------------------------------

    def evaluate(self, request: gateway_pb2.EvaluateRequest, context: grpc.ServicerContext) -> Any:
        self.record("Evaluate", request, context)
        from fabric_protos.peer import proposal_response_pb2

        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=self.result)
        )

    def endorse(self, request: gateway_pb2.EndorseRequest, context: grpc.ServicerContext) -> Any:
        self.record("Endorse", request, context)
        proposal = proposal_pb2.Proposal.FromString(request.proposed_transaction.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        sh = common_pb2.SignatureHeader.FromString(header.signature_header)
        env = endorser_envelope(
            tx_id=request.transaction_id,
            channel=request.channel_id,
            creator=sh.creator,
            result=self.result,
        )
        return gateway_pb2.EndorseResponse(prepared_transaction=env)

    def submit(self, request: gateway_pb2.SubmitRequest, context: grpc.ServicerContext) -> Any:
        self.record("Submit", request, context)
        return gateway_pb2.SubmitResponse()

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, context: grpc.ServicerContext
    ) -> Any:
        self.record("CommitStatus", request, context)
        return gateway_pb2.CommitStatusResponse(
            result=self.commit_code, block_number=self.commit_block
        )

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[gateway_pb2.ChaincodeEventsResponse]:
        self.record("ChaincodeEvents", request, context)
        yield from self.event_batches
        if self.stream_forever:
            while context.is_active():
                time.sleep(0.01)

    def deliver(
        self, request_iterator: Iterator[common_pb2.Envelope], context: grpc.ServicerContext
    ) -> Iterator[events_pb2.DeliverResponse]:
        envelope = next(request_iterator)
        self.record("Deliver", envelope, context)
        for b in self.blocks:
            yield events_pb2.DeliverResponse(block=b)
        if self.stream_forever:
            while context.is_active():
                time.sleep(0.01)
        yield events_pb2.DeliverResponse(status=self.deliver_status)


def _unary(fn: Callable[..., Any], req: Any, resp: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=req.FromString, response_serializer=resp.SerializeToString
    )


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    gw = grpc.method_handlers_generic_handler(
        "gateway.Gateway",
        {
            "Evaluate": _unary(
                fake.evaluate, gateway_pb2.EvaluateRequest, gateway_pb2.EvaluateResponse
            ),
            "Endorse": _unary(
                fake.endorse, gateway_pb2.EndorseRequest, gateway_pb2.EndorseResponse
            ),
            "Submit": _unary(fake.submit, gateway_pb2.SubmitRequest, gateway_pb2.SubmitResponse),
            "CommitStatus": _unary(
                fake.commit_status,
                gateway_pb2.SignedCommitStatusRequest,
                gateway_pb2.CommitStatusResponse,
            ),
            "ChaincodeEvents": grpc.unary_stream_rpc_method_handler(
                fake.chaincode_events,
                request_deserializer=gateway_pb2.SignedChaincodeEventsRequest.FromString,
                response_serializer=gateway_pb2.ChaincodeEventsResponse.SerializeToString,
            ),
        },
    )
    deliver_handler = grpc.stream_stream_rpc_method_handler(
        fake.deliver,
        request_deserializer=common_pb2.Envelope.FromString,
        response_serializer=events_pb2.DeliverResponse.SerializeToString,
    )
    deliver = grpc.method_handlers_generic_handler(
        "protos.Deliver",
        {"Deliver": deliver_handler, "DeliverFiltered": deliver_handler},
    )
    server.add_generic_rpc_handlers((gw, deliver))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    fake.address = f"127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.stop(grace=None)


@dataclass
class Client:
    identity: X509Identity
    signer: Callable[[bytes], bytes]
    channel: grpc.Channel


@pytest.fixture
def client(fake_gateway: FakeGateway) -> Iterator[Client]:
    identity, key = new_identity()
    channel = grpc.insecure_channel(fake_gateway.address)
    try:
        yield Client(identity=identity, signer=new_private_key_signer(key), channel=channel)
    finally:
        channel.close()


def chaincode_event(
    tx_id: str, name: str = "ev", payload: bytes = b""
) -> chaincode_event_pb2.ChaincodeEvent:
    return chaincode_event_pb2.ChaincodeEvent(
        chaincode_id="cc", tx_id=tx_id, event_name=name, payload=payload
    )
