"""`ledgerctl checkpoint issue | show | prove | log-key`: signed checkpoints of the global log.

The global log is computed from the chain mirror (catch it up with `ledgerctl index
reconcile` or `index rebuild`); docs/transparency.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from ledger_service.anchoring.checkpointer import CheckpointerSettings, CheckpointRefusedError
from ledger_service.cli._common import DbUrl, StateDir, fail
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.index.session import write_session
from ledger_service.tlog.checkpoints import (
    issue_checkpoint,
    load_or_create_log_key,
    platform_origin,
    prove_consistency,
    read_checkpoint,
)

app = typer.Typer(
    help="Sign, show and prove checkpoints of the global log over all anchored leaves.",
    no_args_is_help=True,
)

ERRORS: tuple[type[BaseException], ...] = (LedgerError, SQLAlchemyError, OSError)


def _origin(config: ServiceConfig) -> str:
    topology = config.topology()
    return platform_origin(topology.channel, topology.chaincode)


@app.command("issue")
def issue_cmd(state_dir: StateDir, db_url: DbUrl = None) -> None:
    """Advance the global log to the end of the chain mirror, sign its head with the log key
    (created in the state directory on first use), store and print the checkpoint."""
    config = ServiceConfig.from_env(state_dir, db_url)
    try:
        key = load_or_create_log_key(state_dir, _origin(config))
        with LedgerContext(config) as context, write_session(context.session_factory) as s:
            issued = issue_checkpoint(s, key, dt.datetime.now(dt.UTC))
    except ERRORS as exc:
        fail(f"checkpoint not issued: {exc}")
    sys.stdout.write(issued.note.decode())


@app.command("show")
def show_cmd(
    state_dir: StateDir,
    size: Annotated[int | None, typer.Argument(help="Tree size (default: the latest).")] = None,
    db_url: DbUrl = None,
) -> None:
    """Print a stored checkpoint's signed note."""
    config = ServiceConfig.from_env(state_dir, db_url)
    try:
        with LedgerContext(config) as context, context.session_factory() as s:
            stored = read_checkpoint(s, _origin(config), size)
    except ERRORS as exc:
        fail(str(exc))
    sys.stdout.write(stored.note.decode())


@app.command("prove")
def prove_cmd(
    state_dir: StateDir,
    old: Annotated[int, typer.Argument(help="Size of the older stored checkpoint (0: empty).")],
    new: Annotated[int, typer.Argument(help="Size of the newer stored checkpoint.")],
    db_url: DbUrl = None,
) -> None:
    """Print a tlog-witness add-checkpoint body: `old OLD`, the consistency proof (base64
    lines), a blank line, then the checkpoint of size NEW."""
    config = ServiceConfig.from_env(state_dir, db_url)
    try:
        with LedgerContext(config) as context, context.session_factory() as s:
            request = prove_consistency(s, _origin(config), old, new)
    except ERRORS as exc:
        fail(str(exc))
    sys.stdout.write(request.encode().decode())


@app.command("log-key")
def log_key_cmd(state_dir: StateDir) -> None:
    """Print the log's public verifier key (what witnesses and verifiers trust), creating
    the log key on first use."""
    config = ServiceConfig.from_env(state_dir)
    try:
        key = load_or_create_log_key(state_dir, _origin(config))
    except ERRORS as exc:
        fail(str(exc))
    sys.stdout.write(key.verifier.encode() + "\n")


@app.command("anchor")
def anchor_cmd(
    state_dir: StateDir,
    db_url: DbUrl = None,
    once: Annotated[bool, typer.Option(help="One round, then exit.")] = False,
) -> None:
    """Run the checkpointer (`ledgerctl service start` starts it beside the worker): sync
    the chain mirror, sign the global log's head and anchor it with AnchorCheckpoint, every
    LEDGER_CHECKPOINT_INTERVAL seconds (default 5) until interrupted. Exit status 3: an
    alarm (a forked log, a refused key) stopped it."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = ServiceConfig.from_env(state_dir, db_url)
    try:
        settings = CheckpointerSettings.from_env() or CheckpointerSettings()
        with LedgerContext(config) as context, context.fabric_target.gateway() as gateway:
            checkpointer = context.checkpointer(gateway, settings)
            if once:
                anchored = checkpointer.run_once()
                sys.stdout.write(
                    "nothing new to anchor\n"
                    if anchored is None
                    else f"anchored checkpoint {anchored.size} (from {anchored.prev_size}) "
                    f"in block {anchored.block_number}\n"
                )
                return
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            checkpointer.run(stop)
    except CheckpointRefusedError as exc:
        fail(f"checkpointer alarm: {exc}" if exc.alarm else str(exc), code=3 if exc.alarm else 1)
    except (LedgerError, SQLAlchemyError, OSError, ValueError) as exc:
        fail(f"checkpoint not anchored: {exc}")
