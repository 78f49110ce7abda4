"""Offline verification of evidence bundles (format v3) against a trust directory.

Pure: no network, no index — only the bundle and the org CA certificates. The steps are
numbered as in docs/evidence-format.md ("Verification"):

0. format       the record entry is well formed (only reported when it is not)
1. content      SHA-256(salt ‖ content) = commitment; content is a record with that id
                (skipped for a redacted record)
2. merkle       RFC 6962 inclusion of the commitment at leaf_index, against the batch root
                and size read from the transaction's write set (never from the bundle)
3. write set    the chaincode namespace of the transaction writes the record key — the
                commitment itself — with exactly that batch id and leaf index, and the batch
                key with root and size (both values decoded by ledger_service.onchain)
4. endorsement  every endorsement signature verifies under a peer certificate of a trusted
                org; the endorsing orgs satisfy MAJORITY of the application orgs; the proposal
                hash binds the endorsements to this transaction; the creator's signature over
                the transaction verifies under a trusted org CA
5. block        SHA-256 of the block's data entries = header data_hash; the entry at tx_index
                is the transaction (tx id, channel, SHA-256(nonce ‖ creator)); it is marked VALID
                in TRANSACTIONS_FILTER
6. orderer      the orderer signature(s) in the SIGNATURES metadata verify (over
                metadata value ‖ signature header ‖ DER block header) under a trusted orderer CA

Every step is evaluated when its inputs are there, so a result shows *all* failing steps;
:attr:`RecordOutcome.failure` is the lowest-numbered one.

Speed: the heavy part of a bundle (blocks: base64, SHA-256, protobuf, signatures) is checked
once per distinct block and cached in the :class:`Verifier` by the SHA-256 of the block's
entry, so many bundles or records sharing a transaction pay for it once; a transaction's
write set is turned into a dict once; identity (certificate) checks are cached in the
:class:`TrustStore`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeGuard

import pybase64
from fabric_gateway import blocks
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf.message import DecodeError

from ledger_service.commitments import COMMITMENT_BYTES, SALT_BYTES
from ledger_service.errors import ProofError, RootMismatch, ValidationError
from ledger_service.evidence.model import (
    BUNDLE_FORMAT,
    RETIRED_FORMATS,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
    short_hex,
)
from ledger_service.evidence.trust import IdentityError, MspRole, TrustedIdentity, TrustStore
from ledger_service.merkle import commitment_leaf_hash, verify_inclusion
from ledger_service.onchain import (
    OnChainFormatError,
    RecordValue,
    batch_key,
    decode_batch_value,
    decode_record_value,
    record_key,
)
from ledger_service.records import parse_record

__all__ = ["Verifier", "VerifierStats", "block_header_bytes", "verify_bundle"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX_RUN = re.compile(r"[0-9a-f]*")
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_VALID = transaction_pb2.VALID
_ENDORSER_TRANSACTION = common_pb2.ENDORSER_TRANSACTION
_BISECT_LOOKUPS = 16
_PEER_OUS = ("peer",)
_CREATOR_OUS = ("client", "admin")
_ORDERER_OUS = ("orderer",)

_P, _F, _S, _N = StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.NOT_CHECKED


# -- helpers ------------------------------------------------------------------------------------


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def block_header_bytes(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    """Fabric's ``protoutil.BlockHeaderBytes``: ASN.1 DER ``SEQUENCE {INTEGER number,
    OCTET STRING previous_hash, OCTET STRING data_hash}`` (what the orderer signs and hashes)."""
    num = number.to_bytes(number.bit_length() // 8 + 1, "big")  # minimal, sign bit clear
    body = (
        b"\x02" + _der_length(len(num)) + num
        + b"\x04" + _der_length(len(previous_hash)) + previous_hash
        + b"\x04" + _der_length(len(data_hash)) + data_hash
    )  # fmt: skip
    return b"\x30" + _der_length(len(body)) + body


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex32(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 64 and _HEX64.fullmatch(value) is not None


def _hex_hashes(values: list[Any]) -> bool:
    """Every item is 64 lowercase hex digits (one regex over the joined list)."""
    if not all(isinstance(v, str) and len(v) == 64 for v in values):
        return False
    return _HEX_RUN.fullmatch("".join(values)) is not None


def _split32(data: bytes) -> list[bytes]:
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise _Malformed(f"{what} must be base64 text")
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


class _Malformed(Exception):
    pass


# -- checked pieces of a bundle (cached) ----------------------------------------------------------


@dataclass(slots=True)
class _ChainBatch:
    root: bytes
    size: int


class _WriteSet:
    """The public writes of one namespace, looked up by key.

    Fabric's rwset builder emits writes sorted by key (unique), so the first lookups are a
    binary search in the decoded list (a single-record bundle of a 4096-record batch needs
    two); from the 17th lookup on, the writes are turned into a dict once.
    """

    __slots__ = ("_lookups", "_table", "_writes")

    def __init__(self, writes: Sequence[kv_rwset_pb2.KVWrite]) -> None:
        self._writes = writes
        self._table: dict[str, kv_rwset_pb2.KVWrite] | None = None
        self._lookups = 0

    def get(self, key: str) -> kv_rwset_pb2.KVWrite | None:
        table = self._table
        if table is not None:
            return table.get(key)
        self._lookups += 1
        writes = self._writes
        if self._lookups > _BISECT_LOOKUPS:
            self._table = table = {w.key: w for w in writes}
            return table.get(key)
        lo, hi = 0, len(writes)
        while lo < hi:
            mid = (lo + hi) // 2
            write = writes[mid]
            found = write.key
            if found < key:
                lo = mid + 1
            elif found > key:
                hi = mid
            else:
                return write
        return None


@dataclass(slots=True)
class _TxCheck:
    """One transaction of a block, decoded and checked (steps 4 and 5 parts)."""

    index: int
    parse_error: str | None = None
    tx_id: str = ""
    channel_id: str = ""
    header_type: int = -1
    timestamp: datetime | None = None
    creator_msp: str = ""
    #: step 5, transaction part (tx id binding, header type, validation flag), minus claims
    tx_error: str | None = None
    #: step 4
    endorsement_error: str | None = None
    chaincode: str = ""
    response_status: int = 0
    rwsets: dict[str, bytes] = field(default_factory=dict)
    _writes: dict[str, _WriteSet] = field(default_factory=dict)
    _batches: dict[str, _ChainBatch | str] = field(default_factory=dict)

    def writes(self, namespace: str) -> _WriteSet | None:
        table = self._writes.get(namespace)
        if table is None:
            raw = self.rwsets.get(namespace)
            if raw is None:
                return None
            table = _WriteSet(kv_rwset_pb2.KVRWSet.FromString(raw).writes)
            self._writes[namespace] = table
        return table

    def batch(self, namespace: str, batch_id: str) -> _ChainBatch | str:
        """The batch key's root and size, or why they cannot be read."""
        cached = self._batches.get(batch_id)
        if cached is None:
            cached = self._read_batch(namespace, batch_id)
            self._batches[batch_id] = cached
        return cached

    def _read_batch(self, namespace: str, batch_id: str) -> _ChainBatch | str:
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
        return _ChainBatch(root=value.root, size=value.size)


@dataclass(slots=True)
class _BlockCheck:
    """One block entry of a bundle, checked (steps 5 and 6, block part)."""

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
    data: list[str] = field(default_factory=list)
    codes: bytes = b""
    #: decoded entries of the transactions the bundle names, until they are parsed
    decoded: dict[int, bytes] = field(default_factory=dict)
    txs: dict[int, _TxCheck] = field(default_factory=dict)


@dataclass
class VerifierStats:
    blocks_checked: int = 0
    block_cache_hits: int = 0
    transactions_checked: int = 0
    records_checked: int = 0


@dataclass(slots=True)
class _Entry:
    record_id: str
    commitment: str
    content: str | None
    salt: str | None
    leaf_index: int
    tree_size: int
    proof: list[str]
    channel: str
    chaincode: str
    batch_id: str
    tx_id: str
    block_number: int


# -- the verifier ------------------------------------------------------------------------------


class Verifier:
    """Verifies bundles against one trust store; reuse it to share the block cache."""

    def __init__(self, trust: TrustStore, *, max_cached_blocks: int = 16) -> None:
        self.trust = trust
        self._cache: OrderedDict[bytes, list[_BlockCheck]] = OrderedDict()
        self._max_cached = max_cached_blocks
        self.stats = VerifierStats()

    # -- entry points ---------------------------------------------------------------------------
    def verify(
        self, bundle: bytes | str | Mapping[str, Any], *, source: str | None = None
    ) -> VerificationResult:
        """Verify a bundle (JSON bytes/text, or already-parsed JSON). Never raises for a bad
        bundle: problems are in the result."""
        data = bundle
        if isinstance(bundle, (bytes, bytearray, str)):
            try:
                data = json.loads(bundle)
            except (ValueError, RecursionError) as exc:
                return VerificationResult(error=f"bundle is not valid JSON: {exc}", source=source)
        if not isinstance(data, Mapping):
            return VerificationResult(error="bundle must be a JSON object", source=source)
        fmt = data.get("format")
        if isinstance(fmt, str) and fmt in RETIRED_FORMATS:
            return VerificationResult(
                error=(
                    f"bundle format {fmt!r} is no longer supported: it is for "
                    f"{RETIRED_FORMATS[fmt]}; this verifier checks {BUNDLE_FORMAT} (record keys "
                    "on chain are commitments) — fetch the bundle again from the service"
                ),
                source=source,
            )
        if fmt != BUNDLE_FORMAT:
            what = "has no format field" if fmt is None else f"has format {fmt!r}"
            return VerificationResult(
                error=f"not a {BUNDLE_FORMAT} evidence bundle: it {what}", source=source
            )
        records, block_list = data.get("records"), data.get("blocks")
        if not isinstance(records, list):
            return VerificationResult(error="bundle field 'records' must be a list", source=source)
        if not isinstance(block_list, list):
            return VerificationResult(error="bundle field 'blocks' must be a list", source=source)
        by_number: dict[int, Mapping[str, Any]] = {}
        for i, b in enumerate(block_list):
            number = b.get("number") if isinstance(b, Mapping) else None
            if not _is_int(number) or number < 0:
                return VerificationResult(
                    error=f"blocks[{i}]: 'number' must be a non-negative integer", source=source
                )
            assert isinstance(b, Mapping)
            if number in by_number:
                return VerificationResult(error=f"block {number} appears twice", source=source)
            by_number[number] = b
        local: dict[int, tuple[_BlockCheck, dict[str, int] | str]] = {}
        outcomes = tuple(self._record_safely(i, r, by_number, local) for i, r in enumerate(records))
        for block, _ in local.values():
            block.decoded.clear()  # entries listed but not used by any record
        return VerificationResult(records=outcomes, source=source)

    def verify_file(self, path: str | Path) -> VerificationResult:
        """Verify a bundle file; an unreadable file is a bundle-level error."""
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            return VerificationResult(error=f"cannot read bundle: {exc}", source=str(path))
        return self.verify(raw, source=str(path))

    # -- one record -----------------------------------------------------------------------------
    def _record_safely(
        self,
        position: int,
        raw: object,
        by_number: Mapping[int, Mapping[str, Any]],
        local: dict[int, tuple[_BlockCheck, dict[str, int] | str]],
    ) -> RecordOutcome:
        """:meth:`_record`, failing closed: an unexpected error is a failed record, never an
        exception out of :meth:`verify`."""
        try:
            return self._record(position, raw, by_number, local)
        except Exception as exc:  # a verifier must not crash on hostile input: fail closed
            label = raw.get("record_id") if isinstance(raw, Mapping) else None
            rid = label if isinstance(label, str) else f"records[{position}]"
            why = f"verification error: {type(exc).__name__}: {exc}"
            return RecordOutcome(
                record_id=rid,
                steps=(
                    StepResult(Step.FORMAT, _F, why),
                    *_not_checked(tuple(Step)[1:], "verification stopped (step 0)"),
                ),
            )

    def _record(
        self,
        position: int,
        raw: object,
        by_number: Mapping[int, Mapping[str, Any]],
        local: dict[int, tuple[_BlockCheck, dict[str, int] | str]],
    ) -> RecordOutcome:
        self.stats.records_checked += 1
        entry = _parse_entry(raw)
        if isinstance(entry, str):
            label = raw.get("record_id") if isinstance(raw, Mapping) else None
            rid = label if isinstance(label, str) else f"records[{position}]"
            steps = (
                StepResult(Step.FORMAT, _F, entry),
                *_not_checked(tuple(Step)[1:], "the record entry is malformed (step 0)"),
            )
            return RecordOutcome(record_id=rid, steps=steps)

        s1 = self._step_content(entry)
        redacted = s1.status is _S
        header_hash: str | None = None
        s2 = s3 = s4 = s5 = s6 = None
        block_entry = by_number.get(entry.block_number)
        if block_entry is None:
            s5 = StepResult(Step.BLOCK, _F, f"the bundle carries no block {entry.block_number}")
            why = f"block {entry.block_number} is missing (step 5)"
            s2 = s3 = s4 = s6 = None
            steps = (s1, *_not_checked((Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT), why), s5)
            steps = (*steps, StepResult(Step.ORDERER, _N, why))
            return _outcome(entry, steps, redacted, None)

        got = local.get(entry.block_number)
        if got is None:
            indexes = _tx_indexes(block_entry)
            wanted = frozenset(indexes.values()) if isinstance(indexes, dict) else frozenset()
            got = (self._block(block_entry, wanted), indexes)
            local[entry.block_number] = got
        block, tx_indexes = got
        header_hash = block.header_hash
        if block.format_error is not None:
            why = f"block {entry.block_number} is malformed (step 5)"
            steps = (
                s1,
                *_not_checked((Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT), why),
                StepResult(Step.BLOCK, _F, block.format_error),
                StepResult(Step.ORDERER, _N, why),
            )
            return _outcome(entry, steps, redacted, header_hash)

        s6 = self._step_orderer(block)
        tx_index = tx_indexes.get(entry.tx_id) if isinstance(tx_indexes, dict) else None
        if tx_index is None:
            why = (
                tx_indexes
                if isinstance(tx_indexes, str)
                else f"block {entry.block_number} lists no transaction {short_hex(entry.tx_id)}"
            )
            s5 = StepResult(Step.BLOCK, _F, why)
            nc = f"the transaction is not located in block {entry.block_number} (step 5)"
            steps = (s1, *_not_checked((Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT), nc), s5, s6)
            return _outcome(entry, steps, redacted, header_hash)
        if not 0 <= tx_index < len(block.data):
            s5 = StepResult(
                Step.BLOCK,
                _F,
                f"tx_index {tx_index} is outside block {entry.block_number} "
                f"({len(block.data)} data entries)",
            )
            nc = f"the transaction is not located in block {entry.block_number} (step 5)"
            steps = (s1, *_not_checked((Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT), nc), s5, s6)
            return _outcome(entry, steps, redacted, header_hash)

        tx = block.txs.get(tx_index)
        if tx is None:
            tx = self._tx(block, tx_index)
            block.txs[tx_index] = tx
        s5 = self._step_block(entry, block, tx, tx_index)
        if tx.parse_error is not None or tx.tx_id != entry.tx_id:
            nc = (
                "the transaction cannot be decoded (step 5)"
                if tx.parse_error is not None
                else f"data entry {tx_index} is not the transaction (step 5)"
            )
            steps = (s1, *_not_checked((Step.MERKLE, Step.WRITE_SET, Step.ENDORSEMENT), nc), s5, s6)
            return _outcome(entry, steps, redacted, header_hash)
        s4 = (
            StepResult(Step.ENDORSEMENT, _P, _endorsed_text(tx))
            if tx.endorsement_error is None
            else StepResult(Step.ENDORSEMENT, _F, tx.endorsement_error)
        )
        s3, chain_batch = self._step_write_set(entry, tx)
        s2 = self._step_merkle(entry, chain_batch)
        if s6.status is _P and tx.timestamp is not None:
            for orderer in block.orderers:
                late = orderer.check_valid_at(tx.timestamp)
                if late is not None:
                    s6 = StepResult(Step.ORDERER, _F, late)
                    break
        return _outcome(entry, (s1, s2, s3, s4, s5, s6), redacted, header_hash)

    # -- step 1 ---------------------------------------------------------------------------------
    def _step_content(self, e: _Entry) -> StepResult:
        if e.content is None:
            return StepResult(Step.CONTENT, _S, "redacted: content and salt are not in the bundle")
        try:
            content = e.content.encode("utf-8")
        except UnicodeEncodeError:
            return StepResult(Step.CONTENT, _F, "content is not valid Unicode text")
        assert e.salt is not None
        calculated = hashlib.sha256(bytes.fromhex(e.salt) + content).hexdigest()
        if not hmac.compare_digest(calculated, e.commitment):
            return StepResult(
                Step.CONTENT,
                _F,
                f"SHA-256(salt ‖ content) {short_hex(calculated)} != "
                f"bundle commitment {short_hex(e.commitment)}",
            )
        try:
            record = parse_record(content)
        except ValidationError as exc:
            return StepResult(Step.CONTENT, _F, f"content is not a valid record: {exc}")
        except (ValueError, RecursionError) as exc:  # anything else the parser may raise
            return StepResult(Step.CONTENT, _F, f"content cannot be parsed: {exc}")
        if record.record_id != e.record_id:
            return StepResult(
                Step.CONTENT, _F, f"content is record {record.record_id!r}, not {e.record_id!r}"
            )
        return StepResult(
            Step.CONTENT, _P, f"{record.kind.value} record; commitment = SHA-256(salt ‖ content)"
        )

    # -- step 2 ---------------------------------------------------------------------------------
    def _step_merkle(self, e: _Entry, batch: _ChainBatch | None) -> StepResult:
        if batch is None:
            return StepResult(
                Step.MERKLE, _N, "no batch root on chain for this record to check against (step 3)"
            )
        if e.tree_size != batch.size:
            return StepResult(
                Step.MERKLE,
                _F,
                f"bundle tree_size {e.tree_size} != chain batch size {batch.size}",
            )
        try:
            verify_inclusion(
                e.leaf_index,
                batch.size,
                commitment_leaf_hash(bytes.fromhex(e.commitment)),
                _split32(bytes.fromhex("".join(e.proof))),
                batch.root,
            )
        except RootMismatch as exc:
            return StepResult(
                Step.MERKLE,
                _F,
                f"the proof for leaf {e.leaf_index} of {batch.size} leads to root "
                f"{short_hex(exc.calculated)}, not the chain's batch root {short_hex(batch.root)}",
            )
        except ProofError as exc:
            return StepResult(Step.MERKLE, _F, f"malformed proof: {exc}")
        return StepResult(
            Step.MERKLE, _P, f"leaf {e.leaf_index} of {batch.size} -> root {short_hex(batch.root)}"
        )

    # -- step 3 ---------------------------------------------------------------------------------
    def _step_write_set(self, e: _Entry, tx: _TxCheck) -> tuple[StepResult, _ChainBatch | None]:
        pinned = self.trust.chaincode
        if pinned is not None and e.chaincode != pinned:
            return (
                StepResult(
                    Step.WRITE_SET, _F, f"chaincode {e.chaincode!r} is not the trusted {pinned!r}"
                ),
                None,
            )
        if tx.chaincode != e.chaincode:
            return (
                StepResult(
                    Step.WRITE_SET,
                    _F,
                    f"the transaction invokes chaincode {tx.chaincode!r}, not {e.chaincode!r}",
                ),
                None,
            )
        if tx.response_status != 200:
            return (
                StepResult(
                    Step.WRITE_SET, _F, f"the chaincode response status is {tx.response_status}"
                ),
                None,
            )
        writes = tx.writes(e.chaincode)
        if writes is None:
            return (
                StepResult(
                    Step.WRITE_SET,
                    _F,
                    f"the transaction writes nothing in namespace {e.chaincode!r}",
                ),
                None,
            )
        # The record's on-chain key is its commitment: step 1 binds content + salt to it.
        write = writes.get(record_key(bytes.fromhex(e.commitment)))
        if write is None or write.is_delete:
            # No record on chain in this transaction: no batch root to check the proof against.
            return (
                StepResult(
                    Step.WRITE_SET,
                    _F,
                    f"the write set of tx {short_hex(e.tx_id)} has no key for the record",
                ),
                None,
            )
        try:
            chain_record: RecordValue | None = decode_record_value(write.value)
        except OnChainFormatError:
            chain_record = None
        if chain_record != (e.leaf_index, e.batch_id):
            mismatch, chain_batch_id = _record_value_mismatch(e, write.value)
            chain_batch = None
            if chain_batch_id is not None:
                found = tx.batch(e.chaincode, chain_batch_id)
                chain_batch = found if isinstance(found, _ChainBatch) else None
            return StepResult(Step.WRITE_SET, _F, mismatch), chain_batch
        batch = tx.batch(e.chaincode, e.batch_id)
        if isinstance(batch, str):
            return StepResult(Step.WRITE_SET, _F, batch), None
        return (
            StepResult(
                Step.WRITE_SET,
                _P,
                f"record key -> commitment {short_hex(e.commitment)}, batch {e.batch_id!r}, "
                f"leaf {e.leaf_index}; batch key -> root {short_hex(batch.root)}, "
                f"size {batch.size}",
            ),
            batch,
        )

    # -- step 5 ---------------------------------------------------------------------------------
    def _step_block(self, e: _Entry, block: _BlockCheck, tx: _TxCheck, index: int) -> StepResult:
        if block.data_error is not None:
            return StepResult(Step.BLOCK, _F, block.data_error)
        if tx.parse_error is not None:
            return StepResult(Step.BLOCK, _F, tx.parse_error)
        if tx.tx_id != e.tx_id:
            return StepResult(
                Step.BLOCK,
                _F,
                f"data entry {index} of block {block.number} is tx {short_hex(tx.tx_id)}, "
                f"not {short_hex(e.tx_id)}",
            )
        if tx.channel_id != e.channel:
            return StepResult(
                Step.BLOCK,
                _F,
                f"the transaction is on channel {tx.channel_id!r}, not {e.channel!r}",
            )
        pinned = self.trust.channel
        if pinned is not None and tx.channel_id != pinned:
            return StepResult(
                Step.BLOCK, _F, f"channel {tx.channel_id!r} is not the trusted {pinned!r}"
            )
        if tx.tx_error is not None:
            return StepResult(Step.BLOCK, _F, tx.tx_error)
        return StepResult(
            Step.BLOCK, _P, f"tx {index} of block {block.number}, VALID; data hash matches"
        )

    # -- step 6 ---------------------------------------------------------------------------------
    @staticmethod
    def _step_orderer(block: _BlockCheck) -> StepResult:
        if block.orderer_error is not None:
            return StepResult(Step.ORDERER, _F, block.orderer_error)
        signers = ", ".join(o.subject for o in block.orderers)
        return StepResult(
            Step.ORDERER,
            _P,
            f"block {block.number} signed by {signers}; "
            f"header hash {short_hex(block.header_hash or '')}",
        )

    # -- block level (cached) ------------------------------------------------------------------
    def _block(self, entry: Mapping[str, Any], wanted: frozenset[int]) -> _BlockCheck:
        """The checks of a block entry: from the cache when this verifier has seen exactly
        this entry before (same header and metadata, and the same data entries, compared in
        full), else computed and remembered."""
        number = entry["number"]
        try:
            parts = _block_parts(entry)
        except _Malformed as exc:
            return _BlockCheck(number=number, format_error=f"block {number}: {exc}")
        key = _block_key(parts)
        candidates = self._cache.get(key)
        if candidates is not None:
            self._cache.move_to_end(key)
            for cached in candidates:
                if cached.data == parts[1]:  # length + memcmp of each entry: exact match
                    self.stats.block_cache_hits += 1
                    return cached
        check = self._check_block(number, parts, wanted)
        self.stats.blocks_checked += 1
        if candidates is None:
            self._cache[key] = [check]
            if len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        else:  # same header, other data (a forgery, or a fork): keep the newest two
            candidates[:] = [check, *candidates[:1]]
        return check

    def _check_block(self, number: int, parts: _BlockParts, wanted: frozenset[int]) -> _BlockCheck:
        (_, previous_hex, data_hash_hex, signatures_b64, filter_b64), data = parts
        check = _BlockCheck(number=number, data=data)
        previous_hash = bytes.fromhex(previous_hex)
        data_hash = bytes.fromhex(data_hash_hex)
        digest = hashlib.sha256()
        try:
            for i, item in enumerate(data):
                raw = _b64(item, f"data[{i}]")
                digest.update(raw)
                if i in wanted:  # about to be decoded as a transaction: keep, don't re-decode
                    check.decoded[i] = raw
            signatures = _b64(signatures_b64, "metadata.signatures")
            check.codes = _b64(filter_b64, "metadata.transactions_filter")
        except _Malformed as exc:
            check.format_error = f"block {number}: {exc}"
            return check
        header = block_header_bytes(number, previous_hash, data_hash)
        check.header_hash = hashlib.sha256(header).hexdigest()
        calculated = digest.digest()  # = blocks.block_data_hash(decoded data entries)
        if not hmac.compare_digest(calculated, data_hash):
            check.data_error = (
                f"block {number}: SHA-256 of its {len(data)} data entries "
                f"{short_hex(calculated)} != header data_hash {short_hex(data_hash)}"
            )
        check.orderer_error, check.orderers = self._check_orderers(number, signatures, header)
        return check

    def _check_orderers(
        self, number: int, signatures: bytes, header: bytes
    ) -> tuple[str | None, tuple[TrustedIdentity, ...]]:
        try:
            metadata = common_pb2.Metadata.FromString(signatures)
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
                creator = common_pb2.SignatureHeader.FromString(sig.signature_header).creator
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

    # -- transaction level (cached inside the block) --------------------------------------------
    def _tx(self, block: _BlockCheck, index: int) -> _TxCheck:
        self.stats.transactions_checked += 1
        tx = _TxCheck(index=index)
        where = f"data entry {index} of block {block.number}"
        try:
            raw = block.decoded.pop(index, None)
            if raw is None:
                raw = _b64(block.data[index], "data")
            # protobuf bytes fields are copied on every access: read each big one once
            envelope = common_pb2.Envelope.FromString(raw)
            payload_bytes = envelope.payload
            payload = common_pb2.Payload.FromString(payload_bytes)
            channel_header_bytes = payload.header.channel_header
            channel_header = common_pb2.ChannelHeader.FromString(channel_header_bytes)
            signature_header = common_pb2.SignatureHeader.FromString(
                payload.header.signature_header
            )
            creator = signature_header.creator
        except (DecodeError, _Malformed) as exc:
            tx.parse_error = f"{where} is not a transaction envelope: {exc}"
            return tx
        try:
            tx.creator_msp = identities_pb2.SerializedIdentity.FromString(creator).mspid
        except DecodeError:
            tx.creator_msp = ""
        tx.tx_id = channel_header.tx_id
        tx.channel_id = channel_header.channel_id
        tx.header_type = channel_header.type
        try:
            tx.timestamp = _timestamp(channel_header.timestamp)
        except _Malformed as exc:
            tx.parse_error = f"{where}: {exc}"
            return tx
        if tx.header_type != _ENDORSER_TRANSACTION:
            tx.parse_error = (
                f"{where} is a {blocks.header_type_name(tx.header_type)} transaction, "
                "not ENDORSER_TRANSACTION"
            )
            return tx
        try:
            transaction = transaction_pb2.Transaction.FromString(payload.data)
            if len(transaction.actions) != 1:
                raise _Malformed(
                    f"{where} has {len(transaction.actions)} actions, expected exactly 1"
                )
            action = transaction.actions[0]
            action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
            endorsed = action_payload.action
            prp_bytes = endorsed.proposal_response_payload
            prp = proposal_response_pb2.ProposalResponsePayload.FromString(prp_bytes)
            cc_action = proposal_pb2.ChaincodeAction.FromString(prp.extension)
            rwset = rwset_pb2.TxReadWriteSet.FromString(cc_action.results)
        except DecodeError as exc:
            tx.parse_error = f"{where}: the transaction does not decode: {exc}"
            return tx
        except _Malformed as exc:
            tx.parse_error = str(exc)
            return tx
        tx.chaincode = cc_action.chaincode_id.name
        tx.response_status = cc_action.response.status
        tx.rwsets = {ns.namespace: ns.rwset for ns in rwset.ns_rwset}

        # step 5, transaction part
        code = block.codes[index] if index < len(block.codes) else None
        expected_id = hashlib.sha256(signature_header.nonce + creator).hexdigest()
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
        bound = hashlib.sha256(channel_header_bytes)
        bound.update(action.header)
        bound.update(action_payload.chaincode_proposal_payload)
        tx.endorsement_error = self._check_endorsements(
            tx,
            endorsed.endorsements,
            prp_bytes,
            proposal_hash=prp.proposal_hash,
            bound=bound.digest(),
        )
        if tx.endorsement_error is None:
            tx.endorsement_error = self._check_creator(
                tx, creator, envelope.signature, payload_bytes
            )
        return tx

    def _check_endorsements(
        self,
        tx: _TxCheck,
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
        quorum = self.trust.endorsement_quorum
        if len(orgs) < quorum:
            total = len(self.trust.application_msps)
            by = ", ".join(orgs) or "nobody"
            return (
                f"endorsed by {len(orgs)} of {total} application orgs ({by}); "
                f"MAJORITY needs {quorum}"
            )
        if not hmac.compare_digest(proposal_hash, bound):
            return (
                "the endorsed proposal hash does not match this transaction's header and "
                "proposal payload"
            )
        return None

    def _check_creator(
        self, tx: _TxCheck, creator: bytes, signature: bytes, payload: bytes
    ) -> str | None:
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


def verify_bundle(
    bundle: bytes | str | Mapping[str, Any], trust: TrustStore | str | Path
) -> VerificationResult:
    """Verify one bundle with a fresh :class:`Verifier` (``trust``: a store or a trust dir)."""
    store = trust if isinstance(trust, TrustStore) else TrustStore.load(trust)
    return Verifier(store).verify(bundle)


# -- parsing helpers ---------------------------------------------------------------------------


def _not_checked(steps: tuple[Step, ...], why: str) -> tuple[StepResult, ...]:
    return tuple(StepResult(s, _N, why) for s in steps)


def _outcome(
    e: _Entry, steps: tuple[StepResult, ...], redacted: bool, header_hash: str | None
) -> RecordOutcome:
    return RecordOutcome(
        record_id=e.record_id,
        steps=tuple(sorted(steps, key=lambda s: s.step)),
        redacted=redacted,
        batch_id=e.batch_id,
        tx_id=e.tx_id,
        block_number=e.block_number,
        block_header_hash=header_hash,
    )


def _endorsed_text(tx: _TxCheck) -> str:
    return (
        f"endorsed by a MAJORITY of orgs; creator {tx.creator_msp} signed tx {short_hex(tx.tx_id)}"
    )


def _record_value_mismatch(e: _Entry, value: bytes) -> tuple[str, str | None]:
    """Why the record key's value differs from the bundle's claims, and the batch id the
    chain names for the record (``None`` if unreadable)."""
    try:
        leaf_index, named = decode_record_value(value)
    except OnChainFormatError as exc:
        return f"the record key's value on chain is not in the record layout: {exc}", None
    if named != e.batch_id:
        why = f"chain batch id {named!r} != bundle batch id {e.batch_id!r}"
    else:
        why = f"chain leaf index {leaf_index} != bundle leaf index {e.leaf_index}"
    return why, named


_BlockParts = tuple[list[str], list[str]]


def _block_parts(entry: Mapping[str, Any]) -> _BlockParts:
    """The text fields the block checks depend on (not the 'transactions' hints), type-checked."""
    try:
        metadata = entry["metadata"]
        parts = [
            str(entry["number"]),
            entry["previous_hash"],
            entry["data_hash"],
            metadata["signatures"],
            metadata["transactions_filter"],
        ]
        data = entry["data"]
    except (KeyError, TypeError) as exc:
        raise _Malformed(f"missing field {exc}") from None
    if not isinstance(data, list):
        raise _Malformed("'data' must be a list")
    for name, value in zip(("previous_hash", "data_hash"), parts[1:3], strict=True):
        if not _hex32(value):
            raise _Malformed(f"'{name}' must be 64 lowercase hex digits")
    for name, value in zip(("signatures", "transactions_filter"), parts[3:], strict=True):
        if not isinstance(value, str):
            raise _Malformed(f"'metadata.{name}' must be base64 text")
    for item in data:
        if not isinstance(item, str):
            raise _Malformed("every 'data' entry must be base64 text")
    return parts, data


def _block_key(parts: _BlockParts) -> bytes:
    """Cache key of a block entry: SHA-256 over its header and metadata fields and the number
    of its data entries (the data entries themselves are compared in full on a hit)."""
    fields, data = parts
    text = "\n".join([*fields, str(len(data))])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _tx_indexes(entry: Mapping[str, Any]) -> dict[str, int] | str:
    listed = entry.get("transactions")
    number = entry.get("number")
    if not isinstance(listed, list):
        return f"block {number}: 'transactions' must be a list"
    out: dict[str, int] = {}
    for i, item in enumerate(listed):
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("tx_id"), str)
            or not _is_int(item.get("tx_index"))
        ):
            return f"block {number}: transactions[{i}] must be {{tx_id, tx_index}}"
        out[item["tx_id"]] = item["tx_index"]
    return out


def _parse_entry(raw: object) -> _Entry | str:
    """The record entry's fields, or what is wrong with them (step 0)."""
    if not isinstance(raw, Mapping):
        return "a record entry must be a JSON object"
    rid = raw.get("record_id")
    if not isinstance(rid, str) or _ID.fullmatch(rid) is None:
        return "record_id must be a record id ([A-Za-z0-9._:-], 1-128 characters)"
    commitment = raw.get("commitment")
    if not _hex32(commitment):
        return f"commitment must be {2 * COMMITMENT_BYTES} lowercase hex digits"
    content, salt = raw.get("content"), raw.get("salt")
    if (content is None) != (salt is None):
        return "content and salt must both be present (full) or both absent (redacted)"
    if content is not None and not isinstance(content, str):
        return "content must be a string (the record's canonical JSON)"
    if salt is not None and not _hex32(salt):
        return f"salt must be {2 * SALT_BYTES} lowercase hex digits"
    merkle, anchor = raw.get("merkle"), raw.get("anchor")
    if not isinstance(merkle, Mapping):
        return "merkle must be an object {leaf_index, tree_size, proof}"
    leaf_index, tree_size, proof = (
        merkle.get("leaf_index"),
        merkle.get("tree_size"),
        merkle.get("proof"),
    )
    if not _is_int(leaf_index) or leaf_index < 0:
        return "merkle.leaf_index must be a non-negative integer"
    if not _is_int(tree_size) or tree_size < 1:
        return "merkle.tree_size must be a positive integer"
    if not isinstance(proof, list) or not _hex_hashes(proof):
        return "merkle.proof must be a list of 64-hex-digit hashes"
    if not isinstance(anchor, Mapping):
        return "anchor must be an object {channel, chaincode, batch_id, tx_id, block_number}"
    channel, chaincode, batch_id, tx_id, block_number = (
        anchor.get("channel"),
        anchor.get("chaincode"),
        anchor.get("batch_id"),
        anchor.get("tx_id"),
        anchor.get("block_number"),
    )
    if not isinstance(channel, str) or not channel:
        return "anchor.channel must be a non-empty string"
    if not isinstance(chaincode, str) or not chaincode:
        return "anchor.chaincode must be a non-empty string"
    if not isinstance(tx_id, str) or not tx_id:
        return "anchor.tx_id must be a non-empty string"
    if not isinstance(batch_id, str) or _ID.fullmatch(batch_id) is None:
        return "anchor.batch_id must be a batch id ([A-Za-z0-9._:-], 1-128 characters)"
    if not _is_int(block_number) or block_number < 0:
        return "anchor.block_number must be a non-negative integer"
    return _Entry(
        record_id=rid,
        commitment=commitment,
        content=content,
        salt=salt,
        leaf_index=leaf_index,
        tree_size=tree_size,
        proof=proof,
        channel=channel,
        chaincode=chaincode,
        batch_id=batch_id,
        tx_id=tx_id,
        block_number=block_number,
    )
