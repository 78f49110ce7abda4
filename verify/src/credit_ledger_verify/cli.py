"""`credit-ledger-verify BUNDLE... --trust DIR [--log-key FILE] [--json] [--all]`: a bank's
offline check of evidence and lineage bundles (docs/evidence-format.md) against the network's
org CA certificates (and, for checkpoint-form bundles, the log's key); and
`credit-ledger-verify --checkpoint FILE... --log-key FILE [--witness-key FILE]...
[--min-cosignatures K]`: signed checkpoints of the global log under a k-of-n witness policy
(docs/transparency.md). Exit 0: everything verified; 1: a record, lineage, bundle or
checkpoint failed; 2: bad usage, an unreadable trust directory or key file. `ledgerctl
verify` runs the same code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from credit_ledger_verify.errors import LedgerError
from credit_ledger_verify.evidence.model import VerificationResult
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.evidence.verifier import Verifier
from credit_ledger_verify.report import TABLE_LIMIT, json_report, print_report
from credit_ledger_verify.tlog import CheckpointPolicy, policy_files

__all__ = ["TRUST_LOG_KEY", "load_checkpoint_policy", "main", "verify_sources"]


#: The log's note verifier key inside a trust directory (``ledgerctl trust export`` writes it).
TRUST_LOG_KEY = "log.vkey"


def load_checkpoint_policy(
    log_key: str | None,
    witness_keys: Sequence[str] = (),
    witnesses: int = 0,
    *,
    trust_dir: str | None = None,
) -> CheckpointPolicy | None:
    """The checkpoint policy from key files (each holds one note verifier key,
    ``name+keyid+base64``): the log's key (default: ``log.vkey`` of ``trust_dir`` when it is
    there), the witnesses' keys and how many must cosign. ``None`` without a log key
    (checkpoint-form bundles then fail step 3, saying so).

    Raises:
        OSError: a key file cannot be read. LedgerError: a key is malformed, or the policy
            is inconsistent (``witnesses`` above the keys given).
    """
    if log_key is None and trust_dir is not None:
        beside = os.path.join(trust_dir, TRUST_LOG_KEY)
        log_key = beside if os.path.exists(beside) else None
    if log_key is None:
        if witness_keys or witnesses:
            raise ValueError("witness keys need the log key (--log-key)")
        return None
    return policy_files.load_checkpoint_policy(log_key, witness_keys, witnesses)


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
        "--log-key",
        metavar="FILE",
        help="the transparency log's note verifier key (checkpoint-form bundles; default: "
        f"{TRUST_LOG_KEY} in the trust directory, if there)",
    )
    parser.add_argument(
        "--witness-key",
        metavar="FILE",
        action="append",
        default=[],
        help="a witness's verifier key (repeat; one per witness name); see --min-cosignatures",
    )
    parser.add_argument(
        "--min-cosignatures",
        type=int,
        default=0,
        metavar="K",
        help="cosignatures required from the --witness-key witnesses (default 0)",
    )
    parser.add_argument(
        "--signatures-only",
        action="store_true",
        help="trust a checkpoint on the log key (and K cosignatures) alone: do not check its "
        "anchoring transaction (steps 4-7 reported as skipped)",
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
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint file; with --log-key (`ledgerctl checkpoint log-key`) and "
        "--witness-key / --min-cosignatures",
    )
    return parser


def _check_checkpoints(args: argparse.Namespace, console: Console) -> int | None:
    """Verify the checkpoint files; the exit status (None: there were none)."""
    if not args.checkpoint:
        return None
    try:
        policy = policy_files.load_checkpoint_policy(
            args.log_key, args.witness_key, args.min_cosignatures
        )
    except LedgerError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    results = policy_files.verify_checkpoint_files(args.checkpoint, policy)
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
        policy = load_checkpoint_policy(
            args.log_key, args.witness_key, args.min_cosignatures, trust_dir=args.trust
        )
    except (LedgerError, OSError, ValueError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    verifier = Verifier(store, checkpoint_policy=policy, checkpoint_chain=not args.signatures_only)
    results = verify_sources(verifier, args.bundles)
    if args.as_json:
        sys.stdout.write(json_report(results))
    else:
        print_report(console, results, show_all=args.show_all)
    ok = all(r.ok for r in results)
    return max(0 if ok else 1, checkpoints or 0)
