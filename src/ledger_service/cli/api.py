"""`ledgerctl api serve | start | stop | status | openapi` and `ledgerctl keys create | list
| revoke`: the REST API's process (loopback only) and its API keys (docs/api.md)."""

from __future__ import annotations

import gc
import json
import os
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.api import ApiKeys, create_app
from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import ValidationError
from ledger_service.ops.processes import ManagedProcess
from ledger_service.ops.topology import DEFAULT_BASE_PORT

app = typer.Typer(help="The REST API: run it, see it, print its OpenAPI document.")
keys_app = typer.Typer(help="API keys: create (the token is printed once), list, revoke.")

API = "ledger-api"
LOOPBACK = "127.0.0.1"
Port = Annotated[
    int | None,
    typer.Option(help="Loopback port (default: the network's base port + 58, or 27058)."),
]


def _process(config: ServiceConfig) -> ManagedProcess:
    return ManagedProcess(
        name=API, run_dir=config.state_dir / "run", log_dir=config.state_dir / "logs"
    )


def _port(config: ServiceConfig, port: int | None) -> int:
    if port is not None:
        return port
    try:
        return config.topology().api_port
    except FileNotFoundError:
        return DEFAULT_BASE_PORT + 58


def _port_file(config: ServiceConfig) -> Path:
    return config.state_dir / "run" / f"{API}.port"


@app.command()
def serve(state_dir: StateDir, db_url: DbUrl = None, port: Port = None) -> None:
    """Run the API in the foreground (uvicorn, loopback only)."""
    import uvicorn

    context = LedgerContext.from_env(state_dir, db_url)
    chosen = _port(context.config, port)
    app = create_app(context)
    context.session_factory  # noqa: B018  (migrate and import everything before the freeze)
    # Everything alive now (modules, the app, the engine) lives as long as the process: out
    # of the collector's sight, a full collection no longer walks it (one took ≈ 80 ms in
    # the middle of a bulk append, docs/benchmarks.md).
    gc.freeze()
    uvicorn.run(app, host=LOOPBACK, port=chosen, log_level="info", access_log=False)


@app.command()
def start(state_dir: StateDir, db_url: DbUrl = None, port: Port = None) -> None:
    """Start the API in the background (pid, port and log in the state directory)."""
    context = LedgerContext.from_env(state_dir, db_url)
    config = context.config
    context.session_factory  # noqa: B018  (migrate before the server starts)
    chosen = _port(config, port)
    proc = _process(config)
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    command = [sys.executable, "-m", "ledger_service.cli", "api", "serve", "--port", str(chosen)]
    pid = proc.start(command, env=env)
    _port_file(config).write_text(str(chosen))
    if not _wait_healthy(chosen):
        fail(f"the API did not answer on {LOOPBACK}:{chosen}; see {proc.log_file}")
    console.print(f"API on http://{LOOPBACK}:{chosen}/v1 (pid {pid}); log: {proc.log_file}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _wait_healthy(port: int, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(port):
            return True
        time.sleep(0.2)
    return False


def running_api_url(config: ServiceConfig) -> str | None:
    """The base URL of the API this state directory runs, if it answers."""
    port_file = _port_file(config)
    if _process(config).pid() is None or not port_file.exists():
        return None
    port = int(port_file.read_text())
    return f"http://{LOOPBACK}:{port}" if _healthy(port) else None


@app.command()
def stop(state_dir: StateDir) -> None:
    """Stop the background API."""
    proc = _process(ServiceConfig.from_env(state_dir))
    console.print("API stopped" if proc.stop(timeout=30) else "API was not running")


@app.command()
def status(state_dir: StateDir) -> None:
    """Whether the API runs and answers."""
    config = ServiceConfig.from_env(state_dir)
    pid = _process(config).pid()
    port_file = _port_file(config)
    port = int(port_file.read_text()) if port_file.exists() else None
    if pid is None:
        console.print("API stopped")
        raise typer.Exit(1)
    answer = "answers" if port is not None and _healthy(port) else "[red]does not answer[/]"
    console.print(f"API running (pid {pid}) on http://{LOOPBACK}:{port}/v1; {answer}")


@app.command()
def openapi(state_dir: StateDir) -> None:
    """Print the OpenAPI document (docs/api/openapi.json is this output)."""
    context = LedgerContext.from_env(state_dir)
    document = create_app(context).openapi()
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


@keys_app.command("create")
def create_key(
    role: Annotated[str, typer.Option(help="writer, verifier, auditor, admin or witness")],
    org: Annotated[str, typer.Option(help="The organisation the key belongs to.")],
    name: Annotated[str, typer.Option(help="What or who uses it, e.g. 'risk-desk'.")],
    state_dir: StateDir,
    db_url: DbUrl = None,
    actor: Annotated[
        list[str], typer.Option("--actor", help="For a writer key: an actor it writes as.")
    ] = [],  # noqa: B006
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
) -> None:
    """Create an API key and print its token — once; only a hash of it is kept."""
    context = LedgerContext.from_env(state_dir, db_url)
    try:
        key, token = ApiKeys(context.session_factory).create(
            role=role, org=org, name=name, actors=actor, lifetime=timedelta(days=days)
        )
    except ValidationError as exc:
        fail(str(exc).removeprefix("record: "), code=2)
    console.print(
        f"{key.role.value} key {key.key_id} for {key.org}/{key.name}, expires "
        f"{key.expires_at.date().isoformat()}",
        highlight=False,
    )
    sys.stdout.write(token + "\n")


@keys_app.command("list")
def list_keys(state_dir: StateDir, db_url: DbUrl = None) -> None:
    """Every API key (never a token)."""
    context = LedgerContext.from_env(state_dir, db_url)
    table = Table(title="API keys")
    for col in ("key", "role", "org", "name", "actors", "expires", "revoked"):
        table.add_column(col)
    for k in ApiKeys(context.session_factory).list():
        table.add_row(
            k.key_id,
            k.role.value,
            k.org,
            k.name,
            ", ".join(k.actors) or "—",
            k.expires_at.date().isoformat(),
            "—" if k.revoked_at is None else k.revoked_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (not its token).")],
    state_dir: StateDir,
    db_url: DbUrl = None,
) -> None:
    """Revoke an API key: it authenticates nothing from now on."""
    context = LedgerContext.from_env(state_dir, db_url)
    try:
        key = ApiKeys(context.session_factory).revoke(key_id)
    except ValidationError as exc:
        fail(str(exc).removeprefix("record: "), code=2)
    console.print(f"revoked {key.key_id} ({key.role.value}, {key.org}/{key.name})")
