"""`ledgerctl evidence`, `ledgerctl verify`, `ledgerctl trust export`: evidence bundles.

* ``evidence`` builds a bundle from the index and the chain (needs the network);
* ``verify`` checks bundles offline against a trust directory (needs nothing else);
* ``trust export`` writes the trust directory from the network's state directory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from credit_ledger_verify.cli import TRUST_LOG_KEY, load_checkpoint_policy, verify_sources
from credit_ledger_verify.evidence.binary_form import encode_cbor_bundle
from credit_ledger_verify.report import TABLE_LIMIT, json_report, print_report

from ledger_service.cli._common import StateDir, console, err_console, fail, run_or_fail
from ledger_service.cli._reads import parse_as_of
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError, ValidationError
from ledger_service.evidence import (
    EvidenceError,
    TrustStore,
    Verifier,
    build_lineage_bundle,
    encode_bundle,
)
from ledger_service.fabric.blocks import GatewayBlockReader
from ledger_service.fabric.checkpoints import CheckpointChainError
from ledger_service.queries.lineage import (
    DEFAULT_DEPTH,
    LineageQueryError,
    lineage_of,
)
from ledger_service.retention.service_key import erasure_signers
from ledger_service.tlog.checkpoints import load_or_create_log_key, platform_origin

trust_app = typer.Typer(help="Trust directories (org CA certificates) for offline verification.")


def register(app: typer.Typer) -> None:
    """Add the evidence commands to `ledgerctl`."""
    app.command("evidence")(evidence)
    app.command("access-evidence")(access_evidence)
    app.command("verify")(verify)
    app.add_typer(trust_app, name="trust")


def evidence(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Record ids to put in the bundle; with --lineage, records or one loan "
            "(record:ID / loan:ID when a name is both).",
            metavar="RECORD_OR_LOAN...",
        ),
    ],
    state_dir: StateDir,
    redact: Annotated[
        bool, typer.Option("--redact", help="Leave out content and salt (commitments only).")
    ] = False,
    form: Annotated[
        str,
        typer.Option(
            "--form",
            help="batch: the record's batch transaction and its whole block (format /3); "
            "checkpoint: compact, the record's inclusion in the newest anchored checkpoint of "
            "the global log and that checkpoint's small block (format /5).",
        ),
    ] = "batch",
    cbor: Annotated[
        bool,
        typer.Option(
            "--cbor",
            help="With --form checkpoint: write the bundle as deterministic CBOR (binary "
            "fields as bytes, about a fifth smaller) instead of JSON; verified the same way.",
        ),
    ] = False,
    lineage: Annotated[
        bool,
        typer.Option(
            "--lineage",
            help="A lineage bundle: every record the given ones (or the loan's events) rely "
            "on, upstream, and the edges between them.",
        ),
    ] = False,
    depth: Annotated[
        int, typer.Option("--depth", help="With --lineage: parent edges to follow.")
    ] = DEFAULT_DEPTH,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="With --lineage: the lineage as the index stood at this time (ISO 8601 with "
            "a zone), or 'decision' (the loan's decision time); default: now.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the bundle here (default: stdout).")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db", envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
) -> None:
    """Build an evidence bundle (docs/evidence-format.md) for one or many records, or a
    lineage bundle of records or a loan (--lineage)."""
    if not lineage and (as_of is not None or depth != DEFAULT_DEPTH):
        fail("--depth and --as-of only apply to a lineage bundle (--lineage)", code=2)
    if form not in ("batch", "checkpoint"):
        fail(f"--form must be batch or checkpoint, not {form!r}", code=2)
    if lineage and form != "batch":
        fail("--lineage bundles have the batch form only", code=2)
    if cbor and form != "checkpoint":
        fail("--cbor applies to the checkpoint form only (--form checkpoint)", code=2)
    if lineage and redact:
        fail(
            "--redact cannot be combined with --lineage: edges are checked against the "
            "records' content (erased records are carried as commitments anyway)",
            code=2,
        )
    when = parse_as_of(as_of, decision_allowed=True)
    context = LedgerContext.from_env(state_dir, db_url)
    target = run_or_fail(lambda: context.fabric_target)
    sessions = context.session_factory
    graph = None
    if lineage:
        with sessions() as session:
            graph = run_or_fail(
                lambda: lineage_of(session, names, depth=depth, as_of=when),
                LineageQueryError,
            )
    with target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, target.channel)
        if form == "checkpoint":
            bundle = run_or_fail(
                lambda: context.build_checkpoint_bundle(
                    names, chain=context.anchored_checkpoints(gateway), redact=redact
                ),
                EvidenceError,
                CheckpointChainError,
            )
        elif graph is None:
            bundle = run_or_fail(
                lambda: context.build_bundle(names, block_reader=reader, redact=redact),
                EvidenceError,
            )
        else:
            walked = graph
            bundle = run_or_fail(
                lambda: build_lineage_bundle(sessions, walked, block_source=reader),
                EvidenceError,
            )
    data = encode_cbor_bundle(bundle) if cbor else encode_bundle(bundle)
    blocks = len(bundle.get("blocks", [bundle.get("anchor")]))
    what = (
        f"{len(bundle['records'])} record(s), {blocks} block(s), "
        f"{len(data):,} bytes{' (redacted)' if redact else ''}"
    )
    if graph is not None:
        what = (
            f"lineage of {len(bundle['records'])} node(s), {len(graph.edges)} edge(s), "
            f"depth {graph.depth}, {len(bundle['blocks'])} block(s), {len(data):,} bytes"
        )
        if graph.truncated:
            err_console.print(
                "[yellow]the walk stopped at its node limit: the bundle is incomplete and will "
                "not verify; lower --depth[/]"
            )
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        err_console.print(f"evidence bundle: {what}", highlight=False)
    else:
        out.write_bytes(data)
        err_console.print(f"wrote {out}: {what}", highlight=False)


#: Most entries one access-log bundle may hold (a range is expanded before the check).
MAX_ACCESS_ENTRIES = 10_000


def access_entry_ids(specs: list[str]) -> list[int]:
    """Entry ids from ``42`` and ``40-49`` (inclusive ranges), in the order given.

    Raises:
        ValidationError: a spec that is not an id or a range of ids, or too many entries.
    """
    ids: list[int] = []
    for spec in specs:
        low, dash, high = spec.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValidationError(None, "entries", f"{spec!r} is not an entry id or a range A-B")
        first, last = int(low), int(high or low)
        if first < 1 or last < first:
            raise ValidationError(None, "entries", f"{spec!r}: ids start at 1, ranges go up")
        if len(ids) + (last - first + 1) > MAX_ACCESS_ENTRIES:
            raise ValidationError(
                None, "entries", f"more than {MAX_ACCESS_ENTRIES} entries in one bundle"
            )
        ids.extend(range(first, last + 1))
    return ids


def access_evidence(
    entries: Annotated[
        list[str],
        typer.Argument(help="Access-log entry ids, or ranges A-B (inclusive).", metavar="ENTRY..."),
    ],
    state_dir: StateDir,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the bundle here (default: stdout).")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db", envvar="LEDGER_DB_URL", help="Index database URL.")
    ] = None,
) -> None:
    """Build an access-log bundle (credit-ledger-access/1) for access-log entries: each
    entry's committed content, salt, Merkle proof and anchoring block; verify it with
    `ledgerctl verify` or `credit-ledger-verify`."""
    ids = run_or_fail(lambda: access_entry_ids(entries), ValidationError)
    context = LedgerContext.from_env(state_dir, db_url)
    target = run_or_fail(lambda: context.fabric_target)
    with target.gateway() as gateway:
        reader = GatewayBlockReader(gateway, target.channel)
        bundle = run_or_fail(
            lambda: context.build_access_bundle(ids, block_reader=reader), EvidenceError
        )
    data = encode_bundle(bundle)
    what = (
        f"{len(bundle['entries'])} access-log entr{'y' if len(ids) == 1 else 'ies'}, "
        f"{len(bundle['blocks'])} block(s), {len(data):,} bytes"
    )
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        err_console.print(f"access-log bundle: {what}", highlight=False)
    else:
        out.write_bytes(data)
        err_console.print(f"wrote {out}: {what}", highlight=False)


def verify(
    bundles: Annotated[list[str], typer.Argument(help="Bundle files ('-' reads stdin).")],
    trust: Annotated[
        Path,
        typer.Option(
            "--trust",
            help="Trust directory (`ledgerctl trust export DIR`): org CA certificates.",
        ),
    ],
    log_key: Annotated[
        Path | None,
        typer.Option(
            "--log-key",
            help="The log's note verifier key (checkpoint-form bundles; default: log.vkey in "
            "the trust directory, if there).",
        ),
    ] = None,
    witness_key: Annotated[
        list[Path] | None,
        typer.Option("--witness-key", help="A witness's cosigner key (repeat)."),
    ] = None,
    min_cosignatures: Annotated[
        int, typer.Option("--min-cosignatures", help="Cosignatures required from the witness keys.")
    ] = 0,
    signatures_only: Annotated[
        bool,
        typer.Option(
            "--signatures-only",
            help="Trust a checkpoint on its signatures alone (steps 4-7 skipped).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON instead of a table.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every record, even above {TABLE_LIMIT} (default: failures)."
        ),
    ] = False,
) -> None:
    """Verify evidence bundles offline (no network, no index); exit 1 if anything fails.
    The same verdicts and tables as the bank's `credit-ledger-verify` (one implementation:
    credit_ledger_verify.cli / report)."""
    store = run_or_fail(lambda: TrustStore.load(trust), EvidenceError)
    try:
        policy = load_checkpoint_policy(
            None if log_key is None else str(log_key),
            [str(p) for p in witness_key or ()],
            min_cosignatures,
            trust_dir=str(trust),
        )
    except (LedgerError, OSError, ValueError) as exc:
        fail(f"checkpoint keys: {exc}", code=2)
    verifier = Verifier(store, checkpoint_policy=policy, checkpoint_chain=not signatures_only)
    results = verify_sources(verifier, bundles)
    if as_json:
        sys.stdout.write(json_report(results))
    else:
        print_report(console, results, show_all=show_all)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@trust_app.command("export")
def trust_export(
    directory: Annotated[Path, typer.Argument(help="Directory to write (created if missing).")],
    state_dir: StateDir,
) -> None:
    """Write the network's trust directory: one `<MSPID>.pem` per org CA, trust.json (with
    the service key that signs erasure records, once it exists), and the transparency log's
    public key (log.vkey, created with the log key on first use)."""
    config = ServiceConfig.from_env(state_dir)
    topo = run_or_fail(config.topology)
    store = run_or_fail(lambda: TrustStore.from_topology(topo), EvidenceError)
    # trust the service key's erasure records, once it exists
    store.erasure_signers = run_or_fail(lambda: erasure_signers(config.state_dir), LedgerError)
    origin = platform_origin(topo.channel, topo.chaincode)
    log_key = run_or_fail(lambda: load_or_create_log_key(config.state_dir, origin), LedgerError)
    try:
        written = store.write(directory)
        # the log's public key beside the CAs: checkpoint-form bundles need both
        key_file = Path(directory) / TRUST_LOG_KEY
        key_file.write_text(log_key.verifier.encode() + "\n", encoding="ascii")
        written.append(key_file)
    except OSError as exc:
        fail(f"cannot write {directory}: {exc}")
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    console.print(
        f"application orgs: {', '.join(store.application_msps)}; orderer orgs: "
        f"{', '.join(store.orderer_msps)}; channel {store.channel}, chaincode {store.chaincode}",
        highlight=False,
    )
