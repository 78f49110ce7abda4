"""A synthetic, properly signed evidence bundle: test CAs and keys made here (``cryptography``).

The golden bundle (tests/data/evidence) is signed by a real network whose keys the tests do
not have, so any edit to its write set stops at step 4. To reach step 3 with an edited write
set, this module builds the whole chain of signatures itself: three application orgs and an
orderer org, each with a self-signed CA; peer certificates (NodeOU ``peer``) endorse the
PutBatch transaction, a client certificate submits it, an orderer certificate signs the
block. Records are redacted (commitments only), so step 1 is skipped and every other step
runs for real against :func:`trust_store`.

``write_set`` edits the list of ``(key, value)`` writes before anything is signed, so a
reordered or repeated write set is endorsed exactly as a colluding majority would sign it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from credit_ledger_verify.access_entry import AccessEntry
from credit_ledger_verify.commitments import commitment
from credit_ledger_verify.fabric.blocks import block_data_hash, block_header_bytes
from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from credit_ledger_verify.onchain import batch_key, encode_record_value, record_key
from credit_ledger_verify.records import ErasureRecord
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2
from nacl.signing import SigningKey

from ledger_service.evidence import ACCESS_BUNDLE_FORMAT, BUNDLE_FORMAT, TrustStore

APPLICATION_ORGS = ("BankMSP", "PlatformMSP", "RegulatorMSP")
ORDERER_ORG = "OrdererMSP"
CHANNEL = "ledger"
CHAINCODE = "ledger"
BATCH_ID = "b1-synthetic"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

Writes = list[tuple[str, bytes]]


@dataclass(frozen=True)
class _Signer:
    msp_id: str
    key: ec.EllipticCurvePrivateKey
    serialized: bytes  # msp.SerializedIdentity

    def sign(self, data: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return encode_dss_signature(r, min(s, _P256_ORDER - s))  # low S, as Fabric requires


@dataclass(frozen=True)
class _Org:
    msp_id: str
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate

    def member(self, ou: str) -> _Signer:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{ou}0.{self.msp_id.lower()}"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - dt.timedelta(days=30))
            .not_valid_after(_NOW + dt.timedelta(days=3650))
            .sign(self.ca_key, hashes.SHA256())
        )
        serialized = identities_pb2.SerializedIdentity(
            mspid=self.msp_id, id_bytes=cert.public_bytes(serialization.Encoding.PEM)
        ).SerializeToString()
        return _Signer(self.msp_id, key, serialized)


def self_signed_ca(
    common_name: str, *, valid_from: dt.datetime, valid_until: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A P-256 root CA made by the test (Fabric's CAs are P-256 too)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _org(msp_id: str) -> _Org:
    key, cert = self_signed_ca(
        f"ca.{msp_id.lower()}",
        valid_from=_NOW - dt.timedelta(days=60),
        valid_until=_NOW + dt.timedelta(days=3650),
    )
    return _Org(msp_id, key, cert)


@dataclass(frozen=True)
class _Network:
    orgs: dict[str, _Org]
    peers: tuple[_Signer, ...]
    client: _Signer
    orderer: _Signer


@cache
def _network() -> _Network:
    orgs = {m: _org(m) for m in (*APPLICATION_ORGS, ORDERER_ORG)}
    return _Network(
        orgs=orgs,
        peers=tuple(orgs[m].member("peer") for m in APPLICATION_ORGS),
        client=orgs["PlatformMSP"].member("client"),
        orderer=orgs[ORDERER_ORG].member("orderer"),
    )


def trust_store() -> TrustStore:
    """The trust store of the synthetic network (same MSP ids as the real one)."""
    net = _network()
    pem = {m: o.ca_cert.public_bytes(serialization.Encoding.PEM) for m, o in net.orgs.items()}
    return TrustStore.from_pems(
        {m: pem[m] for m in APPLICATION_ORGS},
        {ORDERER_ORG: pem[ORDERER_ORG]},
        channel=CHANNEL,
        chaincode=CHAINCODE,
    )


def record_ids(count: int) -> list[str]:
    return [f"syn-{i:04d}" for i in range(count)]


def bundle(
    count: int = 40,
    write_set: Callable[[Writes], Writes] | None = None,
    *,
    commitments: list[bytes] | None = None,
) -> dict[str, Any]:
    """A bundle of ``count`` redacted records anchored in one signed PutBatch transaction.

    ``write_set`` receives the key-sorted writes (as Fabric emits them) and returns the writes
    to endorse instead. ``commitments`` replaces the made-up leaves (``count`` is then theirs).
    """
    net = _network()
    if commitments is not None:
        count = len(commitments)
    ids = record_ids(count)
    if commitments is None:
        commitments = [hashlib.sha256(f"commitment of {rid}".encode()).digest() for rid in ids]
    tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(c) for c in commitments])

    nonce = hashlib.sha256(b"synthetic nonce").digest()[:24]
    tx_id = hashlib.sha256(nonce + net.client.serialized).hexdigest()
    batch_value = json.dumps(
        {
            "batch_id": BATCH_ID,
            "root": tree.root.hex(),
            "size": count,
            "tx_id": tx_id,
            "msp": "PlatformMSP",
            "ts": "2026-01-05T09:00:00Z",
        },
        separators=(",", ":"),
    ).encode()
    writes: Writes = [(batch_key(BATCH_ID), batch_value)] + [
        (record_key(c), encode_record_value(i, BATCH_ID))
        for i, (rid, c) in enumerate(zip(ids, commitments, strict=True))
    ]
    writes.sort()
    if write_set is not None:
        writes = write_set(writes)
    envelope = _envelope(net, tx_id, nonce, writes)
    block = _block(net, 7, [envelope])
    return {
        "format": BUNDLE_FORMAT,
        "created_at": "2026-01-05T09:00:00Z",
        "records": [
            {
                "record_id": rid,
                "commitment": c.hex(),
                "merkle": {
                    "leaf_index": i,
                    "tree_size": count,
                    "proof": [h.hex() for h in tree.inclusion_proof(i)],
                },
                "anchor": {
                    "channel": CHANNEL,
                    "chaincode": CHAINCODE,
                    "batch_id": BATCH_ID,
                    "tx_id": tx_id,
                    "block_number": 7,
                },
            }
            for i, (rid, c) in enumerate(zip(ids, commitments, strict=True))
        ],
        "blocks": [{**block, "transactions": [{"tx_id": tx_id, "tx_index": 0}]}],
    }


def _envelope(net: _Network, tx_id: str, nonce: bytes, writes: Writes) -> bytes:
    kv = kv_rwset_pb2.KVRWSet(writes=[kv_rwset_pb2.KVWrite(key=k, value=v) for k, v in writes])
    results = rwset_pb2.TxReadWriteSet(
        data_model=rwset_pb2.TxReadWriteSet.KV,
        ns_rwset=[rwset_pb2.NsReadWriteSet(namespace=CHAINCODE, rwset=kv.SerializeToString())],
    )
    cc_action = proposal_pb2.ChaincodeAction(results=results.SerializeToString())
    cc_action.chaincode_id.name = CHAINCODE
    cc_action.response.status = 200

    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, channel_id=CHANNEL, tx_id=tx_id
    )
    channel_header.timestamp.FromDatetime(_NOW)
    channel_header_bytes = channel_header.SerializeToString()
    signature_header = common_pb2.SignatureHeader(
        creator=net.client.serialized, nonce=nonce
    ).SerializeToString()
    proposal_payload = proposal_pb2.ChaincodeProposalPayload(input=b"PutBatch").SerializeToString()
    prp = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=hashlib.sha256(
            channel_header_bytes + signature_header + proposal_payload
        ).digest(),
        extension=cc_action.SerializeToString(),
    ).SerializeToString()
    endorsed = transaction_pb2.ChaincodeEndorsedAction(
        proposal_response_payload=prp,
        endorsements=[
            proposal_response_pb2.Endorsement(
                endorser=peer.serialized, signature=peer.sign(prp + peer.serialized)
            )
            for peer in net.peers
        ],
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal_payload, action=endorsed
    )
    transaction = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(
                header=signature_header, payload=action_payload.SerializeToString()
            )
        ]
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header_bytes, signature_header=signature_header
        ),
        data=transaction.SerializeToString(),
    ).SerializeToString()
    return common_pb2.Envelope(
        payload=payload, signature=net.client.sign(payload)
    ).SerializeToString()


def _block(net: _Network, number: int, data: list[bytes]) -> dict[str, Any]:
    previous_hash = hashlib.sha256(b"previous block").digest()
    data_hash = block_data_hash(data)
    header = block_header_bytes(number, previous_hash, data_hash)
    signature_header = common_pb2.SignatureHeader(
        creator=net.orderer.serialized, nonce=b"orderer nonce"
    ).SerializeToString()
    value = b"last config"
    metadata = common_pb2.Metadata(
        value=value,
        signatures=[
            common_pb2.MetadataSignature(
                signature_header=signature_header,
                signature=net.orderer.sign(value + signature_header + header),
            )
        ],
    ).SerializeToString()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return {
        "number": number,
        "previous_hash": previous_hash.hex(),
        "data_hash": data_hash.hex(),
        "data": [b64(d) for d in data],
        "metadata": {"signatures": b64(metadata), "transactions_filter": b64(bytes(len(data)))},
    }


def access_bundle(entries: list[AccessEntry]) -> dict[str, Any]:
    """A ``credit-ledger-access/1`` bundle of ``entries`` (full: content and salt), anchored in
    one signed PutBatch transaction like records."""
    salts = [hashlib.sha256(f"salt {e.entry_id}".encode()).digest() for e in entries]
    contents = [e.canonical_bytes() for e in entries]
    signed = bundle(commitments=[commitment(s, c) for s, c in zip(salts, contents, strict=True)])
    items = []
    for entry, salt, content, item in zip(entries, salts, contents, signed["records"], strict=True):
        del item["record_id"]
        items.append(
            {"entry_id": entry.entry_id, **item, "content": content.decode(), "salt": salt.hex()}
        )
    return {
        "format": ACCESS_BUNDLE_FORMAT,
        "created_at": signed["created_at"],
        "entries": items,
        "blocks": signed["blocks"],
    }


#: The synthetic service key that signs erasure records (a fixed seed: tests only).
ERASURE_SIGNER = "ledger-service"
_ERASURE_SEED = hashlib.sha256(b"synthetic service key").digest()


def erasure_trust_store(*, trusted: bool = True) -> TrustStore:
    """:func:`trust_store` that also trusts (``trusted``) the synthetic service key for
    erasure records."""
    store = trust_store()
    if trusted:
        key = SigningKey(_ERASURE_SEED)
        store.erasure_signers = {ERASURE_SIGNER: (bytes(key.verify_key),)}
    return store


def erasure_bundle() -> dict[str, Any]:
    """Two records anchored in one signed PutBatch transaction: records[0] ``syn-0000``,
    erased (commitment only, ``erasure`` naming records[1]); records[1] its erasure record
    (full content, signed by the synthetic service key)."""
    erased = record_ids(1)[0]
    erasure_id = f"erasure-{hashlib.sha256(erased.encode()).hexdigest()[:40]}"
    record = ErasureRecord.model_validate(
        {
            "record_id": erasure_id,
            "subject": "91350100M000100Y43",
            "occurred_at": "2026-01-05T08:00:00Z",
            "source": "ledger-service/retention",
            "actor": ERASURE_SIGNER,
            "payload": {
                "erased_record": erased,
                "basis": "expiry",
                "rule": "loan_overdue",
                "conduct_ended": "2020-06-01",
                "expired_on": "2025-06-02",
            },
        }
    )
    signed = record.with_signature(
        base64.b64encode(SigningKey(_ERASURE_SEED).sign(record.signing_bytes()).signature).decode()
    )
    content = signed.canonical_bytes()
    salt = hashlib.sha256(b"salt of the erasure record").digest()
    erased_commitment = hashlib.sha256(f"commitment of {erased}".encode()).digest()
    made = bundle(commitments=[erased_commitment, commitment(salt, content)])
    first, second = made["records"]
    first["erasure"] = {"record_id": erasure_id}
    second.update(record_id=erasure_id, content=content.decode(), salt=salt.hex())
    return made
