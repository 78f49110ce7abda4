"""`ledgerctl service start | stop | status` and `ledgerctl demo`."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import StateDir, console, fail, run_or_fail
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.ops.processes import ManagedProcess
from ledger_service.samples.demo import DemoNotAnchored, demo_writer, wait_anchored, write_demo

app = typer.Typer(help="Run the ledger service's background worker.", no_args_is_help=True)

WORKER = "ledger-worker"


def _worker_process(config: ServiceConfig) -> ManagedProcess:
    return ManagedProcess(
        name=WORKER, run_dir=config.state_dir / "run", log_dir=config.state_dir / "logs"
    )


@app.command()
def start(
    state_dir: StateDir,
    db_url: Annotated[
        str | None, typer.Option(envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
) -> None:
    """Start the anchoring worker in the background (pid and log in the state directory)."""
    context = LedgerContext.from_env(state_dir, db_url)
    config = context.config
    run_or_fail(lambda: context.topology)
    context.session_factory  # noqa: B018  (migrate before the worker starts)
    proc = _worker_process(config)
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    pid = proc.start([sys.executable, "-m", "ledger_service.cli", "worker"], env=env)
    console.print(f"worker running (pid {pid}); log: {proc.log_file}; index: {config.db_url}")


@app.command()
def stop(state_dir: StateDir) -> None:
    """Stop the background worker (it finishes the batches in flight first)."""
    proc = _worker_process(ServiceConfig.from_env(state_dir))
    console.print("worker stopped" if proc.stop(timeout=60) else "worker was not running")


@app.command()
def status(state_dir: StateDir) -> None:
    """Whether the worker runs, and the index's queue and batch counts."""
    from sqlalchemy import func, select

    from ledger_service.index import models as m

    context = LedgerContext.from_env(state_dir)
    pid = _worker_process(context.config).pid()
    sessions = context.session_factory
    with sessions() as s:
        records = s.scalar(select(func.count()).select_from(m.Record)) or 0
        pending = (
            s.scalar(select(func.count()).select_from(m.OutboxEntry).where(m.OUTBOX_PENDING)) or 0
        )
        batches = dict(
            s.execute(select(m.Batch.state, func.count()).group_by(m.Batch.state)).tuples().all()
        )
    table = Table(title="ledger service")
    for col in ("worker", "records", "pending", "batches"):
        table.add_column(col)
    table.add_row(
        f"running (pid {pid})" if pid else "[red]stopped[/]",
        str(records),
        str(pending),
        ", ".join(f"{k}={v}" for k, v in sorted(batches.items())) or "-",
    )
    console.print(table)


def demo(
    state_dir: StateDir,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for anchoring.")] = 120,
) -> None:
    """Write a small demo (4 enterprises' stories), wait until anchored, show what to try."""
    context = LedgerContext.from_env(state_dir)
    demo_run = write_demo(context.intake, demo_writer(context.config.state_dir))
    results = demo_run.results
    created = sum(r.status == "created" for r in results)
    console.print(
        f"demo: {len(results)} records ({created} new, {len(results) - created} already there)"
    )
    ids = [r.record_id for r in results]
    try:
        anchored = wait_anchored(context.records, ids, timeout=timeout)
    except DemoNotAnchored as exc:
        fail(str(exc))
    table = Table(title="demo records on the channel")
    for col in ("record", "batch", "block", "tx"):
        table.add_column(col)
    for rid in ids:
        batch, tx, block = anchored[rid]
        table.add_row(rid, batch, str(block), tx[:16] + "…")
    console.print(table)
    score, loan, disputed = demo_run.latest_score, demo_run.loan_id, demo_run.disputed
    why = '--purpose "demo: loan audit"'
    console.print(
        "\nA regulator: what did the bank rely on for the loan, what changed since?\n"
        f"  uv run ledgerctl lineage {loan} --as-of decision {why}\n"
        f"  uv run ledgerctl lineage {loan} --as-of decision --diff {why}\n"
        f"  uv run ledgerctl lineage {loan} --as-of decision --format svg --out /tmp/{loan}.svg"
        f" {why}\n"
        f"  uv run ledgerctl lineage {loan} --as-of decision --format prov-json"
        f" --out /tmp/{loan}.prov.json {why}\n"
        f"  uv run ledgerctl impact {disputed} {why}\n"
        f"  uv run ledgerctl timeline {demo_run.subject} {why}\n"
        "...and prove it offline (needs only the orgs' CA certificates):\n"
        f"  uv run ledgerctl evidence {loan} --lineage --as-of decision"
        f" --out /tmp/{loan}.lineage.json\n"
        "  uv run ledgerctl trust export /tmp/ledger-trust\n"
        f"  uv run ledgerctl verify /tmp/{loan}.lineage.json --trust /tmp/ledger-trust\n"
        "A bank verifying a score's evidence:\n"
        f"  uv run ledgerctl evidence {score} --out /tmp/{score}.json\n"
        "  uv run ledgerctl trust export /tmp/ledger-trust\n"
        f"  uv run ledgerctl verify /tmp/{score}.json --trust /tmp/ledger-trust\n"
        "An operator:\n"
        "  uv run ledgerctl service status\n",
        highlight=False,
    )
