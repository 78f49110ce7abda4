"""The `make up` demo: a few enterprises' stories written, anchored and ready to verify."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from credit_ledger_verify.records import Record, RecordKind
from credit_ledger_verify.records.payloads import FinancingEventPayload
from nacl.signing import SigningKey

from ledger_service.api.auth import ApiKeys, AuthenticationFailed
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError
from ledger_service.queries import RecordQueries
from ledger_service.retention.run import RunResult, run_retention
from ledger_service.samples.data import (
    SampleWriter,
    after_the_decision,
    enterprise_story,
    expired_overdue,
)
from ledger_service.samples.repair_case import repair_case

DEMO_ENTERPRISES = 4
DEMO_ACTOR = "demo-platform-writer"


class DemoNotAnchored(LedgerError):
    """The demo's records were not all anchored (a batch failed, or the wait timed out)."""

    code: ClassVar[str] = "demo_not_anchored"


@dataclass(frozen=True)
class DemoRun:
    """What the demo wrote: one result per record, and a score worth showing evidence for."""

    results: list[AppendOutcome]
    latest_score: str
    """The record id of the first enterprise's latest score change."""
    loan_id: str
    """The first enterprise's loan: approved, then its data corrected and disputed."""
    disputed: str
    """The record the first enterprise objected to after the approval."""
    objection: str
    """The objection case on it (its opening record), left open for the regulator to see."""
    subject: str
    """The first enterprise."""
    repair_case: str
    """The second enterprise's credit-repair case (its submission's record id): approved."""
    repaired: str
    """The negative record (a court record) that case repaired: banks no longer see it."""


def demo_writer(state_dir: Path) -> SampleWriter:
    """The demo writer's key, made once and kept (mode 0600) in the state directory, so a
    second `make up` replays identical signed records (idempotent)."""
    path = state_dir / "demo-writer.key"
    if path.exists():
        key = SigningKey(base64.b64decode(path.read_bytes()))
    else:
        key = SigningKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(bytes(key)))
    return SampleWriter(actor=DEMO_ACTOR, signing_key=key)


class AppendOutcome(Protocol):
    @property
    def record_id(self) -> str: ...
    @property
    def status(self) -> str: ...


#: Where the demo's records go: ``LedgerService.append`` in-process, or the SDK's
#: ``Client.append`` over HTTP (what ``ledgerctl demo`` does).
Append = Callable[[list[Record]], Sequence[AppendOutcome]]


#: The demo's API keys: role name -> (API role, org, name).
DEMO_KEYS = {
    "writer": ("writer", "demo platform", "demo-writer"),
    "bank": ("verifier", "Example Commercial Bank", "risk-desk"),
    "regulator": ("auditor", "Demo Regulator", "inspector"),
    # the log's witnesses (samples/demo_witnesses.py): a witness key's name is its witness's
    "bank-witness": ("witness", "Example Commercial Bank", "bank-witness"),
    "regulator-witness": ("witness", "Demo Regulator", "regulator-witness"),
}


def demo_api_keys(keys: ApiKeys, state_dir: Path, actor: str) -> dict[str, Path]:
    """One API key per demo user, its token in ``<state>/api-keys/<user>.token`` (mode 0600;
    the state directory is never committed). A token that still authenticates is reused."""
    folder = state_dir / "api-keys"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for user, (role, org, name) in DEMO_KEYS.items():
        path = folder / f"{user}.token"
        if path.exists():
            try:
                keys.authenticate(path.read_text().strip())
                paths[user] = path
                continue
            except AuthenticationFailed:
                path.unlink()
        actors = [actor] if role == "writer" else []
        _, token = keys.create(role=role, org=org, name=name, actors=actors)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        paths[user] = path
    return paths


def write_demo(append: Append, writer: SampleWriter) -> DemoRun:
    """Write the demo's stories through ``append`` (the writer must be registered)."""
    # Record ids are keyed hashes under the demo writer's key (samples.data): the chain
    # outlives a wiped index, and a new demo key must not collide with ids the channel
    # already holds, while the same key replays the same records.
    stories = [enterprise_story(writer, n) for n in range(DEMO_ENTERPRISES)]
    # Three requests, as the platform would send them over days: up to each loan's approval;
    # what followed it (disbursement, repair, rescoring); then the first enterprise's tax
    # data corrected and its social-insurance data disputed — so "as of the decision" and
    # "now" differ.
    decided = [next(i for i, r in enumerate(story) if _is_approval(r)) + 1 for story in stories]
    results = list(
        append([r for story, d in zip(stories, decided, strict=True) for r in story[:d]])
    )
    results += append([r for story, d in zip(stories, decided, strict=True) for r in story[d:]])
    changes = after_the_decision(writer, 0)
    results += append(changes)
    # the second enterprise's credit repair: submitted, verified (and re-scored), approved
    case = repair_case(writer, 1)
    for request in case:
        results += append(request)
    latest_score = [r for r in stories[0] if r.kind is RecordKind.SCORE_CHANGE][-1].record_id
    loan = next(r for r in stories[0] if isinstance(r.payload, FinancingEventPayload))
    assert isinstance(loan.payload, FinancingEventPayload)
    return DemoRun(
        results=results,
        latest_score=latest_score,
        loan_id=loan.payload.loan_id,
        disputed=changes[1].disputes or "",
        objection=changes[1].record_id,
        subject=loan.subject,
        repair_case=case[0][1].record_id,
        repaired=case[0][0].record_id,
    )


def write_old_loan(
    append: Append, records: RecordQueries, writer: SampleWriter
) -> tuple[list[AppendOutcome], str]:
    """The first enterprise's earlier, long-settled loan with an overdue whose 5 years ran
    out in 2024 (``samples.data.expired_overdue``), written once: once the retention run has
    erased the overdue, its id cannot be written again. Returns the results (empty on a
    rerun) and the overdue's record id."""
    old_loan = expired_overdue(writer, 0)
    overdue = old_loan[2].record_id
    if records.get_record(old_loan[0].record_id) is not None:
        return [], overdue
    return list(append(old_loan)), overdue


def demo_retention_run(context: LedgerContext) -> RunResult:
    """The demo's retention run as of today (China time): erases what expired, each with an
    erasure record that the worker then anchors."""
    erasures = context.erasures
    return run_retention(context.session_factory, erasures, erasures.today(), started_by="demo")


def wait_anchored(
    records: RecordQueries, record_ids: list[str], *, timeout: float
) -> dict[str, tuple[str, str, int]]:
    """Until every record sits in a committed batch: record → (batch, tx id, block).

    Raises:
        DemoNotAnchored: a record's batch failed, or ``timeout`` seconds passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, tuple[str, str, int]] = {}
        for stored in records.get_records(record_ids).values():
            anchor = stored.anchor
            if anchor is None:
                continue
            if anchor.batch_state == "failed":
                raise DemoNotAnchored(f"batch {anchor.batch_id} failed: {anchor.failure_reason}")
            if anchor.batch_state == "committed":
                found[stored.record_id] = (
                    anchor.batch_id,
                    anchor.tx_id or "",
                    anchor.block_number or 0,
                )
        if len(found) == len(record_ids):
            return found
        if time.monotonic() > deadline:
            raise DemoNotAnchored(
                f"{len(record_ids) - len(found)} of {len(record_ids)} demo records not anchored "
                f"within {timeout:.0f}s: is the worker running? (`ledgerctl service status`)"
            )
        time.sleep(0.2)


def _is_approval(record: Record) -> bool:
    payload = record.payload
    return isinstance(payload, FinancingEventPayload) and payload.event.value == "approval"
