"""A log witness run by the bank or the regulator (``ledgerctl witness``): its state
directory (:mod:`.state`) and its rounds (:mod:`.runner`); the decision itself is the pure
:class:`credit_ledger_verify.tlog.Witness` (docs/transparency.md, "Witnesses")."""

from ledger_service.witness.runner import CheckpointSource, RoundResult, run_loop, run_round
from ledger_service.witness.state import (
    WitnessAlarmed,
    WitnessDir,
    WitnessStateError,
    write_atomically,
)

__all__ = [
    "CheckpointSource",
    "RoundResult",
    "WitnessAlarmed",
    "WitnessDir",
    "WitnessStateError",
    "run_loop",
    "run_round",
    "write_atomically",
]
