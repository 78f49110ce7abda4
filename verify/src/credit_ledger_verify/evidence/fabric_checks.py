"""The Fabric side of verification: blocks and transactions decoded (with the shared decoder,
:mod:`credit_ledger_verify.fabric.envelope`) and their signatures checked against the trust store.

Pure and cacheable: a :class:`BlockCheck` depends only on the block entry, the trust store
and the policy, so a verifier may hand the same one to every record (and every bundle) that
uses the block. Nothing here knows about records: the verifier's steps read the results.

* block: base64, data hash, header hash, orderer signatures (step 6) — :meth:`FabricChecks.block`
* transaction: envelope decoded, tx id binding and validation flag (step 5), endorsements
  and creator (step 4), the namespaces' write sets (step 3) — :meth:`FabricChecks.transaction`
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter
from typing import Any

import pybase64

from credit_ledger_verify.evidence.bundle import BlockEntry
from credit_ledger_verify.evidence.model import BundleFormatError, short_hex
from credit_ledger_verify.evidence.policy import EndorsementPolicy
from credit_ledger_verify.evidence.trust import IdentityError, MspRole, TrustedIdentity, TrustStore
from credit_ledger_verify.fabric import blocks, protos
from credit_ledger_verify.fabric.envelope import (
    EnvelopeError,
    decode_endorsed_transaction,
    kv_rwset,
)
from credit_ledger_verify.fabric.protos import DecodeError
from credit_ledger_verify.onchain import OnChainFormatError, batch_key, decode_batch_value

__all__ = ["BlockCheck", "ChainBatch", "FabricChecks", "TxCheck", "WriteTable"]

_VALID = protos.VALID
_PEER_OUS = ("peer",)
_KEY = attrgetter("key")
_CREATOR_OUS = ("client", "admin")
_ORDERER_OUS = ("orderer",)


class _Malformed(BundleFormatError):
    """Internal: a malformed piece of a block or transaction; caught in this module and
    reported as the failing step (a BundleFormatError should one ever escape)."""


def _b64(value: str, what: str) -> bytes:
    try:
        # pybase64 (SIMD) decodes a block several times faster than binascii; validate=True
        # refuses anything outside the alphabet and bad padding, like strict_mode.
        return pybase64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise _Malformed(f"{what} is not valid base64: {exc}") from None


def _timestamp(ts: Any) -> datetime | None:
    if not ts.seconds and not ts.nanos:
        return None
    try:
        return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC)
    except (OverflowError, ValueError, OSError):
        raise _Malformed(f"timestamp {ts.seconds}s is out of range") from None


@dataclass(slots=True)
class ChainBatch:
    root: bytes
    size: int


class WriteTable:
    """The public writes of one namespace by key — independent of the order Fabric listed
    them in; a write set that names a key twice is refused as a whole (:attr:`repeated`)."""

    __slots__ = ("_index", "_writes", "repeated")

    def __init__(self, writes: Sequence[protos.KVWrite]) -> None:
        # keys pulled out by C (map + attrgetter) and indexed by position: several times
        # cheaper than a comprehension over the protobuf messages at thousands of writes
        keys = list(map(_KEY, writes))
        self._writes = writes
        self._index = dict(zip(keys, range(len(keys)), strict=True))
        #: the first key written twice (``None``: every key once)
        self.repeated: str | None = None
        if len(self._index) != len(keys):
            seen: set[str] = set()
            for key in keys:
                if key in seen:
                    self.repeated = key
                    break
                seen.add(key)

    def get(self, key: str) -> protos.KVWrite | None:
        position = self._index.get(key)
        return None if position is None else self._writes[position]


@dataclass(slots=True)
class TxCheck:
    """One transaction of a block, decoded and checked (steps 3, 4 and 5 parts)."""

    index: int
    parse_error: str | None = None
    tx_id: str = ""
    channel_id: str = ""
    timestamp: datetime | None = None
    creator_msp: str = ""
    #: step 5, transaction part (tx id binding, validation flag), minus the bundle's claims
    tx_error: str | None = None
    #: step 4
    endorsement_error: str | None = None
    chaincode: str = ""
    response_status: int = 0
    namespaces: dict[str, protos.NsReadWriteSet] = field(default_factory=dict)
    #: a namespace named twice in the read-write set (the transaction is refused at step 3)
    repeated_namespace: str | None = None
    _writes: dict[str, WriteTable] = field(default_factory=dict)
    _batches: dict[str, ChainBatch | str] = field(default_factory=dict)

    def writes(self, namespace: str) -> WriteTable | None:
        table = self._writes.get(namespace)
        if table is None:
            ns = self.namespaces.get(namespace)
            if ns is None:
                return None
            table = WriteTable(kv_rwset(ns).writes)
            self._writes[namespace] = table
        return table

    def batch(self, namespace: str, batch_id: str) -> ChainBatch | str:
        """The batch key's root and size, or why they cannot be read."""
        cached = self._batches.get(batch_id)
        if cached is None:
            cached = self._read_batch(namespace, batch_id)
            self._batches[batch_id] = cached
        return cached

    def _read_batch(self, namespace: str, batch_id: str) -> ChainBatch | str:
        writes = self.writes(namespace)
        write = None if writes is None else writes.get(batch_key(batch_id))
        if write is None or write.is_delete:
            return f"the write set of tx {short_hex(self.tx_id)} has no key for batch {batch_id!r}"
        try:
            value = decode_batch_value(write.value)
        except OnChainFormatError as exc:
            return f"batch {batch_id!r}: the value on chain is not in the batch layout: {exc}"
        if value.batch_id != batch_id:
            return f"batch {batch_id!r}: the value on chain names batch {value.batch_id!r}"
        if value.tx_id != self.tx_id:
            return (
                f"batch {batch_id!r}: the value on chain names tx {value.tx_id!r}, not {self.tx_id}"
            )
        if value.msp != self.creator_msp:
            return (
                f"batch {batch_id!r}: the value on chain names writer {value.msp!r}, "
                f"but the transaction's creator is {self.creator_msp!r}"
            )
        return ChainBatch(root=value.root, size=value.size)


@dataclass(slots=True)
class BlockCheck:
    """One block entry, checked (step 5 block part, step 6)."""

    number: int
    header_hash: str | None = None
    #: malformed entry: nothing about the block can be checked
    format_error: str | None = None
    #: step 5, block part (data hash)
    data_error: str | None = None
    #: step 6
    orderer_error: str | None = None
    orderers: tuple[TrustedIdentity, ...] = ()
    #: the data entries as the bundle has them (base64 text): compared on a cache hit,
    #: decoded again only for the transactions looked at
    data: tuple[str, ...] = ()
    codes: bytes = b""
    #: decoded entries of the transactions the bundle names, until they are parsed
    decoded: dict[int, bytes] = field(default_factory=dict)
    txs: dict[int, TxCheck] = field(default_factory=dict)


@dataclass
class VerifierStats:
    blocks_checked: int = 0
    block_cache_hits: int = 0
    transactions_checked: int = 0
    records_checked: int = 0


class FabricChecks:
    """Decodes and checks blocks and transactions against one trust store and policy."""

    def __init__(self, trust: TrustStore, policy: EndorsementPolicy, stats: VerifierStats) -> None:
        self.trust = trust
        self.policy = policy
        self.stats = stats

    # -- block ----------------------------------------------------------------------------------
    def block(self, entry: BlockEntry, wanted: frozenset[int]) -> BlockCheck:
        """Data hash, header hash and orderer signatures of a block entry; the data entries
        at ``wanted`` are kept decoded for :meth:`transaction`."""
        number = entry.number
        if entry.format_error is not None:
            return BlockCheck(number=number, format_error=entry.format_error)
        self.stats.blocks_checked += 1
        check = BlockCheck(number=number, data=entry.data)
        digest = hashlib.sha256()
        try:
            for i, item in enumerate(entry.data):
                raw = _b64(item, f"data[{i}]")
                digest.update(raw)
                if i in wanted:  # about to be decoded as a transaction: keep, don't re-decode
                    check.decoded[i] = raw
            signatures = _b64(entry.signatures, "metadata.signatures")
            check.codes = _b64(entry.transactions_filter, "metadata.transactions_filter")
        except _Malformed as exc:
            check.format_error = f"block {number}: {exc}"
            return check
        previous_hash = bytes.fromhex(entry.previous_hash)
        data_hash = bytes.fromhex(entry.data_hash)
        self._header(check, previous_hash, data_hash, digest.digest(), signatures)
        return check

    def decoded_block(
        self,
        number: int,
        previous_hash: bytes,
        data: Sequence[bytes],
        signatures: bytes,
        transactions_filter: bytes,
    ) -> BlockCheck:
        """:meth:`block` for a block whose data and metadata are already bytes (the
        checkpoint form's packed block): every data entry stays available to
        :meth:`transaction`. The header's data hash is computed from ``data`` (the form does
        not carry it): the orderer's signature over that header is what binds the data."""
        self.stats.blocks_checked += 1
        check = BlockCheck(number=number, codes=transactions_filter)
        check.decoded = dict(enumerate(data))
        check.data = tuple("" for _ in data)  # only the count is read from it
        calculated = blocks.block_data_hash(data)
        self._header(check, previous_hash, calculated, calculated, signatures)
        return check

    def _header(
        self,
        check: BlockCheck,
        previous_hash: bytes,
        data_hash: bytes,
        calculated: bytes,
        signatures: bytes,
    ) -> None:
        """Header hash, the data hash against ``calculated``, the orderer signatures."""
        number = check.number
        header = blocks.block_header_bytes(number, previous_hash, data_hash)
        check.header_hash = hashlib.sha256(header).hexdigest()
        if not hmac.compare_digest(calculated, data_hash):
            check.data_error = (
                f"block {number}: SHA-256 of its {len(check.data)} data entries "
                f"{short_hex(calculated)} != header data_hash {short_hex(data_hash)}"
            )
        check.orderer_error, check.orderers = self._orderers(number, signatures, header)

    def _orderers(
        self, number: int, signatures: bytes, header: bytes
    ) -> tuple[str | None, tuple[TrustedIdentity, ...]]:
        try:
            metadata = protos.Metadata.FromString(signatures)
        except DecodeError as exc:
            return f"block {number}: SIGNATURES metadata does not decode: {exc}", ()
        if not metadata.signatures:
            return f"block {number} carries no orderer signature", ()
        signers = []
        for i, sig in enumerate(metadata.signatures):
            where = f"block {number}, orderer signature {i}"
            if not sig.signature_header:
                return f"{where}: no signature header (BFT identifier headers unsupported)", ()
            try:
                creator = protos.SignatureHeader.FromString(sig.signature_header).creator
                identity = self.trust.identity(creator)
            except DecodeError as exc:
                return f"{where}: signature header does not decode: {exc}", ()
            except IdentityError as exc:
                return f"{where}: {exc}", ()
            if identity.role is not MspRole.ORDERER:
                return f"{where}: signer's MSP {identity.msp_id} is not an orderer org", ()
            problem = identity.check_ou(_ORDERER_OUS) or identity.verify(
                sig.signature, metadata.value + sig.signature_header + header
            )
            if problem is not None:
                return f"{where}: {problem}", ()
            signers.append(identity)
        return None, tuple(signers)

    # -- transaction ----------------------------------------------------------------------------
    def transaction(self, block: BlockCheck, index: int) -> TxCheck:
        """Data entry ``index`` of a checked block, decoded and checked (cached in the block)."""
        tx = block.txs.get(index)
        if tx is None:
            tx = self._transaction(block, index)
            block.txs[index] = tx
        return tx

    def _transaction(self, block: BlockCheck, index: int) -> TxCheck:
        self.stats.transactions_checked += 1
        tx = TxCheck(index=index)
        where = f"data entry {index} of block {block.number}"
        try:
            raw = block.decoded.pop(index, None)
            if raw is None:
                raw = _b64(block.data[index], "data")
            header, action = decode_endorsed_transaction(raw)
            channel_header = header.channel_header
            tx.tx_id = channel_header.tx_id
            tx.channel_id = channel_header.channel_id
            tx.timestamp = _timestamp(channel_header.timestamp)
        except (EnvelopeError, _Malformed) as exc:
            tx.parse_error = f"{where}: {exc}"
            return tx
        creator = header.creator
        try:
            tx.creator_msp = protos.SerializedIdentity.FromString(creator).mspid
        except DecodeError:
            tx.creator_msp = ""
        tx.chaincode = action.chaincode_name
        tx.response_status = action.chaincode_action.response.status
        for ns in action.namespaces:
            if ns.namespace in tx.namespaces and tx.repeated_namespace is None:
                tx.repeated_namespace = ns.namespace
            tx.namespaces[ns.namespace] = ns

        # step 5, transaction part
        code = block.codes[index] if index < len(block.codes) else None
        expected_id = hashlib.sha256(header.nonce + creator).hexdigest()
        if code is None:
            tx.tx_error = f"TRANSACTIONS_FILTER of block {block.number} has no entry {index}"
        elif code != _VALID:
            tx.tx_error = (
                f"TRANSACTIONS_FILTER marks tx {index} of block {block.number} "
                f"{blocks.validation_code_name(code)}, not VALID"
            )
        elif tx.tx_id != expected_id:
            tx.tx_error = (
                f"tx id {short_hex(tx.tx_id)} != SHA-256(nonce ‖ creator) {short_hex(expected_id)}"
            )

        # step 4
        bound = hashlib.sha256(header.channel_header_bytes)
        bound.update(action.action_header)
        bound.update(action.chaincode_proposal_payload)
        tx.endorsement_error = self._endorsements(
            tx,
            action.endorsements,
            action.proposal_response_payload,
            proposal_hash=action.proposal_hash,
            bound=bound.digest(),
        ) or self._creator(tx, creator, header.signature, header.payload)
        return tx

    def _endorsements(
        self,
        tx: TxCheck,
        endorsements: Any,
        prp: bytes,
        *,
        proposal_hash: bytes,
        bound: bytes,
    ) -> str | None:
        orgs: list[str] = []
        prp_hash = hashlib.sha256(prp)
        for i, endorsement in enumerate(endorsements):
            try:
                identity = self.trust.identity(endorsement.endorser)
            except IdentityError as exc:
                return f"endorsement {i}: {exc}"
            where = f"endorsement {i} ({identity.msp_id})"
            if identity.role is not MspRole.APPLICATION:
                return f"{where}: {identity.msp_id} is not an application org"
            endorser: bytes = endorsement.endorser
            signed = prp_hash.copy()  # SHA-256(prp ‖ endorser), prp hashed once for all
            signed.update(endorser)
            problem = (
                identity.check_ou(_PEER_OUS)
                or identity.check_valid_at(tx.timestamp)
                or identity.verify_digest(
                    endorsement.signature, signed.digest(), partial(bytes.__add__, prp, endorser)
                )
            )
            if problem is not None:
                return f"{where}: {problem}"
            if identity.msp_id not in orgs:
                orgs.append(identity.msp_id)
        unmet = self.policy.check(orgs, self.trust.application_msps)
        if unmet is not None:
            return unmet
        if not hmac.compare_digest(proposal_hash, bound):
            return (
                "the endorsed proposal hash does not match this transaction's header and "
                "proposal payload"
            )
        return None

    def _creator(self, tx: TxCheck, creator: bytes, signature: bytes, payload: bytes) -> str | None:
        try:
            identity = self.trust.identity(creator)
        except IdentityError as exc:
            return f"creator: {exc}"
        if identity.role is not MspRole.APPLICATION:
            return f"creator: {identity.msp_id} is not an application org"
        problem = (
            identity.check_ou(_CREATOR_OUS)
            or identity.check_valid_at(tx.timestamp)
            or identity.verify(signature, payload)
        )
        return None if problem is None else f"creator ({identity.msp_id}): {problem}"
