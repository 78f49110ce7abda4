"""One witness round, and the loop of rounds (``ledgerctl witness run``).

A round: fetch the latest checkpoint; if it is the size already witnessed, decide on it as
it is (a same-size checkpoint with another root is a split view — no proof can help);
otherwise fetch the consistency proof from the witnessed size and decide on that
``add-checkpoint`` request (:class:`credit_ledger_verify.tlog.Witness`). On accept, persist
the new state atomically, *then* submit the cosignature. On an alarm, write the alarm file
with both signed notes, log an ``ALARM`` line and stop for good. A refusal (e.g. the service
served an older checkpoint) is logged and the state is kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from credit_ledger_client import SignedCheckpoint
from credit_ledger_verify.tlog import (
    AddCheckpointRequest,
    Verdict,
    WitnessDecision,
    parse_checkpoint_text,
    parse_note,
)

from ledger_service.errors import LedgerError
from ledger_service.witness.state import WitnessAlarmed, WitnessDir, WitnessStateError

__all__ = ["CheckpointSource", "RoundResult", "run_loop", "run_round"]

log = logging.getLogger("ledger_service.witness")


class CheckpointSource(Protocol):
    """What a witness needs of the service (:class:`credit_ledger_client.Client` has it)."""

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint: ...

    def consistency_proof(self, old: int, new: int) -> AddCheckpointRequest: ...

    def submit_cosignature(self, size: int, line: str) -> None: ...


@dataclass(frozen=True)
class RoundResult:
    decision: WitnessDecision
    #: the checkpoint size decided on
    size: int


def run_round(source: CheckpointSource, directory: WitnessDir, now: dt.datetime) -> RoundResult:
    """One round as described in the module docstring.

    Raises:
        WitnessAlarmed: the alarm file exists (from this round or an earlier one).
        WitnessStateError: the state directory is unusable.
        LedgerError / OSError: the service refused or could not be reached (state kept).
    """
    witness, state = directory.load()
    latest = source.checkpoint().note
    size = parse_checkpoint_text(parse_note(latest).text).size
    old_size = state.checkpoint.size if state is not None else 0
    if size <= old_size:
        # nothing to prove: the decision compares it with the state (split view, older, same)
        request = AddCheckpointRequest(old_size, (), latest)
    else:
        request = source.consistency_proof(old_size, size)
    decision = witness.add_checkpoint(state, request, int(now.timestamp()))
    if decision.verdict is Verdict.ALARM:
        path = directory.raise_alarm(decision, now)
        log.critical("ALARM %s: %s (evidence: %s)", decision.reason, decision.message, path)
        raise WitnessAlarmed(f"{decision.reason}: {decision.message}; evidence in {path}")
    if decision.verdict is Verdict.REFUSE:
        log.warning("refused size %d: %s (%s)", size, decision.reason, decision.message)
        return RoundResult(decision, size)
    assert decision.state is not None
    assert decision.cosignature is not None
    directory.save(decision.state)  # before the cosignature leaves this process
    decided = decision.state.checkpoint.size
    source.submit_cosignature(decided, decision.cosignature.line())
    log.info("cosigned size %d", decided)
    return RoundResult(decision, decided)


def run_loop(
    make_round: Callable[[], RoundResult],
    *,
    interval: float,
    stop: threading.Event,
    max_rounds: int | None = None,
) -> int:
    """Run rounds every ``interval`` seconds until ``stop`` is set (SIGTERM) or
    ``max_rounds`` ran; returns how many ran. A failed round (service unreachable, refused)
    is logged and retried next interval; an alarm or an unusable state directory ends the
    loop by raising."""
    rounds = 0
    while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
        try:
            make_round()
        except (WitnessAlarmed, WitnessStateError):
            raise
        except (LedgerError, OSError) as exc:
            log.warning("round failed: %s", exc)
        rounds += 1
        stop.wait(interval)
    return rounds
