"""`credit-ledger-verify BUNDLE... --trust DIR [--json] [--all]`: a bank's offline check of
evidence and lineage bundles (docs/evidence-format.md) against the network's org CA
certificates; and `credit-ledger-verify --checkpoint FILE... --log-key FILE [--witness-key
FILE]... [--min-cosignatures K]`: signed checkpoints of the global log under a k-of-n witness
policy (docs/transparency.md). Exit 0: everything verified; 1: a record, lineage, bundle or
checkpoint failed; 2: bad usage, an unreadable trust directory or key file. `ledgerctl
verify` runs the same code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.evidence.model import VerificationResult
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.evidence.verifier import Verifier
from credit_ledger_verify.report import TABLE_LIMIT, json_report, print_report
from credit_ledger_verify.tlog.policy_files import load_checkpoint_policy, verify_checkpoint_files

__all__ = ["main", "verify_sources"]


def verify_sources(verifier: Verifier, sources: Sequence[str]) -> list[VerificationResult]:
    """Verify each bundle file (``-``: standard input) with one verifier (blocks checked once)."""
    results: list[VerificationResult] = []
    for name in sources:
        if name == "-":
            results.append(verifier.verify(sys.stdin.buffer.read(), source="<stdin>"))
        else:
            results.append(verifier.verify_file(name))
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="credit-ledger-verify",
        description="Verify credit-ledger evidence and lineage bundles offline (no network, "
        "no index) against a trust directory of org CA certificates; exit 1 if anything fails.",
    )
    parser.add_argument("bundles", nargs="*", metavar="BUNDLE", help="bundle files ('-': stdin)")
    parser.add_argument(
        "--trust",
        metavar="DIR",
        help="trust directory (org CA certificates and trust.json, from the operator's "
        "`ledgerctl trust export DIR`)",
    )
    parser.add_argument(
        "--json", action="store_true", dest="as_json", help="print the results as JSON"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help=f"list every record, even above {TABLE_LIMIT} (default: only the failures then)",
    )
    checkpoints = parser.add_argument_group(
        "checkpoints", "signed checkpoints of the global log (as the API serves them)"
    )
    checkpoints.add_argument(
        "--checkpoint", action="append", default=[], metavar="FILE", help="a checkpoint file"
    )
    checkpoints.add_argument(
        "--log-key", metavar="FILE", help="the log's verifier key (`ledgerctl checkpoint log-key`)"
    )
    checkpoints.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="FILE",
        help="a witness's verifier key (repeatable; one per witness name)",
    )
    checkpoints.add_argument(
        "--min-cosignatures",
        type=int,
        default=0,
        metavar="K",
        help="how many of the --witness-key witnesses must have cosigned (default 0)",
    )
    return parser


def _check_checkpoints(args: argparse.Namespace, console: Console) -> int | None:
    """Verify the checkpoint files; the exit status (None: there were none)."""
    if not args.checkpoint:
        return None
    try:
        policy = load_checkpoint_policy(args.log_key, args.witness_key, args.min_cosignatures)
    except LedgerError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    results = verify_checkpoint_files(args.checkpoint, policy)
    for result in results:
        console.print(result.line(), highlight=False, markup=False, soft_wrap=True)
    return 0 if all(r.ok for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    if args.checkpoint and args.log_key is None:
        parser.error("--checkpoint needs --log-key FILE")
    checkpoints = _check_checkpoints(args, console)
    if not args.bundles:
        if checkpoints is None:
            parser.error("name bundles (with --trust) or --checkpoint files")
        return checkpoints
    if args.trust is None:
        parser.error("bundles need --trust DIR")
    try:
        store = TrustStore.load(args.trust)
    except (LedgerError, OSError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    results = verify_sources(Verifier(store), args.bundles)
    if args.as_json:
        sys.stdout.write(json_report(results))
    else:
        print_report(console, results, show_all=args.show_all)
    ok = all(r.ok for r in results)
    return max(0 if ok else 1, checkpoints or 0)
