"""`credit-ledger-verify BUNDLE... --trust DIR [--json] [--all]`: a bank's offline check of
evidence and lineage bundles (docs/evidence-format.md) against the network's org CA
certificates. Exit 0: everything verified; 1: a record, lineage or bundle failed; 2: bad
usage or an unreadable trust directory. `ledgerctl verify` runs the same code."""

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
    parser.add_argument("bundles", nargs="+", metavar="BUNDLE", help="bundle files ('-': stdin)")
    parser.add_argument(
        "--trust",
        required=True,
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = _parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
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
    return 0 if all(r.ok for r in results) else 1
