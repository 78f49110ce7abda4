"""Offline verification of evidence bundles against a trust directory: the numbered steps.

Pure: no network, no index — only the bundle and the org CA certificates. The bundle's
shape is parsed first (:mod:`.bundle`: strict JSON, typed entries; a malformed record entry
fails step 0), the Fabric bytes are decoded and their signatures checked once per block
and transaction (:mod:`.fabric_checks`, remembered across bundles by :mod:`.block_cache`),
then each record runs the steps of docs/evidence-format.md ("Verification") in order:
1 content (SHA-256(salt ‖ content) = commitment; skipped when redacted; for an erased
record: its erasure record, :mod:`.erasure_checks`), 2 merkle (against
the root and size the chain's batch key holds), 3 write set (record and batch keys, byte for
byte; no key written twice), 4 endorsement (:class:`EndorsementPolicy`, proposal binding,
creator), 5 block (data hash, tx id, channel, VALID flag), 6 orderer (block signatures).
A lineage bundle's graph is then held against the nodes' verified content
(:mod:`.lineage_checks`). A checkpoint-form bundle (``credit-ledger-evidence/5``) has its own
steps (:mod:`.checkpoint_verifier`) over the same Fabric checks.

Every step is evaluated when its inputs are there, so a result shows *all* failing steps;
:attr:`RecordOutcome.failure` is the lowest-numbered one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credit_ledger_verify.access_entry import parse_access_entry
from credit_ledger_verify.errors import ProofError, RootMismatch, ValidationError
from credit_ledger_verify.evidence.binary_form import decode_cbor_bundle, is_cbor_bundle
from credit_ledger_verify.evidence.block_cache import BlockCache
from credit_ledger_verify.evidence.bundle import (
    BlockEntry,
    BundleShapeError,
    MalformedRecord,
    RecordEntry,
    load_json,
    parse_bundle,
)
from credit_ledger_verify.evidence.chain_record import OnChain, read_chain_record
from credit_ledger_verify.evidence.checkpoint_verifier import CheckpointVerification
from credit_ledger_verify.evidence.erasure_checks import apply_erasures
from credit_ledger_verify.evidence.fabric_checks import (
    BlockCheck,
    FabricChecks,
    TxCheck,
    VerifierStats,
)
from credit_ledger_verify.evidence.lineage_checks import check_lineage_safely
from credit_ledger_verify.evidence.model import (
    CHECKPOINT_BUNDLE_FORMAT,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
    VerificationResult,
    short_hex,
)
from credit_ledger_verify.evidence.policy import EndorsementPolicy
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.merkle import commitment_leaf_hash, verify_inclusion
from credit_ledger_verify.records import parse_record
from credit_ledger_verify.tlog.checkpoint import CheckpointPolicy

__all__ = ["Verifier", "VerifierStats", "verify_bundle"]

_P, _F, _S, _N = StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.NOT_CHECKED


@dataclass(slots=True)
class _Located:
    """Where a record's anchor leads: the checked block, and the transaction if found."""

    block: BlockCheck | None = None
    tx: TxCheck | None = None
    #: step 5 failure when the transaction cannot be used (block missing, malformed, …)
    problem: str | None = None


class Verifier:
    """Verifies bundles against one trust store; reuse it to share the block cache."""

    def __init__(
        self,
        trust: TrustStore,
        *,
        policy: EndorsementPolicy | None = None,
        max_cached_blocks: int = 16,
        checkpoint_policy: CheckpointPolicy | None = None,
        checkpoint_chain: bool = True,
    ) -> None:
        """``checkpoint_policy``: the log key (and witness keys) checkpoint-form bundles are
        checked against; ``checkpoint_chain=False`` trusts a checkpoint on those signatures
        alone, without its anchoring transaction (docs/evidence-format.md §8)."""
        self.trust = trust
        self.policy = policy or EndorsementPolicy.majority()
        self.stats = VerifierStats()
        self._fabric = FabricChecks(trust, self.policy, self.stats)
        self._cache = BlockCache(max_cached_blocks)
        self._checkpoints = CheckpointVerification(
            trust, self._fabric, checkpoint_policy, chain=checkpoint_chain
        )

    # -- entry points ---------------------------------------------------------------------------
    def verify(
        self, bundle: bytes | str | Mapping[str, Any], *, source: str | None = None
    ) -> VerificationResult:
        """Verify a bundle (UTF-8 JSON bytes/text, CBOR bytes of the checkpoint form, or an
        already-parsed object). Never raises for a bad bundle: problems are in the result."""
        try:
            if isinstance(bundle, Mapping):
                obj: Any = bundle
            elif isinstance(bundle, (bytes, bytearray)) and is_cbor_bundle(bundle):
                obj = decode_cbor_bundle(bundle)
                if obj.get("format") != CHECKPOINT_BUNDLE_FORMAT:
                    raise BundleShapeError(
                        f"the CBOR serialisation is defined for {CHECKPOINT_BUNDLE_FORMAT} only"
                    )
            else:
                obj = load_json(bundle)
            if not isinstance(obj, Mapping):
                raise BundleShapeError("bundle must be a JSON object")
            if obj.get("format") == CHECKPOINT_BUNDLE_FORMAT:
                return self._checkpoints.verify(obj, source)
            parsed = parse_bundle(obj)
        except BundleShapeError as exc:
            return VerificationResult(error=str(exc), source=source)
        local: dict[int, BlockCheck] = {}
        outcomes = apply_erasures(
            parsed.records,
            tuple(self._record_safely(entry, parsed.blocks, local) for entry in parsed.records),
            self.trust,
        )
        for block in local.values():
            block.decoded.clear()  # entries listed but not used by any record
        self.stats.block_cache_hits = self._cache.hits
        lineage = (
            None
            if parsed.lineage is None
            else check_lineage_safely(parsed.lineage, parsed.records, outcomes)
        )
        return VerificationResult(records=outcomes, source=source, lineage=lineage)

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
        entry: RecordEntry | MalformedRecord,
        blocks: Mapping[int, BlockEntry],
        local: dict[int, BlockCheck],
    ) -> RecordOutcome:
        """:meth:`_record`, failing closed: an unexpected error is a failed record, never an
        exception out of :meth:`verify`."""
        self.stats.records_checked += 1
        if isinstance(entry, MalformedRecord):
            return _malformed(entry.record_id, entry.reason, "the record entry is malformed")
        try:
            return self._record(entry, blocks, local)
        except Exception as exc:  # a verifier must not crash on hostile input: fail closed
            why = f"verification error: {type(exc).__name__}: {exc}"
            return _malformed(entry.record_id, why, "verification stopped")

    def _record(
        self, e: RecordEntry, blocks: Mapping[int, BlockEntry], local: dict[int, BlockCheck]
    ) -> RecordOutcome:
        located = self._locate(e, blocks, local)
        on_chain = (
            None if located.tx is None else read_chain_record(e, located.tx, self.trust.chaincode)
        )
        steps = (
            self._step1_content(e),
            self._step2_merkle(e, on_chain),
            self._step3_write_set(on_chain),
            self._step4_endorsement(located),
            self._step5_block(e, located),
            self._step6_orderer(located),
        )
        block = located.block
        return RecordOutcome(
            record_id=e.record_id,
            steps=steps,
            redacted=e.content is None,
            batch_id=e.batch_id,
            tx_id=e.tx_id,
            block_number=e.block_number,
            block_header_hash=None if block is None else block.header_hash,
            block_time=None if located.tx is None else located.tx.timestamp,
        )

    def _locate(
        self, e: RecordEntry, blocks: Mapping[int, BlockEntry], local: dict[int, BlockCheck]
    ) -> _Located:
        """The block and transaction the record's anchor names, checked (cached)."""
        entry = blocks.get(e.block_number)
        if entry is None:
            return _Located(problem=f"the bundle carries no block {e.block_number}")
        block = local.get(e.block_number)
        if block is None:
            indexes = entry.tx_indexes or {}
            wanted = frozenset(indexes.values())
            block = self._cache.get_or_check(entry, lambda: self._fabric.block(entry, wanted))
            local[e.block_number] = block
        if block.format_error is not None:
            return _Located(block=block, problem=block.format_error)
        if entry.tx_indexes is None:
            return _Located(block=block, problem=entry.transactions_error)
        index = entry.tx_indexes.get(e.tx_id)
        if index is None:
            why = f"block {e.block_number} lists no transaction {short_hex(e.tx_id)}"
            return _Located(block=block, problem=why)
        if not 0 <= index < len(block.data):
            why = (
                f"tx_index {index} is outside block {e.block_number} "
                f"({len(block.data)} data entries)"
            )
            return _Located(block=block, problem=why)
        tx = self._fabric.transaction(block, index)
        if tx.parse_error is not None:
            return _Located(block=block, problem=tx.parse_error)
        if tx.tx_id != e.tx_id:
            why = (
                f"data entry {index} of block {block.number} is tx {short_hex(tx.tx_id)}, "
                f"not {short_hex(e.tx_id)}"
            )
            return _Located(block=block, problem=why)
        return _Located(block=block, tx=tx)

    # -- step 1 ---------------------------------------------------------------------------------
    @staticmethod
    def _step1_content(e: RecordEntry) -> StepResult:
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
        if e.access_entry_id is not None:
            return _access_content(e.access_entry_id, content)
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
    @staticmethod
    def _step2_merkle(e: RecordEntry, on_chain: OnChain | None) -> StepResult:
        if on_chain is None:
            return StepResult(Step.MERKLE, _N, "the transaction is not located (step 5)")
        batch = on_chain.batch
        if batch is None:
            return StepResult(
                Step.MERKLE, _N, "no batch root on chain for this record to check against (step 3)"
            )
        if e.tree_size != batch.size:
            return StepResult(
                Step.MERKLE, _F, f"bundle tree_size {e.tree_size} != chain batch size {batch.size}"
            )
        try:
            proof = bytes.fromhex("".join(e.proof))
            verify_inclusion(
                e.leaf_index,
                batch.size,
                commitment_leaf_hash(bytes.fromhex(e.commitment)),
                [proof[i : i + 32] for i in range(0, len(proof), 32)],
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
    @staticmethod
    def _step3_write_set(on_chain: OnChain | None) -> StepResult:
        if on_chain is None:
            return StepResult(Step.WRITE_SET, _N, "the transaction is not located (step 5)")
        if on_chain.problem is not None:
            return StepResult(Step.WRITE_SET, _F, on_chain.problem)
        return StepResult(Step.WRITE_SET, _P, on_chain.detail)

    # -- step 4 ---------------------------------------------------------------------------------
    def _step4_endorsement(self, located: _Located) -> StepResult:
        tx = located.tx
        if tx is None:
            return StepResult(Step.ENDORSEMENT, _N, "the transaction is not located (step 5)")
        if tx.endorsement_error is not None:
            return StepResult(Step.ENDORSEMENT, _F, tx.endorsement_error)
        return StepResult(
            Step.ENDORSEMENT,
            _P,
            f"endorsed under {self.policy}; creator {tx.creator_msp} signed tx "
            f"{short_hex(tx.tx_id)}",
        )

    # -- step 5 ---------------------------------------------------------------------------------
    def _step5_block(self, e: RecordEntry, located: _Located) -> StepResult:
        block, tx = located.block, located.tx
        if block is not None and block.data_error is not None:
            return StepResult(Step.BLOCK, _F, block.data_error)
        if located.problem is not None or block is None or tx is None:
            return StepResult(Step.BLOCK, _F, located.problem or "the transaction is not located")
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
            Step.BLOCK, _P, f"tx {tx.index} of block {block.number}, VALID; data hash matches"
        )

    # -- step 6 ---------------------------------------------------------------------------------
    @staticmethod
    def _step6_orderer(located: _Located) -> StepResult:
        block = located.block
        if block is None or block.format_error is not None:
            return StepResult(Step.ORDERER, _N, "the block cannot be read (step 5)")
        if block.orderer_error is not None:
            return StepResult(Step.ORDERER, _F, block.orderer_error)
        tx = located.tx
        if tx is not None and tx.timestamp is not None:
            for orderer in block.orderers:
                late = orderer.check_valid_at(tx.timestamp)
                if late is not None:
                    return StepResult(Step.ORDERER, _F, late)
        signers = ", ".join(o.subject for o in block.orderers)
        return StepResult(
            Step.ORDERER,
            _P,
            f"block {block.number} signed by {signers}; "
            f"header hash {short_hex(block.header_hash or '')}",
        )


def verify_bundle(
    bundle: bytes | str | Mapping[str, Any],
    trust: TrustStore | str | Path,
    *,
    policy: EndorsementPolicy | None = None,
    checkpoint_policy: CheckpointPolicy | None = None,
) -> VerificationResult:
    """Verify one bundle with a fresh :class:`Verifier` (``trust``: a store or a trust dir;
    ``checkpoint_policy``: the log key, for checkpoint-form bundles)."""
    store = trust if isinstance(trust, TrustStore) else TrustStore.load(trust)
    return Verifier(store, policy=policy, checkpoint_policy=checkpoint_policy).verify(bundle)


def _access_content(entry_id: int, content: bytes) -> StepResult:
    """Step 1's last part for an access-log entry: the committed content is an access entry
    (not a record) with this entry id."""
    try:
        entry = parse_access_entry(content)
    except ValidationError as exc:
        return StepResult(Step.CONTENT, _F, f"content is not a valid access-log entry: {exc}")
    except (ValueError, RecursionError) as exc:
        return StepResult(Step.CONTENT, _F, f"content cannot be parsed: {exc}")
    if entry.entry_id != entry_id:
        return StepResult(
            Step.CONTENT, _F, f"content is access-log entry {entry.entry_id}, not {entry_id}"
        )
    return StepResult(
        Step.CONTENT,
        _P,
        f"access-log entry ({entry.query}, purpose {entry.purpose!r}); "
        "commitment = SHA-256(salt ‖ content)",
    )


def _malformed(record_id: str, why: str, stopped: str) -> RecordOutcome:
    return RecordOutcome(
        record_id=record_id,
        steps=(
            StepResult(Step.FORMAT, _F, why),
            *(StepResult(s, _N, f"{stopped} (step 0)") for s in tuple(Step)[1:]),
        ),
    )
