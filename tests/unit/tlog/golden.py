"""Loads tests/data/tlog (see make_cases.py there): TEST-ONLY keys and the case files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credit_ledger_verify.tlog import CheckpointPolicy, SignerKey, VerifierKey

DATA = Path(__file__).parents[2] / "data" / "tlog"
CHECKPOINT_CASES = sorted((DATA / "checkpoints").glob("*.json"))
CONSISTENCY_CASES = sorted((DATA / "consistency").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


KEYS = load(DATA / "keys.json")
LOG_SIGNER = SignerKey.parse(KEYS["log_signer"])
WITNESS_SIGNERS = [SignerKey.parse(text) for text in KEYS["witness_signers"]]
POLICY = CheckpointPolicy(
    VerifierKey.parse(KEYS["log"]),
    tuple(VerifierKey.parse(text) for text in KEYS["witnesses"]),
    KEYS["witnesses_required"],
)
