"""The checkpointer: the global log's signed checkpoints, anchored on chain, exactly once.

One round (:meth:`Checkpointer.run_once`), every ``interval`` seconds or as soon as ``leaves``
new leaves are on chain:

1. *settle* — every intent left ``submitted`` (a crash, a lost connection) is settled
   against the chain before anything new is sent: the ledger has its transaction id →
   ``committed`` (VALID) or ``failed``; it does not, and the anchored head (``GetCheckpoint
   head``) already reached its size → ``failed`` (superseded); otherwise the *same* signed
   bytes are sent again (Fabric commits one transaction id at most once).
2. *sync* — the chain mirror is brought up to the chain's height (the global log reads the
   mirror only), the log advanced and its head signed (``tlog.checkpoints.issue_checkpoint``).
3. *anchor* — if the log outgrew the anchored head: the anchored head's root must equal the
   log's root at that size (else a fork: alarm); the consistency proof from it is read from
   the stored subtrees; ``AnchorCheckpoint`` (its argument as transient field ``checkpoint``)
   is endorsed, signed, and stored as an intent (``checkpoint_anchors``) BEFORE it is sent;
   then submitted and settled.

The chaincode makes a duplicate harmless anyway: a retried checkpoint of the head's size and
root writes nothing, and two transactions extending the same head conflict (MVCC) so only
one commits. A refusal maps to a named error: ``checkpoint_gap`` / ``checkpoint_smaller``
mean the head moved under us (another checkpointer): the next round re-reads it;
``checkpoint_fork``, ``checkpoint_inconsistent``, ``checkpoint_signature`` and
``log_key_mismatch`` are alarms — logged at CRITICAL, the checkpointer stops, never retries.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import grpc
from credit_ledger_verify.onchain import RefusalCode, parse_refusal
from credit_ledger_verify.onchain_tlog import (
    CheckpointHead,
    decode_checkpoint_value,
    encode_anchor_checkpoint,
)
from credit_ledger_verify.tlog import SignerKey
from fabric_gateway import EndorseError, Gateway, GatewayError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.chainsync.replay import replay
from ledger_service.errors import LedgerError
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.fabric.txstatus import is_tx_not_found, tx_status_in_block
from ledger_service.index.log_models import CheckpointAnchor
from ledger_service.index.models import Batch, BatchState
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import issue_checkpoint
from ledger_service.tlog.global_log import LogView

__all__ = [
    "AnchoredCheckpoint",
    "CheckpointForkError",
    "CheckpointGapError",
    "CheckpointInconsistentError",
    "CheckpointRefusedError",
    "CheckpointSignatureRefusedError",
    "CheckpointSmallerError",
    "Checkpointer",
    "CheckpointerSettings",
    "CheckpointerStats",
    "LogKeyMismatchError",
    "refusal_error",
]

log = logging.getLogger(__name__)

#: How the gateway reports that the chaincode itself refused the proposal.
_CHAINCODE_REFUSAL = "chaincode response 5"


class CheckpointRefusedError(LedgerError):
    """The chaincode refused an ``AnchorCheckpoint`` (``refusal`` is its code).

    ``alarm``: the refusal means the log or its key is not what the chain holds — stop and
    call a human; otherwise the anchored head moved and the next round tries from it.
    """

    code: ClassVar[str] = "checkpoint_refused"
    alarm: ClassVar[bool] = True

    def __init__(self, message: str, refusal: RefusalCode | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


class CheckpointForkError(CheckpointRefusedError):
    """Two roots for one size: the chain's anchored checkpoint and the platform's log differ."""

    code: ClassVar[str] = "checkpoint_fork"


class CheckpointInconsistentError(CheckpointRefusedError):
    """The chaincode found the consistency proof from the anchored head does not verify."""

    code: ClassVar[str] = "checkpoint_inconsistent"


class CheckpointSignatureRefusedError(CheckpointRefusedError):
    """The chaincode found the note not validly signed by the log key."""

    code: ClassVar[str] = "checkpoint_signature_refused"


class LogKeyMismatchError(CheckpointRefusedError):
    """The log key is not the one the first anchored checkpoint registered on chain."""

    code: ClassVar[str] = "log_key_mismatch"


class CheckpointGapError(CheckpointRefusedError):
    """``prev_size`` was not the anchored head's size (the head moved): retried from it."""

    code: ClassVar[str] = "checkpoint_gap"
    alarm: ClassVar[bool] = False


class CheckpointSmallerError(CheckpointRefusedError):
    """The checkpoint is below the anchored head (the head moved): nothing to anchor."""

    code: ClassVar[str] = "checkpoint_smaller"
    alarm: ClassVar[bool] = False


_BY_REFUSAL: dict[RefusalCode, type[CheckpointRefusedError]] = {
    RefusalCode.CHECKPOINT_FORK: CheckpointForkError,
    RefusalCode.CHECKPOINT_INCONSISTENT: CheckpointInconsistentError,
    RefusalCode.CHECKPOINT_SIGNATURE: CheckpointSignatureRefusedError,
    RefusalCode.LOG_KEY_MISMATCH: LogKeyMismatchError,
    RefusalCode.CHECKPOINT_GAP: CheckpointGapError,
    RefusalCode.CHECKPOINT_SMALLER: CheckpointSmallerError,
}


def refusal_error(message: str) -> CheckpointRefusedError:
    """The named error for a chaincode refusal message (``... [code] text``)."""
    refusal, text = parse_refusal(message)
    cls = _BY_REFUSAL.get(refusal, CheckpointRefusedError) if refusal else CheckpointRefusedError
    return cls(f"AnchorCheckpoint refused: [{refusal}]{text}", refusal)


@dataclass(frozen=True, kw_only=True)
class CheckpointerSettings:
    #: seconds between checkpoints while leaves arrive (``LEDGER_CHECKPOINT_INTERVAL``)
    interval: float = 5.0
    #: anchor at once when this many leaves are on chain beyond the anchored head
    leaves: int = 100_000
    #: how often the chain height is looked at between checkpoints
    poll: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> CheckpointerSettings | None:
        """From ``LEDGER_CHECKPOINTS`` (``on`` default / ``off``: ``None``, no checkpointer),
        ``LEDGER_CHECKPOINT_INTERVAL`` (seconds) and ``LEDGER_CHECKPOINT_LEAVES``."""
        switch = environ.get("LEDGER_CHECKPOINTS", "on").strip().lower()
        if switch not in ("on", "off"):
            raise ValueError(f"LEDGER_CHECKPOINTS must be 'on' or 'off', got {switch!r}")
        if switch == "off":
            return None
        values: dict[str, float | int] = {}
        for name, attr, kind in (
            ("LEDGER_CHECKPOINT_INTERVAL", "interval", float),
            ("LEDGER_CHECKPOINT_LEAVES", "leaves", int),
        ):
            text = environ.get(name)
            if text is not None:
                try:
                    values[attr] = kind(text)
                except ValueError:
                    raise ValueError(f"{name} must be a number, got {text!r}") from None
        poll = min(1.0, float(values.get("interval", 1.0)))
        return cls(poll=poll, **values)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.poll <= 0:
            raise ValueError(f"interval and poll must be > 0, got {self.interval}, {self.poll}")
        if self.leaves < 1:
            raise ValueError(f"leaves must be >= 1, got {self.leaves}")


@dataclass
class CheckpointerStats:
    anchored: int = 0
    settled_committed: int = 0
    settled_failed: int = 0
    resubmitted: int = 0
    stale: int = 0
    sizes: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AnchoredCheckpoint:
    size: int
    prev_size: int
    tx_id: str
    block_number: int


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Checkpointer:
    """Anchors the global log's checkpoints on ``gateway`` (a synchronous Gateway). Run it in
    its own process (``ledgerctl checkpoint anchor``): as a thread of the anchoring worker
    its mirror sync competes for the worker's GIL (docs/benchmarks.md)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        gateway: Gateway,
        channel: str,
        chaincode: str,
        key: SignerKey,
        settings: CheckpointerSettings | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        network = gateway.get_network(channel)
        self._contract = network.get_contract(chaincode)
        self._qscc = network.get_contract("qscc")
        self._stream = DeliverBlockStream(gateway, channel)
        self._channel = channel
        self._chaincode = chaincode
        self._key = key
        self._log_key = key.verifier.encode()
        self._settings = settings or CheckpointerSettings()
        self._clock = clock
        self.stats = CheckpointerStats()

    @property
    def origin(self) -> str:
        return self._key.name

    # -- loop -----------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Checkpoint until ``stop`` is set. Transient failures are retried next round; an
        alarm (:attr:`CheckpointRefusedError.alarm`) — or any unexpected error, such as a
        log that diverged from the mirror — is logged at CRITICAL and raised."""
        s = self._settings
        last = 0.0
        while not stop.is_set():
            due = time.monotonic() - last >= s.interval
            try:
                if due or self._leaves_waiting() >= s.leaves:
                    self.run_once()
                    last = time.monotonic()
            except CheckpointRefusedError as exc:
                if exc.alarm:
                    log.critical("checkpointer ALARM, stopping: %s: %s", exc.code, exc)
                    raise
                self.stats.stale += 1
                log.warning("checkpoint not anchored (%s): %s; next round", exc.code, exc)
            except (GatewayError, grpc.RpcError, OSError, OperationalError) as exc:
                log.warning("checkpointer: %s; retrying next round", exc)
            except BaseException as exc:  # e.g. global_log_diverged: a human must look
                log.critical("checkpointer stopped: %s", exc)
                raise
            stop.wait(s.poll)

    def run_once(self) -> AnchoredCheckpoint | None:
        """Settle, sync the mirror, and anchor the log's head if it outgrew the anchored one."""
        self.settle()
        replay(self._sessions, self._stream, channel=self._channel, chaincode=self._chaincode)
        with write_session(self._sessions) as s:
            issued = issue_checkpoint(s, self._key, self._clock())
        head = self.anchored_head()
        prev_size = head.size if head is not None else 0
        with self._sessions() as s:
            view = LogView(s, self.origin)
            if head is not None and head.size <= view.size and view.root_at(head.size) != head.root:
                raise CheckpointForkError(
                    f"the anchored checkpoint of size {head.size} has root {head.root.hex()}, "
                    f"the global log {view.root_at(head.size).hex()}: two roots for one size"
                )
            if issued.checkpoint.size <= prev_size:
                return None
            proof = view.consistency_proof(prev_size, issued.checkpoint.size)
        argument = encode_anchor_checkpoint(issued.note.decode(), prev_size, proof, self._log_key)
        return self.submit_checkpoint(argument, issued.checkpoint.size, prev_size)

    # -- chain reads ----------------------------------------------------------------------------
    def anchored_head(self) -> CheckpointHead | None:
        """The chain's anchored head (``GetCheckpoint head``); ``None`` before the first."""
        try:
            raw = self._contract.evaluate("GetCheckpoint", args=["head"])
        except GatewayError as exc:
            if parse_refusal(str(exc))[0] == RefusalCode.NOT_FOUND:
                return None
            raise
        value = decode_checkpoint_value(raw)  # the head's own stored checkpoint value
        return CheckpointHead(value.size, value.root)

    def anchored_root(self, size: int) -> bytes | None:
        try:
            raw = self._contract.evaluate("GetCheckpoint", args=[str(size)])
        except GatewayError as exc:
            if parse_refusal(str(exc))[0] == RefusalCode.NOT_FOUND:
                return None
            raise
        return decode_checkpoint_value(raw).root

    def _leaves_waiting(self) -> int:
        """A cheap look (no mirror sync): leaves the index saw committed beyond the anchored
        head — only to decide whether to checkpoint before the interval is up."""
        with self._sessions() as s:
            anchored = s.scalar(
                select(CheckpointAnchor.size)
                .where(CheckpointAnchor.origin == self.origin)
                .where(CheckpointAnchor.state == "committed")
                .order_by(CheckpointAnchor.size.desc())
                .limit(1)
            )
            committed = s.scalar(
                select(func.coalesce(func.sum(Batch.size), 0)).where(
                    Batch.state == BatchState.COMMITTED
                )
            )
        return int(committed or 0) - int(anchored or 0)

    # -- one transaction ------------------------------------------------------------------------
    def submit_checkpoint(
        self, argument: bytes, size: int, prev_size: int
    ) -> AnchoredCheckpoint | None:
        """Endorse ``AnchorCheckpoint(argument)``, store the intent, send, settle.

        Raises:
            CheckpointRefusedError: (a subclass named by) the chaincode's refusal code.
        """
        try:
            # transient: the endorsers read it, the committed transaction (which compact
            # evidence carries) holds only its hash; the signed envelope stored below is
            # complete without it, so a resend needs nothing else.
            proposal = self._contract.new_proposal(
                "AnchorCheckpoint", transient={"checkpoint": argument}
            )
            transaction = proposal.endorse()
        except EndorseError as exc:
            if _CHAINCODE_REFUSAL in str(exc) or parse_refusal(str(exc))[0] is not None:
                raise refusal_error(str(exc)) from exc
            raise
        transaction.sign()
        envelope = transaction.bytes()
        tx_id = transaction.transaction_id
        with write_session(self._sessions) as s:  # the intent, BEFORE anything is sent
            s.add(
                CheckpointAnchor(
                    tx_id=tx_id,
                    origin=self.origin,
                    size=size,
                    prev_size=prev_size,
                    envelope=envelope,
                    state="submitted",
                    created_at=self._clock(),
                )
            )
        status = transaction.submit().status()
        return self._settled(tx_id, size, prev_size, status.code_name, status.block_number)

    def settle(self) -> None:
        """Settle every intent left ``submitted`` (see the module docstring)."""
        with self._sessions() as s:
            open_intents = s.scalars(
                select(CheckpointAnchor)
                .where(CheckpointAnchor.origin == self.origin)
                .where(CheckpointAnchor.state == "submitted")
                .order_by(CheckpointAnchor.size)
            ).all()
            s.expunge_all()
        for intent in open_intents:
            found = self._on_ledger(intent.tx_id)
            if found is None:
                head = self.anchored_head()
                if head is not None and head.size >= intent.size:
                    self._mark(intent.tx_id, "failed", None, f"superseded: head at {head.size}")
                    self.stats.settled_failed += 1
                    continue
                self.stats.resubmitted += 1
                log.info("resending checkpoint %s (tx %s)", intent.size, intent.tx_id)
                status = self._gateway.new_transaction(bytes(intent.envelope)).submit().status()
                found = (status.code_name, status.block_number)
            self._settled(intent.tx_id, intent.size, intent.prev_size, *found)

    def _settled(
        self, tx_id: str, size: int, prev_size: int, code_name: str, block_number: int
    ) -> AnchoredCheckpoint | None:
        if code_name == "VALID":
            self._mark(tx_id, "committed", block_number, None)
            self.stats.anchored += 1
            self.stats.sizes.append(size)
            log.info("checkpoint %d anchored (from %d) in block %d", size, prev_size, block_number)
            return AnchoredCheckpoint(size, prev_size, tx_id, block_number)
        # Invalid (e.g. MVCC: the head moved): wrote nothing; the next round starts over.
        self._mark(tx_id, "failed", block_number, f"committed as {code_name}")
        self.stats.settled_failed += 1
        log.warning("checkpoint %d: transaction %s committed as %s", size, tx_id, code_name)
        return None

    def _mark(self, tx_id: str, state: str, block_number: int | None, reason: str | None) -> None:
        with write_session(self._sessions) as s:
            row = s.get(CheckpointAnchor, tx_id)
            assert row is not None
            row.state, row.block_number, row.reason = state, block_number, reason
            row.settled_at = self._clock()

    def _on_ledger(self, tx_id: str) -> tuple[str, int] | None:
        try:
            raw = self._qscc.evaluate("GetBlockByTxID", args=[self._channel, tx_id])
        except GatewayError as exc:
            if is_tx_not_found(exc):
                return None
            raise
        return tx_status_in_block(raw, tx_id)
