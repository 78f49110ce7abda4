"""Reads through the SDK: whoami, a record (content for its writer and auditors, none for a
bank), its anchor (none before batching), lineage as JSON and as an export."""

from __future__ import annotations

import pytest
from sdk_testutil import ACTOR, InProcessLedger, data_updates


def test_whoami(ledger: InProcessLedger) -> None:
    with ledger.client() as client:
        me = client.whoami()
    assert (me.role, me.org, me.actors) == ("writer", "writer-org", (ACTOR,))


def test_record_and_anchor(ledger: InProcessLedger) -> None:
    record = data_updates(ledger.writer, 1)[0]
    with ledger.client() as writer:
        [result] = writer.append([record])
        mine = writer.record(record.record_id, purpose="supervision", purpose_detail="sdk test")
        assert writer.anchor(record.record_id) is None
    with ledger.client("verifier") as bank:
        seen_by_bank = bank.record(record.record_id, purpose="loan_review")
    assert mine.commitment == result.commitment
    assert mine.anchor is None
    assert mine.content == record.to_json_dict()
    assert seen_by_bank.content is None
    assert seen_by_bank.subject == record.subject


async def test_async_reads(ledger: InProcessLedger) -> None:
    record = data_updates(ledger.writer, 1)[0]
    async with ledger.async_client() as writer:
        await writer.append([record])
    async with ledger.async_client("auditor") as auditor:
        info = await auditor.record(
            record.record_id, purpose="supervision", purpose_detail="sdk test"
        )
        graph = await auditor.lineage(
            record.record_id, purpose="supervision", purpose_detail="sdk test"
        )
        dot = await auditor.lineage(
            record.record_id, purpose="supervision", purpose_detail="sdk test", format="dot"
        )
    assert info.actor == ACTOR
    assert record.record_id in str(graph)
    assert dot.startswith(b"digraph")


def test_lineage_json_and_export(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 2)
    score = ledger.writer.build(
        "score_change",
        record_id="sdk-score",
        subject=records[0].subject,
        occurred_at=records[1].occurred_at,
        source="scoring-engine",
        parents=[r.record_id for r in records],
        payload={
            "model_id": "sme-credit",
            "model_version": "4.1.0",
            "score_before": "640",
            "score_after": "688",
            "grade_before": "BB",
            "grade_after": "BBB",
            "dimension_scores": {"tax": "82.5"},
            "reason_codes": ["TAX_ON_TIME"],
        },
    )
    with ledger.client() as writer:
        writer.append([*records, score])
    with ledger.client("auditor") as auditor:
        graph = auditor.lineage(
            "sdk-score", purpose="supervision", purpose_detail="sdk test", depth=2
        )
        prov = auditor.lineage(
            "sdk-score", purpose="supervision", purpose_detail="sdk test", format="prov-json"
        )
    assert {r.record_id for r in records} <= set(str(graph).split("'"))
    assert b"prov" in prov


def test_purpose_is_required(ledger: InProcessLedger) -> None:
    with ledger.client("auditor") as auditor, pytest.raises(ValueError, match="purpose"):
        auditor.record("x", purpose="")


def test_an_objection_case_written_with_the_writer_helpers_shows_on_the_record(
    ledger: InProcessLedger,
) -> None:
    record = data_updates(ledger.writer, 1, prefix="sdk-obj")[0]
    envelope = {"occurred_at": "2026-03-01T08:00:00Z", "source": "objection-desk"}
    opened = ledger.writer.open_objection(
        disputes=record.record_id, subject=record.subject, reason="paid in full", **envelope
    )
    upheld = ledger.writer.resolve_objection(
        case=opened.record_id, step="upheld", subject=record.subject, reason="checked", **envelope
    )
    with ledger.client() as writer:
        writer.append([record, opened])
        during = writer.record(record.record_id, purpose="supervision", purpose_detail="t")
        writer.append([upheld])
        after = writer.record(record.record_id, purpose="supervision", purpose_detail="t")
    assert during.disputed is True
    assert during.objection is not None
    assert during.objection["status"] == "open"
    assert after.disputed is False
    assert after.objection is not None
    assert (after.objection["status"], after.objection["resolution"]) == (
        "upheld",
        upheld.record_id,
    )
