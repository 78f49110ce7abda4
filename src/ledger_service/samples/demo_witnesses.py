"""The demo's witnesses: after the demo's records are anchored, the chain mirror is caught
up, a checkpoint issued, and a bank and a regulator witness (keys under
``<state>/witness/<name>/``) are initialised, registered and run one round through the API
(docs/transparency.md, "Witnesses"). Run again, it reuses their keys and state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from credit_ledger_client import Client

from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import (
    StoredCheckpoint,
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
)
from ledger_service.tlog.witnesses import register_witness
from ledger_service.witness import WitnessDir, run_round

__all__ = ["DEMO_WITNESSES", "WitnessOutcome", "issue_demo_checkpoint", "run_demo_witnesses"]

DEMO_WITNESSES = ("bank-witness", "regulator-witness")


@dataclass(frozen=True)
class WitnessOutcome:
    name: str
    directory: Path
    #: "accept: cosigned size N", or why the round did not cosign
    outcome: str


def witness_dir(state_dir: Path, name: str) -> WitnessDir:
    return WitnessDir(state_dir / "witness" / name)


def issue_demo_checkpoint(context: LedgerContext) -> StoredCheckpoint:
    """Catch the chain mirror up with the channel, then sign the global log's head."""
    target = context.fabric_target
    with target.gateway() as gateway:
        context.replay(DeliverBlockStream(gateway, target.channel), restore=False)
    key = load_or_create_log_key(
        context.config.state_dir, platform_origin(target.channel, target.chaincode)
    )
    with write_session(context.session_factory) as session:
        return issue_checkpoint(session, key, dt.datetime.now(dt.UTC))


def run_demo_witnesses(
    context: LedgerContext, url: str, tokens: dict[str, Path]
) -> list[WitnessOutcome]:
    """Initialise (once), register and run one round of each demo witness."""
    state_dir = context.config.state_dir
    target = context.fabric_target
    log_key = load_or_create_log_key(
        state_dir, platform_origin(target.channel, target.chaincode)
    ).verifier
    outcomes = []
    for name in DEMO_WITNESSES:
        directory = witness_dir(state_dir, name)
        if directory.key_path.exists():
            verifier = directory.load_key().verifier
        else:
            verifier = directory.init(name, log_key)
        with write_session(context.session_factory) as session:
            register_witness(session, verifier.encode(), dt.datetime.now(dt.UTC))
        token = tokens[name].read_text().strip()
        try:
            with Client(base_url=url, api_key=token) as client:
                decision = run_round(client, directory, dt.datetime.now(dt.UTC)).decision
            outcome = f"{decision.verdict.value}: {decision.message}"
        except (LedgerError, OSError) as exc:
            outcome = f"not cosigned: {exc}"
        outcomes.append(WitnessOutcome(name, directory.path, outcome))
    return outcomes
