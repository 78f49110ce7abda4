"""Evidence after erasure (docs/evidence-format.md §8): an erased record's entry carries no
content and salt, and names its erasure record (``erasure.record_id``), another entry of the
same bundle with full content. Step 1 of the erased record then checks, instead of content:

* the erasure record is in the bundle with its content, and verified (all its steps);
* its content is an ``erasure`` record naming this record (``payload.erased_record``);
* it is signed (Ed25519 over its signing bytes) by a key the trust directory trusts for
  erasure records (``erasure_signers``, by actor).

Steps 2-6 of the erased record are the usual ones (its commitment is anchored). The outcome
says "erased on DATE under RULE" — neither verified content nor a failure.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credit_ledger_verify.errors import ValidationError
from credit_ledger_verify.evidence.bundle import MalformedRecord, RecordEntry
from credit_ledger_verify.evidence.model import (
    ErasureFinding,
    RecordOutcome,
    Step,
    StepResult,
    StepStatus,
)
from credit_ledger_verify.evidence.trust import TrustStore
from credit_ledger_verify.records import ErasurePayload, RecordKind, parse_record

__all__ = ["apply_erasures"]


def apply_erasures(
    entries: Sequence[RecordEntry | MalformedRecord],
    outcomes: tuple[RecordOutcome, ...],
    trust: TrustStore,
) -> tuple[RecordOutcome, ...]:
    """``outcomes`` with step 1 of every erased entry replaced by the erasure check."""
    by_id: dict[str, tuple[RecordEntry, RecordOutcome]] = {
        entry.record_id: (entry, outcome)
        for entry, outcome in zip(entries, outcomes, strict=True)
        if isinstance(entry, RecordEntry)
    }
    return tuple(
        _checked(entry, outcome, by_id, trust)
        if isinstance(entry, RecordEntry) and entry.erasure_record is not None
        else outcome
        for entry, outcome in zip(entries, outcomes, strict=True)
    )


def _checked(
    entry: RecordEntry,
    outcome: RecordOutcome,
    by_id: Mapping[str, tuple[RecordEntry, RecordOutcome]],
    trust: TrustStore,
) -> RecordOutcome:
    try:
        step, finding = _erasure_step(entry, by_id, trust)
    except Exception as exc:  # hostile input must not crash the verifier: fail closed
        step, finding = _failed(f"erasure check error: {type(exc).__name__}: {exc}")
    steps = tuple(step if s.step is Step.CONTENT else s for s in outcome.steps)
    return dataclasses.replace(outcome, steps=steps, redacted=True, erasure=finding)


def _failed(detail: str) -> tuple[StepResult, None]:
    return StepResult(Step.CONTENT, StepStatus.FAILED, detail), None


def _erasure_step(
    entry: RecordEntry,
    by_id: Mapping[str, tuple[RecordEntry, RecordOutcome]],
    trust: TrustStore,
) -> tuple[StepResult, ErasureFinding | None]:
    named = entry.erasure_record
    assert named is not None
    found = by_id.get(named)
    if found is None:
        return _failed(f"erased, but its erasure record {named!r} is not in the bundle")
    erasure_entry, erasure_outcome = found
    if erasure_entry.content is None:
        return _failed(f"erasure record {named!r} is in the bundle without its content")
    if not erasure_outcome.ok:
        return _failed(f"erasure record {named!r} does not verify: {erasure_outcome.message}")
    try:
        record = parse_record(erasure_entry.content.encode("utf-8"))
    except (ValidationError, ValueError) as exc:
        return _failed(f"erasure record {named!r} cannot be parsed: {exc}")
    payload = record.payload
    if record.kind is not RecordKind.ERASURE or not isinstance(payload, ErasurePayload):
        return _failed(f"record {named!r} is a {record.kind.value} record, not an erasure record")
    if payload.erased_record != entry.record_id:
        return _failed(
            f"erasure record {named!r} erased {payload.erased_record!r}, not {entry.record_id!r}"
        )
    problem = _signature_problem(record.actor, record.signature, record.signing_bytes(), trust)
    if problem is not None:
        return _failed(f"erasure record {named!r}: {problem}")
    finding = ErasureFinding(
        erasure_record_id=named,
        basis=payload.basis.value,
        rule=payload.rule,
        erased_at=record.occurred_at,
        signer=record.actor,
    )
    detail = (
        f"erased on {record.occurred_at.date().isoformat()} under {payload.rule} "
        f"({payload.basis.value}): erasure record {named} verified, signed by {record.actor}"
    )
    return StepResult(Step.CONTENT, StepStatus.PASSED, detail), finding


def _signature_problem(
    actor: str, signature: str | None, signed: bytes, trust: TrustStore
) -> str | None:
    keys = trust.erasure_signers.get(actor, ())
    if not keys:
        return (
            f"its signer {actor!r} is not trusted for erasure records (the trust directory's "
            "erasure_signers)"
        )
    if signature is None:
        return "it is not signed"
    try:
        raw = base64.b64decode(signature, validate=True)
    except binascii.Error:
        return "its signature is not base64"
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(raw, signed)
        except (InvalidSignature, ValueError):
            continue
        return None
    return f"its signature does not verify under any trusted key of {actor!r}"
