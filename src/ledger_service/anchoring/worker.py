"""The anchoring worker: pending records → Merkle batches → one Fabric transaction each.

Exactly once, whatever crashes (see store.py for the states):

1. *claim* — pending records become a batch (root computed, leaf indexes assigned) in one DB
   transaction; a crash before it leaves them pending, after it leaves a pending batch.
2. *endorse* — the PutBatch proposal is endorsed and signed; nothing has left the process yet,
   so a crash here just means endorsing again on restart.
3. *persist* — the signed transaction is stored (batch → submitted) BEFORE it is sent.
4. *submit + commit status* — after a crash from here on, the worker first asks the ledger
   whether that transaction id is already committed, and only if not resends the *same* bytes.
   Fabric never commits one transaction id twice as valid, and the chaincode refuses to write
   an existing record (commitment) or batch id, so no record is ever anchored twice.

Several batches are in flight at once; they never collide on MVCC because each batch writes
only its own keys (one per record, one per batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import grpc
from credit_ledger_verify.onchain import RefusalCode, parse_refusal
from fabric_gateway import AsyncGateway, EndorseError, GatewayError, SubmitError

from ledger_service.anchoring.store import AnchoringStore, BatchPlan
from ledger_service.errors import LedgerError
from ledger_service.fabric.txstatus import is_tx_not_found, tx_status_in_block
from ledger_service.index import models as m

log = logging.getLogger(__name__)

#: gRPC codes that mean "try again later" rather than "this will never work".
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    # The gateway's "no combination of peers can be derived which satisfy the endorsement
    # policy": too few endorsers reachable right now (peers down, or service discovery not
    # caught up just after a chaincode deploy). The batch waits for them; failing it would
    # only re-form the same batch.
    grpc.StatusCode.FAILED_PRECONDITION,
}
#: How the gateway reports that the chaincode itself refused the proposal (its error status).
_CHAINCODE_REFUSAL = "chaincode response 5"
#: Refusals that mean "already on chain": re-queueing the records would only be refused again.
_ALREADY_ON_CHAIN = frozenset({RefusalCode.BATCH_EXISTS, RefusalCode.RECORD_EXISTS})


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    batch_size: int = 4096  # records per batch (≈ 500 KB transaction)
    linger: float = 0.2  # seconds the oldest pending record may wait for a fuller batch
    max_in_flight: int = 4  # batches endorsed/submitted concurrently
    poll_interval: float = 0.02  # first wait when nothing is due; doubles while idle
    idle_poll_max: float = 0.25
    retry_backoff: float = 0.5
    retry_backoff_max: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 50_000:
            raise ValueError(
                f"batch_size must be 1..50000 (the chaincode's limit), got {self.batch_size}"
            )
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {self.max_in_flight}")


@dataclass
class WorkerStats:
    batches_committed: int = 0
    records_committed: int = 0
    access_entries_committed: int = 0
    batches_failed: int = 0
    resubmitted: int = 0
    found_on_ledger: int = 0
    retries: int = 0
    commit_latencies: list[float] = field(default_factory=list)


class PermanentBatchError(LedgerError):
    """The batch can never be written as built (e.g. the chaincode refuses it).

    `requeue` says whether its records should go into a new batch: not when the chain says
    they are already there (that is for `ledgerctl index reconcile` to explain).
    """

    code: ClassVar[str] = "batch_refused"

    def __init__(self, message: str, *, requeue: bool = True) -> None:
        super().__init__(message)
        self.requeue = requeue


class AnchoringWorker:
    def __init__(
        self,
        *,
        store: AnchoringStore,
        gateway: AsyncGateway,
        channel: str,
        chaincode: str,
        settings: WorkerSettings | None = None,
        on_committed: Callable[[BatchPlan, int], None] | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._network = gateway.get_network(channel)
        self._contract = self._network.get_contract(chaincode)
        self._qscc = self._network.get_contract("qscc")
        self._channel = channel
        self._settings = settings or WorkerSettings()
        self._on_committed = on_committed
        self.stats = WorkerStats()

    # -- main loop ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Anchor until `stop` is set; then finish the batches already in flight."""
        in_flight: set[asyncio.Task[None]] = set()
        idle = self._settings.poll_interval
        for leftover in await asyncio.to_thread(self._store.unfinished_batches):
            in_flight.add(asyncio.create_task(self._anchor(leftover, stop)))
        while not stop.is_set():
            in_flight = {t for t in in_flight if not t.done() or _reraise(t)}
            if len(in_flight) >= self._settings.max_in_flight:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
                continue
            plan: BatchPlan | None = await asyncio.to_thread(self._claim_if_due)
            if plan is None:
                # Idle: back off to a few polls a second; busy: poll again at once.
                await _sleep_or_stop(stop, idle)
                idle = min(idle * 2, self._settings.idle_poll_max)
                continue
            idle = self._settings.poll_interval
            in_flight.add(asyncio.create_task(self._anchor(plan, stop)))
        if in_flight:
            await asyncio.gather(*in_flight)

    async def drain(self, *, timeout: float) -> None:
        """Anchor until nothing is pending or in flight (tests, benchmarks, the demo)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                pending = await asyncio.to_thread(self._store.pending_count)
                unfinished = await asyncio.to_thread(self._store.unfinished_count)
                if pending == 0 and not unfinished:
                    break
                if task.done():
                    task.result()
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(
                        f"anchoring did not finish within {timeout}s: {pending} pending, "
                        f"{unfinished} batches unfinished"
                    )
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await task

    def _claim_if_due(self) -> BatchPlan | None:
        s = self._settings
        count, oldest = self._store.pending_summary(s.batch_size)
        if count == 0 or oldest is None:
            return None
        waited = (dt.datetime.now(dt.UTC) - oldest).total_seconds()
        if count < s.batch_size and waited < s.linger:
            return None
        return self._store.claim_batch(s.batch_size)

    # -- one batch ----------------------------------------------------------------------------
    async def _anchor(self, plan: BatchPlan, stop: asyncio.Event) -> None:
        backoff = self._settings.retry_backoff
        started = asyncio.get_running_loop().time()
        while True:
            try:
                await self._anchor_once(plan)
                self.stats.commit_latencies.append(asyncio.get_running_loop().time() - started)
                return
            except PermanentBatchError as exc:
                log.error("batch %s failed for good: %s", plan.batch_id, exc)
                await asyncio.to_thread(
                    self._store.mark_failed, plan.batch_id, reason=str(exc), requeue=exc.requeue
                )
                self.stats.batches_failed += 1
                return
            except (GatewayError, grpc.RpcError, OSError) as exc:
                self.stats.retries += 1
                log.warning("batch %s: %s; retrying in %.1fs", plan.batch_id, exc, backoff)
                if stop.is_set() and plan.state == m.BatchState.PENDING:
                    return  # nothing sent yet: leave it for the next run
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._settings.retry_backoff_max)
                # Reload: the batch may have moved on (e.g. persisted before the error).
                reloaded: BatchPlan | None = await asyncio.to_thread(
                    self._store.load_plan, plan.batch_id
                )
                plan = reloaded or plan

    async def _anchor_once(self, plan: BatchPlan) -> None:
        if plan.state == m.BatchState.PENDING:
            try:
                proposal = self._contract.new_proposal("PutBatch", transient=plan.transient_data())
                transaction = await proposal.endorse()
            except EndorseError as exc:
                text = str(exc)
                if _CHAINCODE_REFUSAL not in text and _is_transient(exc):
                    raise
                raise PermanentBatchError(
                    f"endorsement refused: {text}",
                    requeue=parse_refusal(text)[0] not in _ALREADY_ON_CHAIN,
                ) from exc
            # Sign now, so what is stored is the exact signed transaction that will be sent;
            # a resubmission after a crash then sends these very bytes.
            transaction.sign()
            envelope = transaction.bytes()
            await asyncio.to_thread(
                self._store.mark_submitted,
                plan.batch_id,
                envelope=envelope,
                tx_id=transaction.transaction_id,
            )
            plan = _with(
                plan,
                state=m.BatchState.SUBMITTED,
                envelope=envelope,
                tx_id=transaction.transaction_id,
            )
        else:
            assert plan.envelope is not None
            assert plan.tx_id is not None
            found = await self._committed_on_ledger(plan.tx_id)
            if found is not None:
                self.stats.found_on_ledger += 1
                await self._finish(plan, *found)
                return
            self.stats.resubmitted += 1
            transaction = self._gateway.new_transaction(plan.envelope)
        try:
            commit = await transaction.submit()
        except SubmitError as exc:
            if _is_transient(exc):
                raise
            raise PermanentBatchError(f"orderer refused the transaction: {exc}") from exc
        status = await commit.status()
        await self._finish(plan, status.code_name, status.block_number)

    async def _finish(self, plan: BatchPlan, code_name: str, block_number: int) -> None:
        if code_name == "VALID":
            await asyncio.to_thread(
                self._store.mark_committed, plan.batch_id, block_number=block_number
            )
            self.stats.batches_committed += 1
            self.stats.records_committed += len(plan.record_ids)
            self.stats.access_entries_committed += len(plan.access_entry_ids)
            if self._on_committed:
                self._on_committed(plan, block_number)
        else:
            # Invalid transactions write nothing; the records get a new batch.
            await asyncio.to_thread(
                self._store.mark_failed,
                plan.batch_id,
                reason=f"transaction {plan.tx_id} committed as {code_name}",
                validation_code=code_name,
                block_number=block_number,
            )
            self.stats.batches_failed += 1

    async def _committed_on_ledger(self, tx_id: str) -> tuple[str, int] | None:
        """(validation code name, block number) if the ledger has this transaction id."""
        try:
            raw = await self._qscc.evaluate("GetBlockByTxID", args=[self._channel, tx_id])
        except GatewayError as exc:
            if is_tx_not_found(exc):
                return None
            raise
        return tx_status_in_block(raw, tx_id)


def _with(plan: BatchPlan, **changes: object) -> BatchPlan:
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def _is_transient(exc: GatewayError) -> bool:
    code = getattr(exc, "code", None)
    return code in _TRANSIENT


def _reraise(task: asyncio.Task[None]) -> bool:
    task.result()  # surfaces an unexpected exception from a batch task
    return False


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
