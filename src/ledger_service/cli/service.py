"""`ledgerctl service start | stop | status` and `ledgerctl demo`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.anchoring.checkpointer import CheckpointerSettings
from ledger_service.api.auth import ApiKeys
from ledger_service.cli._common import StateDir, console, fail, run_or_fail
from ledger_service.cli.api import running_api_url
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.ops.processes import ManagedProcess
from ledger_service.retention.schedule import DAILY
from ledger_service.samples.demo import (
    DemoNotAnchored,
    demo_api_keys,
    demo_retention_run,
    demo_writer,
    wait_anchored,
    write_demo,
    write_old_loan,
)

app = typer.Typer(
    help="Run the ledger service's background worker and checkpointer.", no_args_is_help=True
)

WORKER = "ledger-worker"
#: the global log's checkpointer (`ledgerctl checkpoint anchor`), its own process: as a thread
#: of the worker it cost the anchoring 28 % of its throughput (GIL); as a process its cost was
#: within the noise of a shared machine (docs/benchmarks.md)
CHECKPOINTER = "ledger-checkpointer"


def _worker_process(config: ServiceConfig) -> ManagedProcess:
    return _managed(config, WORKER)


def _checkpointer_process(config: ServiceConfig) -> ManagedProcess:
    return _managed(config, CHECKPOINTER)


def _managed(config: ServiceConfig, name: str) -> ManagedProcess:
    return ManagedProcess(
        name=name, run_dir=config.state_dir / "run", log_dir=config.state_dir / "logs"
    )


@app.command()
def start(
    state_dir: StateDir,
    db_url: Annotated[
        str | None, typer.Option(envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
    retention_every: Annotated[
        float,
        typer.Option(
            envvar="LEDGER_RETENTION_EVERY",
            help="Seconds between scheduled retention runs in the worker; 0: none.",
        ),
    ] = DAILY,
) -> None:
    """Start the anchoring worker and the checkpointer (unless LEDGER_CHECKPOINTS=off) in the
    background (pids and logs in the state directory); the worker also runs the retention run
    daily (--retention-every)."""
    try:
        checkpoints = CheckpointerSettings.from_env()
    except ValueError as exc:
        fail(str(exc))
    context = LedgerContext.from_env(state_dir, db_url)
    config = context.config
    run_or_fail(lambda: context.topology)
    context.session_factory  # noqa: B018  (migrate before the worker starts)
    proc = _worker_process(config)
    env = {
        **os.environ,
        "LEDGER_STATE_DIR": str(config.state_dir),
        "LEDGER_DB_URL": config.db_url,
        "LEDGER_RETENTION_EVERY": str(retention_every),
    }
    pid = proc.start([sys.executable, "-m", "ledger_service.cli", "worker"], env=env)
    console.print(f"worker running (pid {pid}); log: {proc.log_file}; index: {config.db_url}")
    if checkpoints is None:
        console.print("checkpointer not started (LEDGER_CHECKPOINTS=off)")
        return
    cp = _checkpointer_process(config)
    argv = [sys.executable, "-m", "ledger_service.cli", "checkpoint", "anchor"]
    pid = cp.start(argv, env=env)
    console.print(f"checkpointer running (pid {pid}); log: {cp.log_file}")


@app.command()
def stop(state_dir: StateDir) -> None:
    """Stop the background worker (it finishes the batches in flight first) and the
    checkpointer (it finishes its round)."""
    config = ServiceConfig.from_env(state_dir)
    proc = _worker_process(config)
    console.print("worker stopped" if proc.stop(timeout=60) else "worker was not running")
    cp = _checkpointer_process(config)
    console.print("checkpointer stopped" if cp.stop(timeout=60) else "checkpointer was not running")


@app.command()
def status(state_dir: StateDir) -> None:
    """Whether the worker and the checkpointer run, and the index's queue and batch counts."""
    from sqlalchemy import func, select

    from ledger_service.index import models as m

    context = LedgerContext.from_env(state_dir)
    pid = _worker_process(context.config).pid()
    cp_pid = _checkpointer_process(context.config).pid()
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
    for col in ("worker", "checkpointer", "records", "pending", "batches"):
        table.add_column(col)
    table.add_row(
        f"running (pid {pid})" if pid else "[red]stopped[/]",
        f"running (pid {cp_pid})" if cp_pid else "stopped",
        str(records),
        str(pending),
        ", ".join(f"{k}={v}" for k, v in sorted(batches.items())) or "-",
    )
    console.print(table)


def _demo_retention_run(context: LedgerContext, overdue: str, timeout: float) -> str:
    """The demo's retention run (as of today): erases the expired overdue with an erasure
    record, then waits until that record is anchored; returns the erased record's id."""
    run = demo_retention_run(context)
    console.print(
        f"retention run {run.run_id}: erased {len(run.erased)} expired negative record(s)"
        + ("" if run.erased else " (the demo's overdue was erased by an earlier run)")
    )
    stored = context.records.get_record(overdue)
    if stored is not None and stored.erased_by is not None:
        try:
            wait_anchored(context.records, [stored.erased_by], timeout=timeout)
        except DemoNotAnchored as exc:
            fail(str(exc))
    return overdue


def demo(
    state_dir: StateDir,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for anchoring.")] = 120,
) -> None:
    """Write a small demo (4 enterprises' stories) through the SDK and the running API, wait
    until anchored, and show what a regulator, a bank and an operator would run next."""
    from credit_ledger_client import Client

    context = LedgerContext.from_env(state_dir)
    config = context.config
    url = running_api_url(config)
    if url is None:
        fail("the API is not running: start it with `ledgerctl api start` (make up does)")
    writer = demo_writer(config.state_dir)
    # operator steps: register the platform's writer key, issue one API key per user
    context.intake.register_writer(writer.actor, writer.public_key)
    tokens = demo_api_keys(ApiKeys(context.session_factory), config.state_dir, writer.actor)
    with Client(base_url=url, api_key=tokens["writer"].read_text().strip()) as client:
        demo_run = write_demo(client.append, writer)
        old_results, overdue = write_old_loan(client.append, context.records, writer)
    results = [*demo_run.results, *old_results]
    created = sum(r.status == "created" for r in results)
    console.print(
        f"demo: {len(results)} records written through the SDK to {url} "
        f"({created} new, {len(results) - created} already there)"
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
    expired = _demo_retention_run(context, overdue, timeout)
    _demo_witnesses(context, url, tokens)
    score, loan, disputed = demo_run.latest_score, demo_run.loan_id, demo_run.disputed
    case, repaired = demo_run.repair_case, demo_run.repaired
    why = '--purpose "demo: loan audit"'
    key = {user: f'-H "Authorization: Bearer $(cat {path})"' for user, path in tokens.items()}
    console.print(
        "\nA regulator (over HTTP with the regulator's key, or with ledgerctl on this host):\n"
        f'  curl -s {key["regulator"]} "{url}/v1/lineage/{loan}/diff'
        '?purpose=supervision&as_of=decision"\n'
        f'  curl -s {key["regulator"]} "{url}/v1/lineage/{loan}?purpose=supervision'
        f'&as_of=decision&format=svg" -o /tmp/{loan}.svg\n'
        f"  uv run ledgerctl lineage {loan} --as-of decision --diff {why}\n"
        f"  uv run ledgerctl impact {disputed} {why}\n"
        "Objections (Art. 25: answered within 20 days; the case stays open in the demo):\n"
        f"  uv run ledgerctl objections list --status open {why}\n"
        f"  uv run ledgerctl objections show {demo_run.objection} {why}\n"
        f"  uv run ledgerctl objections report {why}\n"
        f"  uv run ledgerctl objections bundle {demo_run.objection} --out /tmp/objection.json"
        f" {why}\n"
        f"  uv run credit-ledger-verify /tmp/objection.json --trust /tmp/ledger-trust\n"
        f'  curl -s {key["regulator"]} "{url}/v1/reports/objections?purpose=supervision"\n'
        "More:\n"
        f"  uv run ledgerctl timeline {demo_run.subject} {why}\n"
        f"  uv run ledgerctl evidence {loan} --lineage --as-of decision"
        f" --out /tmp/{loan}.lineage.json\n"
        f"  uv run ledgerctl access-report {demo_run.subject}\n"
        "A regulator following the credit-repair case (信用修复; docs/regulation.md):\n"
        f'  curl -s {key["regulator"]} "{url}/v1/repairs/{case}?purpose=supervision"\n'
        f'  curl -s {key["regulator"]} "{url}/v1/reports/repairs?purpose=supervision"\n'
        f"  uv run ledgerctl repairs show {case} {why}\n"
        f"  uv run ledgerctl repairs list --status approved {why}\n"
        f"  uv run ledgerctl repairs report {why}\n"
        "A bank no longer sees the repaired court record (404, as for an unknown id):\n"
        f'  curl -s {key["bank"]} "{url}/v1/records/{repaired}?purpose=loan_review"\n'
        "A bank (evidence over HTTP; the offline verifier needs only the orgs' CA certificates):\n"
        f"  curl -s -X POST {key['bank']} -H 'content-type: application/json'"
        f' -d \'{{"record_ids":["{score}"]}}\''
        f' "{url}/v1/evidence?purpose=loan_review" -o /tmp/{score}.json\n'
        "  uv run ledgerctl trust export /tmp/ledger-trust\n"
        f"  uv run credit-ledger-verify /tmp/{score}.json --trust /tmp/ledger-trust\n"
        "A regulator checking expiry (Art. 16): the demo's retention run erased an overdue whose "
        "5 years ran out;\n"
        "its evidence is the anchored erasure record, verified offline as 'erased on DATE under "
        "loan_overdue':\n"
        "  uv run ledgerctl retention report; uv run ledgerctl erasures list\n"
        f"  uv run ledgerctl evidence {expired} --out /tmp/{expired}.json\n"
        "  uv run ledgerctl trust export /tmp/ledger-trust   # includes the service key\n"
        f"  uv run credit-ledger-verify /tmp/{expired}.json --trust /tmp/ledger-trust\n"
        f'  curl -s {key["regulator"]} "{url}/v1/reports/erasures?purpose=supervision"\n'
        "An operator:\n"
        "  uv run ledgerctl service status; uv run ledgerctl api status;"
        " uv run ledgerctl keys list\n",
        highlight=False,
        soft_wrap=True,  # commands stay on one line, to copy
    )


def _demo_witnesses(context: LedgerContext, url: str, tokens: dict[str, Path]) -> None:
    """Checkpoint the global log and let the bank's and the regulator's witnesses cosign it
    once; print how to run one continuously."""
    from sqlalchemy.exc import SQLAlchemyError

    from ledger_service.cli.index import REPLAY_ERRORS
    from ledger_service.samples.demo_witnesses import (
        DEMO_WITNESSES,
        issue_demo_checkpoint,
        run_demo_witnesses,
    )

    expected: tuple[type[BaseException], ...] = (*REPLAY_ERRORS, LedgerError, SQLAlchemyError)
    try:
        issued = issue_demo_checkpoint(context)
        outcomes = run_demo_witnesses(context, url, tokens)
    except expected as exc:
        console.print(f"[yellow]witnesses: not run ({exc})[/]", highlight=False)
        return
    console.print(f"\nglobal log checkpoint: size {issued.checkpoint.size}")
    for outcome in outcomes:
        console.print(f"  witness {outcome.name} ({outcome.directory}): {outcome.outcome}")
    name = DEMO_WITNESSES[0]
    console.print(
        "Run a witness continuously (it checks each new checkpoint, cosigns, alarms on a fork):\n"
        f"  uv run ledgerctl witness run --api {url} --api-key-file {tokens[name]}"
        f" --state {context.config.state_dir / 'witness' / name} --interval 10\n"
        f'  curl -s -H "Authorization: Bearer $(cat {tokens[name]})" {url}/v1/checkpoints/latest',
        highlight=False,
        soft_wrap=True,
    )
