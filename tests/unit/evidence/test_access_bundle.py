"""Access-log bundles (credit-ledger-access/1) on a synthetic, properly signed PutBatch
transaction: they verify like records, and an entry changed after it was committed — purpose,
accessor, time, subject, or its id — fails at step 1 (content); a commitment changed to
match fails at step 3 (the chain has no such key)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from credit_ledger_verify.access_entry import AccessEntry, parse_access_entry
from credit_ledger_verify.errors import ValidationError

from ledger_service.evidence import BUNDLE_FORMAT, Step, StepStatus, Verifier
from tests.unit.evidence import synthetic

WHEN = datetime(2026, 1, 5, 8, 59, 1, 250000, tzinfo=UTC)
ENTRIES = [
    AccessEntry(
        entry_id=7,
        accessed_at=WHEN,
        accessor="bank/loans (verifier key k1)",
        query="evidence",
        purpose="loan_review",
        subject="91310000MA1FL0001X",
        record_id="r-1",
        request_id="req-1",
    ),
    AccessEntry(
        entry_id=8,
        accessed_at=WHEN,
        accessor="csrc/audit (auditor key k2)",
        query="lineage",
        purpose="supervision: annual review",
        subject="91310000MA1FL0002Y",
    ),
]


def _verify(bundle: dict[str, Any]) -> Any:
    return Verifier(synthetic.trust_store()).verify(json.dumps(bundle).encode())


def test_an_access_bundle_verifies_every_step() -> None:
    result = _verify(synthetic.access_bundle(ENTRIES))
    assert result.ok, result.messages
    assert [r.record_id for r in result.records] == ["access-7", "access-8"]
    content = result.records[0].step(Step.CONTENT)
    assert content.status is StepStatus.PASSED
    assert "access-log entry (evidence, purpose 'loan_review')" in content.detail


def _rewrite(content: str, **changes: Any) -> str:
    obj = json.loads(content)
    obj.update(changes)
    entry = parse_access_entry(json.dumps(obj, sort_keys=True, separators=(",", ":")))
    return entry.canonical_bytes().decode()


LATER = (WHEN + timedelta(hours=1)).isoformat(timespec="microseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "curiosity"},
        {"accessor": "someone else"},
        {"accessed_at": LATER},
        {"subject": "91310000MA1FL0003Z"},
    ],
    ids=["purpose", "accessor", "time", "subject"],
)
def test_a_changed_entry_fails_at_step_1(change: dict[str, Any]) -> None:
    bundle = synthetic.access_bundle(ENTRIES)
    bundle["entries"][0]["content"] = _rewrite(bundle["entries"][0]["content"], **change)
    result = _verify(bundle)
    first, second = result.records
    assert second.ok
    assert first.failure is not None
    assert first.failure.step is Step.CONTENT
    assert "SHA-256(salt ‖ content)" in first.failure.detail
    assert first.message.startswith('step 1 (content): record "access-7"')


def test_a_changed_entry_with_a_matching_commitment_fails_at_step_3() -> None:
    bundle = synthetic.access_bundle(ENTRIES)
    entry = bundle["entries"][0]
    entry["content"] = _rewrite(entry["content"], purpose="curiosity")
    salt = bytes.fromhex(entry["salt"])
    entry["commitment"] = hashlib.sha256(salt + entry["content"].encode()).hexdigest()
    (first, _) = _verify(bundle).records
    assert first.step(Step.CONTENT).status is StepStatus.PASSED
    assert first.failure is not None
    assert first.failure.step is Step.WRITE_SET


def test_an_entry_named_by_another_id_fails_at_step_1() -> None:
    bundle = synthetic.access_bundle(ENTRIES)
    bundle["entries"][0]["entry_id"] = 9
    (first, _) = _verify(bundle).records
    assert first.failure is not None
    assert first.failure.step is Step.CONTENT
    assert "content is access-log entry 7, not 9" in first.failure.detail


def test_a_record_bundle_with_access_content_is_not_a_record() -> None:
    access = synthetic.access_bundle(ENTRIES)
    as_records = copy.deepcopy(access)
    del as_records["entries"]
    as_records["format"] = BUNDLE_FORMAT
    as_records["records"] = [
        {**{k: v for k, v in e.items() if k != "entry_id"}, "record_id": f"syn-{i:04d}"}
        for i, e in enumerate(access["entries"])
    ]
    (first, _) = _verify(as_records).records
    assert first.failure is not None
    assert first.failure.step is Step.CONTENT
    assert "not a valid record" in first.failure.detail


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: b["entries"][0].pop("salt"), "must carry content and salt"),
        (lambda b: b["entries"][0].update(entry_id=0), "entry_id must be a positive integer"),
        (lambda b: b["entries"][0].update(record_id="r"), "not a record_id"),
    ],
)
def test_malformed_entries_fail_step_0(edit: Any, message: str) -> None:
    bundle = synthetic.access_bundle(ENTRIES)
    edit(bundle)
    (first, second) = _verify(bundle).records
    assert second.ok
    assert first.failure is not None
    assert first.failure.step is Step.FORMAT
    assert message in first.failure.detail


def test_an_access_bundle_lists_entries_not_records() -> None:
    bundle = synthetic.access_bundle(ENTRIES)
    bundle["records"] = bundle.pop("entries")
    result = _verify(bundle)
    assert result.error is not None
    assert "lists access-log 'entries'" in result.error


def test_entry_content_is_parsed_strictly() -> None:
    good = ENTRIES[0].canonical_bytes()
    assert parse_access_entry(good) == ENTRIES[0]
    obj = json.loads(good)
    for bad, field in (
        ({**obj, "kind": "x"}, "kind"),
        ({**obj, "subject": None}, "subject"),
        ({k: v for k, v in obj.items() if k != "purpose"}, "purpose"),
        ({**obj, "format": "credit-ledger-access-entry/0"}, "format"),
    ):
        with pytest.raises(ValidationError) as caught:
            parse_access_entry(json.dumps(bad, sort_keys=True, separators=(",", ":")))
        assert caught.value.field == field
    with pytest.raises(ValidationError, match="canonical"):
        parse_access_entry(json.dumps(obj, sort_keys=True))  # spaces: not canonical
