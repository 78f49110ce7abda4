"""Checkpoint-form (compact) bundle: bytes, and verifications per second on one core with a
FRESH verifier per bundle (warm trust store: the org CA certificates loaded once, as a bank's
long-running process would), under both checkpoint policies:

* chain — steps 1–7: inclusion, log-key signature, the AnchorCheckpoint transaction, its
  endorsements, block and orderer signature (ECDSA P-256);
* signatures — steps 1–3 only: the checkpoint trusted on the log key's Ed25519 signature
  (plus k witness cosignatures when required), the chain path not checked.

    uv run python scripts/bench_compact.py [--bundle tests/data/evidence/checkpoint/bundle.json]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import time
from pathlib import Path

from credit_ledger_verify.tlog import CheckpointPolicy, VerifierKey

from ledger_service.evidence import TrustStore, Verifier

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence" / "checkpoint"


def _rate(raw: bytes, trust: TrustStore, policy: CheckpointPolicy, chain: bool, seconds: float):
    count, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        result = Verifier(trust, checkpoint_policy=policy, checkpoint_chain=chain).verify(raw)
        assert result.ok, result.messages
        count += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return count / wall, cpu / count * 1e6


def _profile(raw: bytes, trust: TrustStore, policy: CheckpointPolicy, chain: bool) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(300):
        Verifier(trust, checkpoint_policy=policy, checkpoint_chain=chain).verify(raw)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, default=DATA / "bundle.json")
    ap.add_argument("--trust", type=Path, default=DATA / "trust")
    ap.add_argument("--log-key", type=Path, default=DATA / "log.vkey")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # one core
    raw = args.bundle.read_bytes()
    trust = TrustStore.load(args.trust)
    policy = CheckpointPolicy(VerifierKey.parse(args.log_key.read_text().strip()))
    bundle = json.loads(raw)
    record = bundle["records"][0]
    parts = {
        "anchor.packed (block: envelope + orderer signature, DEFLATE)": len(
            bundle["anchor"]["packed"]
        ),
        "record content (JSON string, escaped)": len(json.dumps(record.get("content", ""))),
        "checkpoint note": len(json.dumps(bundle["checkpoint"])),
        "log.proof": len(record["log"]["proof"]),
    }
    print(f"bundle: {args.bundle} — {len(raw)} bytes")
    for name, size in parts.items():
        print(f"  {size:5d}  {name}")
    print(f"  {len(raw) - sum(parts.values()):5d}  the rest (salt, hashes, names, JSON)")
    Verifier(trust, checkpoint_policy=policy).verify(raw).raise_for_failure()  # warm the trust
    for chain in (True, False):
        rate, cpu_us = _rate(raw, trust, policy, chain, args.seconds)
        label = "chain (steps 1-7)" if chain else "signatures (steps 1-3)"
        print(f"policy {label}: {rate:,.0f} bundles/s, {cpu_us:,.0f} µs CPU per bundle")
        if args.profile:
            print(_profile(raw, trust, policy, chain))


if __name__ == "__main__":
    main()
