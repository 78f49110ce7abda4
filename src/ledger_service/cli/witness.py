"""`ledgerctl witness init | run` (a witness at the bank or the regulator) and `ledgerctl
witness-keys add | list | revoke` (the platform's admin registers witnesses);
docs/transparency.md, "Witnesses"."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from credit_ledger_verify.tlog import VerifierKey
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.index.session import write_session
from ledger_service.tlog.witnesses import list_witnesses, register_witness, revoke_witness
from ledger_service.witness import (
    RoundResult,
    WitnessAlarmed,
    WitnessDir,
    WitnessStateError,
    run_loop,
    run_round,
)

app = typer.Typer(
    help="A log witness: keep the last checkpoint verified, check each new one's "
    "consistency, cosign it, alarm on a fork.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="Witnesses whose cosignatures the service accepts and serves (admins).",
    no_args_is_help=True,
)

#: exit status of `witness run` once it has seen a fork (and whenever it finds the alarm file)
EXIT_ALARM = 3
WitnessDirOption = Annotated[
    Path, typer.Option("--state", help="The witness's own directory (key, state, alarm).")
]


@app.command("init")
def init_cmd(
    name: Annotated[str, typer.Option(help="The witness's name, e.g. 'bank-witness'.")],
    state: WitnessDirOption,
    log_key: Annotated[
        str,
        typer.Option(
            help="The log's verifier key (`ledgerctl checkpoint log-key` prints it), or "
            "@FILE holding it."
        ),
    ],
) -> None:
    """Generate the witness's cosigner key (0600, never overwritten) and print the public
    key to register with `ledgerctl witness-keys add`."""
    try:
        text = Path(log_key[1:]).read_text(encoding="ascii") if log_key.startswith("@") else log_key
        verifier = WitnessDir(state).init(name, VerifierKey.parse(text.strip()))
    except (LedgerError, OSError, UnicodeDecodeError) as exc:
        fail(f"witness not initialised: {exc}")
    sys.stdout.write(verifier.encode() + "\n")


def _stop_on_sigterm() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


@app.command("run")
def run_cmd(
    api: Annotated[str, typer.Option(help="The ledger API's base URL.")],
    api_key_file: Annotated[Path, typer.Option(help="File holding this witness's API key.")],
    state: WitnessDirOption,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between rounds.")] = 10.0,
    once: Annotated[bool, typer.Option(help="One round, then exit (1 if it failed).")] = False,
) -> None:
    """Fetch the latest checkpoint, check it against the last one witnessed (consistency
    proof from the API), persist it, then cosign it; on a split view or an inconsistent
    extension write ALARM (both signed notes) in the state directory and exit 3."""
    from credit_ledger_client import Client, RetryPolicy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s witness %(message)s")
    directory = WitnessDir(state)
    try:
        token = api_key_file.read_text(encoding="ascii").strip()
        directory.load()  # refuse at once if alarmed or unusable
    except WitnessAlarmed as exc:
        fail(str(exc), EXIT_ALARM)
    except (LedgerError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    stop = _stop_on_sigterm()
    with Client(base_url=api, api_key=token, retries=RetryPolicy(attempts=3)) as client:

        def one_round() -> RoundResult:
            return run_round(client, directory, dt.datetime.now(dt.UTC))

        try:
            if once:
                result = one_round()
                console.print(f"{result.decision.verdict.value}: {result.decision.message}")
                if result.decision.cosignature is None:
                    raise typer.Exit(1)
                return
            run_loop(one_round, interval=interval, stop=stop)
        except WitnessAlarmed as exc:
            fail(f"ALARM {exc}", EXIT_ALARM)
        except (WitnessStateError, LedgerError, OSError) as exc:
            fail(str(exc))
    console.print("witness stopped")


# -- the platform side: registered witnesses -------------------------------------------


@keys_app.command("add")
def add_cmd(
    verifier_key: Annotated[
        str, typer.Argument(help="The witness's public key, as `witness init` printed it.")
    ],
    state_dir: StateDir,
    db_url: DbUrl = None,
) -> None:
    """Register a witness (its name is the key's name); its cosignatures are then accepted
    from a `witness` API key of the same name, and served with the checkpoints."""
    try:
        with (
            LedgerContext.from_env(state_dir, db_url) as context,
            write_session(context.session_factory) as session,
        ):
            added = register_witness(session, verifier_key, dt.datetime.now(dt.UTC))
    except (LedgerError, SQLAlchemyError) as exc:
        fail(f"witness not registered: {exc}")
    console.print(f"witness {added.name} registered (key {added.key.key_id.hex()})")


@keys_app.command("list")
def list_cmd(state_dir: StateDir, db_url: DbUrl = None) -> None:
    """Every registered witness key, revoked ones included."""
    with (
        LedgerContext.from_env(state_dir, db_url) as context,
        context.session_factory() as session,
    ):
        witnesses = list_witnesses(session)
    table = Table("name", "key", "registered", "revoked")
    for w in witnesses:
        revoked = w.revoked_at.isoformat() if w.revoked_at else ""
        table.add_row(w.name, w.key.encode(), w.created_at.isoformat(), revoked)
    console.print(table)


@keys_app.command("revoke")
def revoke_cmd(
    name: Annotated[str, typer.Argument(help="The witness's name.")],
    state_dir: StateDir,
    db_url: DbUrl = None,
) -> None:
    """Revoke a witness's key: its cosignatures are no longer accepted nor served."""
    try:
        with (
            LedgerContext.from_env(state_dir, db_url) as context,
            write_session(context.session_factory) as session,
        ):
            revoked = revoke_witness(session, name, dt.datetime.now(dt.UTC))
    except (LedgerError, SQLAlchemyError) as exc:
        fail(f"witness not revoked: {exc}")
    console.print(f"witness {revoked.name} revoked (key {revoked.key.key_id.hex()})")
