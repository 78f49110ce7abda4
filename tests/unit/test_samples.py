"""Sample and demo records: ids without business meaning, and a re-runnable demo."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from credit_ledger_verify.records import RecordKind

from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from ledger_service.queries import RecordQueries
from ledger_service.queries.lineage import loan_lineage
from ledger_service.queries.objections import list_cases
from ledger_service.queries.repairs import repair_case
from ledger_service.queries.visibility import Audience, RepairView
from ledger_service.samples.data import SampleWriter, enterprise_code, enterprise_story, stories
from ledger_service.samples.demo import (
    DEMO_ENTERPRISES,
    demo_retention_run,
    write_demo,
    write_old_loan,
)
from tests.db.fixtures import IndexDatabase
from tests.unit.conftest import NOW


@pytest.fixture
def ledger(index_db: IndexDatabase) -> LedgerContext:
    """Overrides conftest's: a clock that ticks a second per reading, so the demo's second
    request is recorded after its first (as a real clock would)."""
    ticks = itertools.count()
    return LedgerContext(
        index_db.context.config,
        engine=index_db.engine,
        migrate=False,
        clock=lambda: NOW + timedelta(seconds=next(ticks)),
    )


def test_story_ids_reveal_neither_enterprise_nor_role() -> None:
    writer = SampleWriter()
    for n in (0, 7, 1234567):
        story = enterprise_story(writer, n)
        subject = enterprise_code(n)
        for record in story:
            assert re.fullmatch(r"[0-9a-f]{32}", record.record_id), record.record_id
            assert subject not in record.record_id
            assert f"{n:07d}" not in record.record_id
        assert len({r.record_id for r in story}) == len(story)


def test_ids_are_stable_per_key_and_differ_between_keys() -> None:
    writer = SampleWriter()
    again = SampleWriter(actor=writer.actor, signing_key=writer.signing_key)
    other = SampleWriter()
    ids = [r.record_id for r in stories(writer, 27, prefix="run1")]
    assert ids == [r.record_id for r in stories(again, 27, prefix="run1")]
    assert not set(ids) & {r.record_id for r in stories(other, 27, prefix="run1")}
    assert not set(ids) & {r.record_id for r in stories(writer, 27, prefix="run2")}
    assert all(rid.startswith("run1-") for rid in ids)


def test_demo_is_re_runnable_and_names_a_score_and_a_loan_changed_since_its_decision(
    ledger: LedgerContext, service: LedgerService, queries: RecordQueries
) -> None:
    writer = SampleWriter(actor="demo-platform-writer")
    service.register_writer(writer.actor, writer.public_key)
    first = write_demo(service.append, writer)
    assert len(first.results) == DEMO_ENTERPRISES * 9 + 2 + 5
    assert {r.status for r in first.results} == {"created"}
    score = queries.get_record(first.latest_score)
    assert score is not None
    assert score.kind == RecordKind.SCORE_CHANGE.value
    second = write_demo(service.append, writer)
    assert {r.status for r in second.results} == {"existing"}
    assert second.latest_score == first.latest_score
    # the demo's loan: as the bank decided, nothing flagged; now, its data corrected and disputed
    with ledger.session_factory() as session:
        then = loan_lineage(session, first.loan_id, as_of="decision")
        now = loan_lineage(session, first.loan_id)
    assert not any(n.disputed or n.superseded_by for n in then.nodes.values())
    assert now.nodes[first.disputed].disputed
    # ... by an open objection case (Art. 25), which the regulator's listing shows
    mark = now.nodes[first.disputed].objection
    assert mark is not None
    assert (mark.case, mark.status) == (first.objection, "open")
    with ledger.session_factory() as session:
        cases = list_cases(session, as_of=ledger.now(), status="open")
    assert [c.case for c in cases] == [first.objection]
    assert sum(n.superseded_by is not None for n in now.nodes.values()) == 1
    assert then.loan is not None
    assert now.loan is not None
    assert len(then.loan.events) == 2  # application, approval; the disbursement came later
    assert len(now.loan.events) == 3
    # the repair case: approved, linked to its score change; the court record repaired
    with ledger.session_factory() as session:
        case = repair_case(session, first.repair_case)
        assert RepairView(Audience.BANK).hidden(session, [first.repaired]) == {first.repaired}
    assert case.status == "approved"
    assert case.affected == (first.repaired,)
    assert case.score_change is not None


def test_ordered_ids_follow_creation_order_and_are_unique() -> None:
    from ledger_service.samples.data import SampleWriter, ordered_record_ids, stories

    records = list(stories(SampleWriter(), 40, prefix="p", record_ids=ordered_record_ids("p")))
    ids = [r.record_id for r in records]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(rid.startswith("p-") for rid in ids)


def test_the_demo_erases_its_expired_overdue_once(
    ledger: LedgerContext, service: LedgerService, queries: RecordQueries
) -> None:
    writer = SampleWriter(actor="demo-platform-writer")
    service.register_writer(writer.actor, writer.public_key)
    written, overdue = write_old_loan(service.append, queries, writer)
    assert [r.status for r in written] == ["created"] * 5
    run = demo_retention_run(ledger)  # as of the clock's day, 2025-03-01
    assert [(d.record_id, d.rule) for d in run.erased] == [(overdue, "loan_overdue")]
    stored = queries.get_record(overdue)
    assert stored is not None
    assert stored.erased
    assert stored.erased_by == run.erased[0].erasure_record_id
    # a second demo writes nothing (the erased id cannot be written again) and erases nothing
    again, same = write_old_loan(service.append, queries, writer)
    assert (again, same) == ([], overdue)
    assert demo_retention_run(ledger).erased == []
