"""The numbered steps of a checkpoint-form bundle (docs/evidence-format.md §8).

Per record: 1 content (the content object's RFC 8785 bytes are the committed bytes,
SHA-256(salt ‖ bytes) the commitment; an object that does not canonicalise fails; skipped
when redacted),
2 inclusion (the leaf at ``leaf_index`` leads to the checkpoint's root at its size). Shared by
every record of the bundle, computed once: 3 checkpoint (the note verifies under the
verifier's :class:`~credit_ledger_verify.tlog.CheckpointPolicy`: the log key, and k witness
cosignatures if required), 4 anchor (an ``AnchorCheckpoint`` transaction wrote exactly this
checkpoint), 5 endorsement, 6 block, 7 orderer — the Fabric checks of
:mod:`.fabric_checks`, the same code as the batch form's. A verifier created with
``checkpoint_chain=False`` trusts a checkpoint on its signatures alone and skips 4–7 (a
policy choice, reported as such on every record).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credit_ledger_verify.canonical import canonicalize
from credit_ledger_verify.errors import (
    CanonicalizationError,
    LedgerError,
    ProofError,
    RootMismatch,
    ValidationError,
)
from credit_ledger_verify.evidence.bundle import BundleShapeError, MalformedRecord
from credit_ledger_verify.evidence.checkpoint_bundle import (
    CheckpointAnchor,
    LogRecordEntry,
    parse_checkpoint_bundle,
)
from credit_ledger_verify.evidence.fabric_checks import BlockCheck, FabricChecks, TxCheck
from credit_ledger_verify.evidence.model import (
    CheckpointStep,
    RecordOutcome,
    StepResult,
    StepStatus,
    VerificationResult,
    short_hex,
)
from credit_ledger_verify.evidence.packed_block import (
    PackedBlockError,
    packing_dictionary,
    unpack_block,
)
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.merkle import commitment_leaf_hash, verify_inclusion
from credit_ledger_verify.onchain import OnChainFormatError
from credit_ledger_verify.onchain_tlog import checkpoint_key, decode_checkpoint_value
from credit_ledger_verify.records import parse_record
from credit_ledger_verify.tlog.checkpoint import (
    Checkpoint,
    CheckpointPolicy,
    parse_checkpoint_text,
    verify_checkpoint,
)
from credit_ledger_verify.tlog.note import parse_note

__all__ = ["CheckpointVerification"]

_S = CheckpointStep
_P, _F, _K, _N = StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.NOT_CHECKED


@dataclass(slots=True)
class _Shared:
    """What every record of one bundle shares: the checkpoint and its anchoring steps."""

    checkpoint: Checkpoint | None
    steps: tuple[StepResult, ...]
    block: BlockCheck | None = None
    tx: TxCheck | None = None


class CheckpointVerification:
    """Verifies checkpoint-form bundles for a :class:`~.verifier.Verifier` (same trust store,
    endorsement policy and Fabric checks)."""

    def __init__(
        self,
        trust: TrustStore,
        fabric: FabricChecks,
        policy: CheckpointPolicy | None,
        *,
        chain: bool,
    ) -> None:
        self.trust = trust
        self.fabric = fabric
        self.policy = policy
        self.chain = chain

    def verify(self, obj: Mapping[str, Any], source: str | None) -> VerificationResult:
        try:
            bundle = parse_checkpoint_bundle(obj)
        except BundleShapeError as exc:
            return VerificationResult(error=str(exc), source=source)
        shared = self._shared(bundle.checkpoint, bundle.anchor)
        records = tuple(self._record_safely(e, shared, bundle.anchor) for e in bundle.records)
        return VerificationResult(records=records, source=source)

    # -- per record (steps 0-2) -----------------------------------------------------------------
    def _record_safely(
        self, entry: LogRecordEntry | MalformedRecord, shared: _Shared, anchor: CheckpointAnchor
    ) -> RecordOutcome:
        self.fabric.stats.records_checked += 1
        if isinstance(entry, MalformedRecord):
            return _malformed(entry.record_id, entry.reason, "the record entry is malformed")
        try:
            content, commitment = _step1_content(entry)
            steps = (content, _step2_inclusion(entry, commitment, shared.checkpoint))
        except Exception as exc:  # a verifier must not crash on hostile input: fail closed
            why = f"verification error: {type(exc).__name__}: {exc}"
            return _malformed(entry.record_id, why, "verification stopped")
        tx, block = shared.tx, shared.block
        return RecordOutcome(
            record_id=entry.record_id,
            steps=steps + shared.steps,
            redacted=entry.content is None,
            tx_id=None if tx is None else tx.tx_id,
            block_number=anchor.block_number,
            block_header_hash=None if block is None else block.header_hash,
            block_time=None if tx is None else tx.timestamp,
        )

    # -- shared (steps 3-7) -----------------------------------------------------------------------
    def _shared(self, note: str, anchor: CheckpointAnchor) -> _Shared:
        try:
            return self._shared_steps(note, anchor)
        except Exception as exc:  # fail closed, as for a record
            why = f"verification error: {type(exc).__name__}: {exc}"
            return _Shared(None, tuple(StepResult(s, _F, why) for s in tuple(_S)[3:]))

    def _shared_steps(self, note: str, anchor: CheckpointAnchor) -> _Shared:
        step3, checkpoint = self._step3_checkpoint(note)
        if checkpoint is None:  # step 3 failed: step 2 still runs against the note's claims
            try:
                checkpoint = parse_checkpoint_text(parse_note(note).text)
            except LedgerError:
                checkpoint = None
        if not self.chain:
            why = (
                "not checked by policy: the checkpoint is trusted on its signatures "
                "(step 3), not on its anchoring transaction"
            )
            return _Shared(checkpoint, (step3, *(StepResult(s, _K, why) for s in tuple(_S)[4:])))
        block, problem = self._block(anchor, note)
        tx: TxCheck | None = None
        if block is not None and problem is None:
            tx = self.fabric.transaction(block, anchor.tx_index)
            if tx.parse_error is not None:
                problem, tx = tx.parse_error, None
        steps = (
            step3,
            self._step4_anchor(note, checkpoint, tx),
            _step5_endorsement(tx, self.fabric),
            self._step6_block(checkpoint, block, tx, problem),
            _step7_orderer(block, tx),
        )
        return _Shared(checkpoint, steps, block, tx)

    def _block(self, anchor: CheckpointAnchor, note: str) -> tuple[BlockCheck | None, str | None]:
        unknown = [m for m in anchor.cas if m not in self.trust.msps]
        if unknown:
            return None, (
                f"anchor.packed is primed with the CA certificates of {unknown[0]!r}, which the "
                "trust directory does not have"
            )
        cas = [der for m in anchor.cas for der in self.trust.ca_certificates_der(m)]
        try:
            data, signatures, codes = unpack_block(
                anchor.packed,
                dictionary=packing_dictionary(cas, note.encode("utf-8", "surrogatepass")),
            )
        except PackedBlockError as exc:
            return None, f"anchor.packed does not unpack: {exc}"
        block = self.fabric.decoded_block(
            anchor.block_number, anchor.previous_hash, data, signatures, codes
        )
        if anchor.tx_index >= len(data):
            why = f"tx_index {anchor.tx_index} is outside block {anchor.block_number} "
            return block, why + f"({len(data)} data entries)"
        return block, None

    def _step3_checkpoint(self, note: str) -> tuple[StepResult, Checkpoint | None]:
        """Step 3, and the checkpoint when it passed (the note then parsed only once)."""
        if self.policy is None:
            why = "no log key configured: the verifier needs the log's key"
            return StepResult(_S.CHECKPOINT, _F, why), None
        try:
            verified = verify_checkpoint(note, self.policy)
        except LedgerError as exc:
            return StepResult(_S.CHECKPOINT, _F, f"checkpoint note: {exc}"), None
        witnesses = ", ".join(c.name for c in verified.cosignatures) or "none required"
        cp = verified.checkpoint
        detail = (
            f"size {cp.size} root {short_hex(cp.root)} signed by the log key; "
            f"cosigned by: {witnesses}"
        )
        return StepResult(_S.CHECKPOINT, _P, detail), cp

    def _step4_anchor(
        self, note: str, checkpoint: Checkpoint | None, tx: TxCheck | None
    ) -> StepResult:
        if tx is None:
            return StepResult(_S.ANCHOR, _N, "the transaction is not located (step 6)")
        if checkpoint is None:
            return StepResult(_S.ANCHOR, _N, "the checkpoint note does not parse (step 3)")
        _, chaincode = _channel_chaincode(checkpoint.origin)
        pinned = self.trust.chaincode
        problem = None
        if tx.chaincode != chaincode:
            problem = f"the transaction invokes chaincode {tx.chaincode!r}, not {chaincode!r}"
        elif pinned is not None and chaincode != pinned:
            problem = f"chaincode {chaincode!r} is not the trusted {pinned!r}"
        elif tx.response_status != 200:
            problem = f"the chaincode answered status {tx.response_status}, not 200"
        elif tx.repeated_namespace is not None:
            problem = f"namespace {tx.repeated_namespace!r} appears twice in the read-write set"
        if problem is not None:
            return StepResult(_S.ANCHOR, _F, problem)
        writes = tx.writes(chaincode)
        if writes is not None and writes.repeated is not None:
            return StepResult(_S.ANCHOR, _F, f"the write set names key {writes.repeated!r} twice")
        key = checkpoint_key(checkpoint.size)
        write = None if writes is None else writes.get(key)
        if write is None or write.is_delete:
            return StepResult(
                _S.ANCHOR, _F, f"the transaction writes no checkpoint of size {checkpoint.size}"
            )
        try:
            value = decode_checkpoint_value(write.value)
        except OnChainFormatError as exc:
            return StepResult(_S.ANCHOR, _F, f"the checkpoint value on chain: {exc}")
        try:
            anchored_text = parse_note(value.note).text
        except LedgerError as exc:
            return StepResult(_S.ANCHOR, _F, f"the anchored note does not parse: {exc}")
        if anchored_text != checkpoint.text() or parse_note(note).text != anchored_text:
            return StepResult(
                _S.ANCHOR, _F, "the anchored note's text differs from the bundle's checkpoint"
            )
        if (value.size, value.root) != (checkpoint.size, checkpoint.root):
            return StepResult(
                _S.ANCHOR,
                _F,
                f"the anchored value says size {value.size} root {short_hex(value.root)}",
            )
        if value.tx_id != tx.tx_id or value.msp != tx.creator_msp:
            return StepResult(
                _S.ANCHOR,
                _F,
                f"the anchored value names tx {short_hex(value.tx_id)} by {value.msp!r}, not "
                f"this tx {short_hex(tx.tx_id)} by {tx.creator_msp!r}",
            )
        return StepResult(
            _S.ANCHOR, _P, f"AnchorCheckpoint wrote size {value.size} (after {value.prev_size})"
        )

    def _step6_block(
        self,
        checkpoint: Checkpoint | None,
        block: BlockCheck | None,
        tx: TxCheck | None,
        problem: str | None,
    ) -> StepResult:
        if block is not None and block.data_error is not None:
            return StepResult(_S.BLOCK, _F, block.data_error)
        if problem is not None or block is None or tx is None:
            return StepResult(_S.BLOCK, _F, problem or "the transaction is not located")
        if checkpoint is not None:
            channel, _ = _channel_chaincode(checkpoint.origin)
            if tx.channel_id != channel:
                return StepResult(
                    _S.BLOCK,
                    _F,
                    f"the transaction is on channel {tx.channel_id!r}, the checkpoint's log "
                    f"on {channel!r}",
                )
        pinned = self.trust.channel
        if pinned is not None and tx.channel_id != pinned:
            return StepResult(
                _S.BLOCK, _F, f"channel {tx.channel_id!r} is not the trusted {pinned!r}"
            )
        if tx.tx_error is not None:
            return StepResult(_S.BLOCK, _F, tx.tx_error)
        return StepResult(
            _S.BLOCK, _P, f"tx {tx.index} of block {block.number}, VALID; data hash matches"
        )


def _channel_chaincode(origin: str) -> tuple[str, str]:
    """The channel and chaincode an origin ``<domain>/<channel>/<chaincode>`` names."""
    parts = origin.split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")


def _step1_content(e: LogRecordEntry) -> tuple[StepResult, bytes]:
    if e.content is None or e.salt is None:
        assert e.commitment is not None
        return (
            StepResult(_S.CONTENT, _K, "redacted: content and salt are not in the bundle"),
            e.commitment,
        )
    try:
        # the committed bytes, re-derived: the record is RFC 8785 canonical JSON, so its
        # object has exactly one byte form; anything outside RFC 8785's domain is refused
        content = canonicalize(e.content)
    except CanonicalizationError as exc:
        return StepResult(_S.CONTENT, _F, f"content does not canonicalise: {exc}"), b""
    commitment = hashlib.sha256(e.salt + content).digest()
    try:
        record = parse_record(e.content)
    except ValidationError as exc:
        return StepResult(_S.CONTENT, _F, f"content is not a valid record: {exc}"), commitment
    except (ValueError, RecursionError) as exc:
        return StepResult(_S.CONTENT, _F, f"content cannot be parsed: {exc}"), commitment
    # the entry's record id is the content's (step 0): no second name to compare
    return (
        StepResult(
            _S.CONTENT,
            _P,
            f"{record.kind.value} record; commitment SHA-256(salt ‖ content) = "
            f"{short_hex(commitment)}",
        ),
        commitment,
    )


def _step2_inclusion(
    e: LogRecordEntry, commitment: bytes, checkpoint: Checkpoint | None
) -> StepResult:
    if not commitment:
        return StepResult(_S.INCLUSION, _N, "no commitment (step 1)")
    if checkpoint is None:
        return StepResult(_S.INCLUSION, _N, "the checkpoint note does not parse (step 3)")
    try:
        verify_inclusion(
            e.leaf_index,
            checkpoint.size,
            commitment_leaf_hash(commitment),
            list(e.proof),
            checkpoint.root,
        )
    except RootMismatch as exc:
        return StepResult(
            _S.INCLUSION,
            _F,
            f"commitment {short_hex(commitment)} at leaf {e.leaf_index} of {checkpoint.size} "
            f"leads to root {short_hex(exc.calculated)}, not the checkpoint's "
            f"{short_hex(checkpoint.root)}",
        )
    except ProofError as exc:
        return StepResult(_S.INCLUSION, _F, f"malformed proof: {exc}")
    return StepResult(
        _S.INCLUSION,
        _P,
        f"leaf {e.leaf_index} of {checkpoint.size} -> root {short_hex(checkpoint.root)}",
    )


def _step5_endorsement(tx: TxCheck | None, fabric: FabricChecks) -> StepResult:
    if tx is None:
        return StepResult(_S.ENDORSEMENT, _N, "the transaction is not located (step 6)")
    if tx.endorsement_error is not None:
        return StepResult(_S.ENDORSEMENT, _F, tx.endorsement_error)
    return StepResult(
        _S.ENDORSEMENT,
        _P,
        f"endorsed under {fabric.policy}; creator {tx.creator_msp} signed tx {short_hex(tx.tx_id)}",
    )


def _step7_orderer(block: BlockCheck | None, tx: TxCheck | None) -> StepResult:
    if block is None:
        return StepResult(_S.ORDERER, _N, "the block cannot be read (step 6)")
    if block.orderer_error is not None:
        return StepResult(_S.ORDERER, _F, block.orderer_error)
    if tx is not None and tx.timestamp is not None:
        for orderer in block.orderers:
            late = orderer.check_valid_at(tx.timestamp)
            if late is not None:
                return StepResult(_S.ORDERER, _F, late)
    signers = ", ".join(o.subject for o in block.orderers)
    return StepResult(
        _S.ORDERER,
        _P,
        f"block {block.number} signed by {signers}; "
        f"header hash {short_hex(block.header_hash or '')}",
    )


def _malformed(record_id: str, why: str, stopped: str) -> RecordOutcome:
    return RecordOutcome(
        record_id=record_id,
        steps=(
            StepResult(_S.FORMAT, _F, why),
            *(StepResult(s, _N, f"{stopped} (step 0)") for s in tuple(_S)[1:]),
        ),
    )
