"""`ledgerctl index rebuild | reconcile`: the index against the channel it is derived from."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from credit_ledger_verify.tlog import VerifierKey
from fabric_gateway import GatewayError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from ledger_service.chainsync import (
    ChainIntegrityError,
    MirrorGapError,
    ReplayProgress,
    ReplayResult,
)
from ledger_service.chainsync.exposure import scan_channel
from ledger_service.chainsync.reconcile import Mismatch, ReconcileSummary, Scope, reconcile
from ledger_service.cli._common import DbUrl, StateDir, console, err_console, fail
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.fabric.blocks import DeliverBlockStream
from ledger_service.tlog.checkpoints import platform_origin, read_log_verifier

app = typer.Typer(
    help="Rebuild the index's chain facts from the channel's blocks; reconcile index vs chain.",
    no_args_is_help=True,
)

REPLAY_ERRORS: tuple[type[BaseException], ...] = (
    GatewayError,
    ChainIntegrityError,
    MirrorGapError,
    OSError,
    RuntimeError,
)

SCAN_ERRORS: tuple[type[BaseException], ...] = (*REPLAY_ERRORS, SQLAlchemyError)


@contextmanager
def _progress(title: str, enabled: bool = True) -> Iterator[Callable[[ReplayProgress], None]]:
    """A rich progress bar over blocks, with the records count and rate; yields the callback."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TextColumn("{task.fields[records]:>12,} records"),
        TextColumn("{task.fields[rate]:>10,.0f} rec/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not enabled,
    )
    task = progress.add_task(title, total=None, records=0, rate=0.0)
    started = time.monotonic()

    def update(p: ReplayProgress) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        progress.update(
            task,
            total=p.last_block - p.first_block + 1,
            completed=p.blocks,
            records=p.records,
            rate=p.records / elapsed,
        )

    with progress:
        yield update


def _replay(
    config: ServiceConfig,
    *,
    restore: bool,
    from_block: int | None = None,
    reset: bool = False,
    requeue: bool = True,
    title: str,
    show_progress: bool = True,
) -> ReplayResult:
    context = LedgerContext(config)
    try:
        target = context.fabric_target
    except FileNotFoundError as exc:
        fail(f"no network description: {exc}", code=2)
    try:
        with target.gateway() as gateway, _progress(title, show_progress) as on_progress:
            return context.replay(
                DeliverBlockStream(gateway, target.channel),
                from_block=from_block,
                reset=reset,
                restore=restore,
                requeue=requeue,
                on_progress=on_progress,
            )
    except REPLAY_ERRORS as exc:
        fail(f"replay failed: {exc}", code=2)


@app.command()
def rebuild(
    state_dir: StateDir,
    db_url: DbUrl = None,
    from_block: Annotated[
        int | None,
        typer.Option(
            "--from-block",
            help="Replay from this block (default: resume after the last replayed block, or 0).",
            min=0,
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="Empty the chain mirror first and replay from block 0.")
    ] = False,
    restore: Annotated[
        bool,
        typer.Option(
            help="Also fill the index's missing anchoring facts (batches, anchors, outbox)."
        ),
    ] = True,
    requeue: Annotated[
        bool,
        typer.Option(help="Queue index records that are neither anchored nor on the chain."),
    ] = True,
) -> None:
    """Replay the channel's blocks into the index (chain mirror + missing anchoring facts).

    Restores what the chain holds — batches (root, size, tx id, block, envelope) and where
    each record sits (batch, leaf; outbox "batched") — for records the index has, and
    queues records found neither anchored nor on chain. It cannot restore what lives only
    off chain: record rows, content and salts (the chain has only salted commitments),
    lineage, writer keys, access log. Facts that contradict the chain are left alone and
    reported by `ledgerctl index reconcile`. Resumes after the last replayed block.
    """
    config = ServiceConfig.from_env(state_dir, db_url)
    result = _replay(
        config,
        restore=restore,
        from_block=from_block,
        reset=reset,
        requeue=requeue,
        title="replaying blocks",
    )
    if result.first_block is None:
        console.print(
            f"mirror already at block {result.height - 1} (channel height {result.height}); "
            "no blocks to replay"
        )
    else:
        console.print(
            f"replayed blocks {result.first_block}..{result.last_block}: "
            f"{result.records:,} records in {result.batches:,} batches, "
            f"{result.transactions:,} valid transactions "
            f"({result.skipped_transactions:,} invalid skipped) in {result.seconds:.2f}s — "
            f"[bold]{result.records_per_second:,.0f} records/s[/]"
        )
    if result.restore is not None:
        r = result.restore
        console.print(
            f"index restored: {r.batches_inserted} batches added, {r.batches_committed} marked "
            f"committed, {r.envelopes_stored} envelopes, {r.anchors_inserted:,} record anchors, "
            f"{r.outbox_inserted + r.outbox_marked_batched:,} outbox rows batched, "
            f"{r.requeued:,} records queued for anchoring"
        )
    if result.anomaly_count:
        err_console.print(
            f"[yellow]{result.anomaly_count} writes did not follow the on-chain layout[/] "
            "(not mirrored):"
        )
        for line in result.anomalies[:20]:
            err_console.print(f"  {line}", highlight=False)


# The record column fits the sample and demo ids (`<tag>-<32 hex>`); longer ids fold.
KIND_WIDTH, RECORD_WIDTH, VALUE_WIDTH = 21, 44, 36


def _print_json(stream: Iterator[Mismatch], summary: ReconcileSummary, show_info: bool) -> None:
    out = sys.stdout
    for m in stream:
        if show_info or m.is_tampering:
            out.write(json.dumps(m.to_json(), separators=(",", ":")) + "\n")
    out.write(json.dumps({"summary": summary.to_json()}, separators=(",", ":")) + "\n")
    out.flush()


def _print_table(stream: Iterator[Mismatch], summary: ReconcileSummary, show_info: bool) -> None:
    """Streams: a table page per 200 mismatches (fixed column widths), then the summary."""
    page: list[Mismatch] = []
    first = True
    for m in stream:
        if not (show_info or m.is_tampering):
            continue
        page.append(m)
        if len(page) >= 200:
            console.print(_table(page, header=first))
            page, first = [], False
    if page:
        console.print(_table(page, header=first))
    counts = ", ".join(f"{k}: {n:,}" for k, n in sorted(summary.counts.items())) or "none"
    colour = "green" if summary.clean else "red"
    console.print(
        f"[{colour}]{summary.tampering:,} mismatches[/] over {summary.records_checked:,} "
        f"records on chain and {summary.checkpoints_checked:,} anchored checkpoints "
        f"({counts}); mirror blocks {summary.mirror_first_block}.."
        f"{summary.mirror_last_block}"
    )
    if summary.checkpoints_checked and not summary.checkpoint_signatures_checked:
        err_console.print(
            "[yellow]no log key in the state directory: checkpoint signatures not checked[/]"
        )
    if summary.mirror_last_block is None:
        err_console.print(
            "[yellow]the chain mirror is empty: nothing was compared (run without --no-sync, "
            "or `ledgerctl index rebuild`)[/]"
        )
    elif summary.mirror_first_block != 0:
        err_console.print(
            "[yellow]the mirror does not start at block 0: records anchored in earlier blocks "
            "were not checked (run `ledgerctl index rebuild --from-block 0`)[/]"
        )


def _subject(m: Mismatch) -> str:
    """The record a mismatch concerns: its id, or — for a record the index lost, which the
    chain knows only by commitment — its commitment."""
    if m.record_id:
        return m.record_id
    if m.commitment:
        return f"(commitment {m.commitment[:16]}..)"
    if m.checkpoint_size is not None:
        return f"(checkpoint {m.checkpoint_size})"
    return f"(batch {m.batch_id})"


def _table(rows: list[Mismatch], *, header: bool) -> Table:
    table = Table(show_header=header, box=None, pad_edge=False)
    table.add_column("record", min_width=RECORD_WIDTH, max_width=RECORD_WIDTH, overflow="fold")
    table.add_column("mismatch", min_width=KIND_WIDTH, max_width=KIND_WIDTH)
    table.add_column("index value", min_width=VALUE_WIDTH, max_width=VALUE_WIDTH, overflow="fold")
    table.add_column("chain value", min_width=VALUE_WIDTH, max_width=VALUE_WIDTH, overflow="fold")
    for m in rows:
        style = "yellow" if not m.is_tampering else "red"
        table.add_row(
            _subject(m),
            f"[{style}]{m.kind.value}[/]",
            m.index_value or "—",
            m.chain_value or "—",
        )
    return table


@app.command("reconcile")
def reconcile_cmd(
    state_dir: StateDir,
    db_url: DbUrl = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="JSON lines: one object per mismatch, then a summary."),
    ] = False,
    scope: Annotated[
        str,
        typer.Option(
            help="'channel': every record on the channel must be in the index; 'index': the "
            "channel is shared, only batches the index knows count for missing records."
        ),
    ] = "channel",
    sync: Annotated[
        bool, typer.Option(help="Catch the chain mirror up with the channel first.")
    ] = True,
    show_info: Annotated[
        bool, typer.Option(help="Also list erased records and anchoring in progress.")
    ] = True,
) -> None:
    """Compare the index with the chain; list every mismatch by record.

    Kinds: content_altered / content_missing (payload or salt does not hash to the chain
    commitment), missing_from_index, not_on_chain, anchor_missing / wrong_batch /
    wrong_leaf_index / wrong_tx_id / wrong_block_number / wrong_batch_state,
    commitment_mismatch, batch_root_mismatch / batch_size_mismatch / batch_not_on_chain;
    anchored checkpoints against the global log recomputed from the mirror:
    checkpoint_root_mismatch / checkpoint_beyond_log / checkpoint_signature_invalid /
    checkpoint_chain_broken; informational (not tampering): erased, anchoring_in_progress.
    Exit status: 0 clean, 1 mismatches found, 2 the check could not run.
    """
    if scope not in ("channel", "index"):
        fail(f"--scope must be 'channel' or 'index', got {scope!r}", code=2)
    config = ServiceConfig.from_env(state_dir, db_url)
    channel: str | None = None
    if sync:
        result = _replay(config, restore=False, title="catching up", show_progress=not as_json)
        channel = result.channel
    else:
        try:
            channel = config.topology().channel
        except FileNotFoundError:
            channel = None
    summary = ReconcileSummary()
    typed_scope: Scope = "index" if scope == "index" else "channel"
    try:
        log_key = _log_verifier(config)
        sessions = LedgerContext(config).session_factory
        stream = reconcile(
            sessions, scope=typed_scope, channel=channel, summary=summary, log_key=log_key
        )
        if as_json:
            _print_json(stream, summary, show_info)
        else:
            _print_table(stream, summary, show_info)
    except SQLAlchemyError as exc:
        fail(f"index database: {exc}", code=2)
    except LedgerError as exc:
        fail(str(exc), code=2)
    if not summary.clean:
        raise typer.Exit(1)


def _log_verifier(config: ServiceConfig) -> VerifierKey | None:
    """The platform log key's public half, if the state directory has the key."""
    try:
        topology = config.topology()
    except FileNotFoundError:
        return None
    origin = platform_origin(topology.channel, topology.chaincode)
    return read_log_verifier(config.state_dir, origin)


@app.command("exposure")
def exposure_cmd(state_dir: StateDir, db_url: DbUrl = None) -> None:
    """Scan every block of the channel for any record id, subject or business key the index
    holds (UTF-8, UTF-16, hex, base64): none may be on chain.

    A control value known to be on chain (the writer MSP id) must be found, which shows the
    scan reads the blocks. Exit status: 0 nothing found, 1 exposures found, 2 could not run.
    """
    config = ServiceConfig.from_env(state_dir, db_url)
    try:
        with LedgerContext(config) as context, context.fabric_target.gateway() as gateway:
            channel = context.fabric_target.channel
            stream = DeliverBlockStream(gateway, channel)
            report = scan_channel(
                context.session_factory, stream, controls={config.writer_msp: "writer MSP id"}
            )
    except SCAN_ERRORS as exc:
        fail(f"exposure scan failed: {exc}", code=2)
    console.print(
        f"scanned {report.blocks} blocks ({report.bytes:,} bytes) of channel {channel!r} for "
        f"{report.needles:,} values from the index"
    )
    if not report.controls_found:
        fail(
            "the control value (writer MSP id) was not found: the scan did not read the blocks",
            code=2,
        )
    if report.clean:
        console.print("no record id, subject or business key found on chain")
        return
    table = Table("block", "what", "value", "encoding", "offset")
    for e in report.exposures:
        table.add_row(str(e.block_number), e.label, e.value, e.encoding, str(e.offset))
    console.print(table)
    raise typer.Exit(1)
