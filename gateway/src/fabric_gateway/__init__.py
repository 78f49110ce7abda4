"""Python client for the Hyperledger Fabric Gateway API.

Gateway → Network → Contract → Proposal → Transaction → Commit, in a blocking flavour
(:func:`connect`, over ``grpc.Channel``) and an asyncio flavour (:func:`connect_async`,
over ``grpc.aio.Channel``) that build byte-identical requests::

    import grpc
    from fabric_gateway import connect, load_msp

    creds = load_msp("organizations/.../users/User1@org/msp", msp_id="Org1MSP")
    channel = grpc.secure_channel("localhost:7051", grpc.ssl_channel_credentials(ca_pem))
    gateway = connect(identity=creds.identity, signer=creds.signer, channel=channel)
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.submit("CreateAsset", args=["a1", "blue"])
    print(contract.evaluate("ReadAsset", args=["a1"]))
"""

from . import hash
from ._protocol import Timeouts, compute_transaction_id
from .checkpoint import Checkpoint, Checkpointer, FileCheckpointer, InMemoryCheckpointer
from .commit import AsyncCommit, Commit, Status
from .contract import AsyncContract, Contract
from .errors import (
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    EventsError,
    GatewayError,
    RpcError,
    SignerRequiredError,
    SubmitError,
)
from .events import (
    AsyncBlockEvents,
    AsyncBlockEventsRequest,
    AsyncChaincodeEvents,
    AsyncChaincodeEventsRequest,
    BlockEvents,
    BlockEventsRequest,
    ChaincodeEvent,
    ChaincodeEvents,
    ChaincodeEventsRequest,
)
from .gateway import AsyncGateway, Gateway, connect, connect_async
from .identity import (
    Identity,
    MspCredentials,
    X509Identity,
    deserialize_identity,
    load_msp,
    serialize_identity,
)
from .network import AsyncNetwork, Network
from .proposal import AsyncProposal, Proposal
from .signing import (
    ECDSASigner,
    Ed25519Signer,
    Signer,
    load_private_key,
    new_private_key_signer,
)
from .transaction import AsyncTransaction, Transaction

__all__ = [
    "AsyncBlockEvents",
    "AsyncBlockEventsRequest",
    "AsyncChaincodeEvents",
    "AsyncChaincodeEventsRequest",
    "AsyncCommit",
    "AsyncContract",
    "AsyncGateway",
    "AsyncNetwork",
    "AsyncProposal",
    "AsyncTransaction",
    "BlockEvents",
    "BlockEventsRequest",
    "ChaincodeEvent",
    "ChaincodeEvents",
    "ChaincodeEventsRequest",
    "Checkpoint",
    "Checkpointer",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "Contract",
    "ECDSASigner",
    "Ed25519Signer",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "EventsError",
    "FileCheckpointer",
    "Gateway",
    "GatewayError",
    "Identity",
    "InMemoryCheckpointer",
    "MspCredentials",
    "Network",
    "Proposal",
    "RpcError",
    "Signer",
    "SignerRequiredError",
    "Status",
    "SubmitError",
    "Timeouts",
    "Transaction",
    "X509Identity",
    "compute_transaction_id",
    "connect",
    "connect_async",
    "deserialize_identity",
    "hash",
    "load_msp",
    "load_private_key",
    "new_private_key_signer",
    "serialize_identity",
]
