"""Intake rules of objection cases, on SQLite and PostgreSQL: a refused request names the
record and field and writes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import DanglingParent, ValidationError
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory, uscc
from tests.unit.intake.test_service import assert_rejected


def _factory(service: LedgerService) -> sessionmaker[Session]:
    return service._session_factory


def test_case_columns_are_filled_at_intake(service: LedgerService, platform: RecordFactory) -> None:
    service.append([platform.data_update("si"), platform.data_update("si2", supersedes="si")])
    service.append([platform.objection("o1", disputes="si2")])
    service.append(
        [platform.objection("o1-up", step="upheld", case="o1", reason="checked: correct")]
    )
    with _factory(service)() as session:
        rows = {
            r.record_id: (r.case_id, r.case_step, r.case_deadline)
            for r in session.execute(
                select(
                    RecordRow.record_id,
                    RecordRow.case_id,
                    RecordRow.case_step,
                    RecordRow.case_deadline,
                )
            )
        }
    # NOW (tests/unit/conftest.py) is 2025-03-01 20:00 in China time; 20 days to answer
    assert rows["o1"] == ("o1", "opened", date(2025, 3, 21))
    assert rows["o1-up"] == ("o1", "upheld", None)
    assert rows["si"] == (None, None, None)


def test_one_open_case_per_record(service: LedgerService, platform: RecordFactory) -> None:
    service.append([platform.data_update("si"), platform.objection("o1", disputes="si")])
    assert_rejected(
        service,
        _factory(service),
        [platform.objection("o2", disputes="si")],
        ValidationError,
        record_id="o2",
        field="disputes",
        match="already has an open objection",
    )
    # in one request, too
    service.append([platform.data_update("tax")])
    assert_rejected(
        service,
        _factory(service),
        [platform.objection("o3", disputes="tax"), platform.objection("o4", disputes="tax")],
        ValidationError,
        record_id="o4",
        field="disputes",
        match="record 1 of the request",
    )
    # once resolved, a new case may open
    service.append([platform.objection("o1-rej", step="rejected", case="o1", reason="no")])
    service.append([platform.objection("o5", disputes="si")])


def test_resolution_needs_an_open_case_of_the_same_subject(
    service: LedgerService, platform: RecordFactory
) -> None:
    other = uscc(2)
    service.append(
        [
            platform.data_update("si"),
            platform.objection("o1", disputes="si"),
            platform.data_update("x", subject=other),
            platform.objection("ox", disputes="x", subject=other),
        ]
    )
    factory = _factory(service)
    assert_rejected(
        service,
        factory,
        [platform.objection("r1", step="upheld", case="nope")],
        DanglingParent,
        record_id="r1",
        field="payload.case",
    )
    assert_rejected(
        service,
        factory,
        [platform.objection("r2", step="upheld", case="si")],
        ValidationError,
        record_id="r2",
        field="payload.case",
        match="not an opened objection",
    )
    assert_rejected(
        service,
        factory,
        [platform.objection("r3", step="upheld", case="ox")],
        ValidationError,
        record_id="r3",
        field="payload.case",
        match="is about",
    )
    service.append([platform.objection("r4", step="upheld", case="o1")])
    assert_rejected(
        service,
        factory,
        [platform.objection("r5", step="rejected", case="o1")],
        ValidationError,
        record_id="r5",
        field="payload.case",
        match="already resolved",
    )
    # two resolutions of one case in one request
    assert_rejected(
        service,
        factory,
        [
            platform.objection("r6", step="upheld", case="ox", subject=other),
            platform.objection("r7", step="rejected", case="ox", subject=other),
        ],
        ValidationError,
        record_id="r7",
        field="payload.case",
        match="already resolved",
    )


def test_corrected_names_a_correction_of_the_disputed_record(
    service: LedgerService, platform: RecordFactory
) -> None:
    service.append(
        [
            platform.data_update("si"),
            platform.data_update("tax"),
            platform.objection("o1", disputes="si"),
            platform.data_update("tax2", supersedes="tax"),
        ]
    )
    factory = _factory(service)
    assert_rejected(
        service,
        factory,
        [platform.objection("c1", step="corrected", case="o1", correction="tax2")],
        ValidationError,
        record_id="c1",
        field="payload.correction",
        match="does not supersede the disputed record",
    )
    assert_rejected(
        service,
        factory,
        [platform.objection("c2", step="corrected", case="o1", correction="missing")],
        DanglingParent,
        record_id="c2",
        field="payload.correction",
    )
    # the correction and the resolution in one request, the correction first
    service.append(
        [
            platform.data_update("si2", supersedes="si"),
            platform.objection("c3", step="corrected", case="o1", correction="si2"),
        ]
    )


def test_a_resolution_cannot_name_another_resolution_as_its_case(
    service: LedgerService, platform: RecordFactory
) -> None:
    service.append([platform.data_update("si"), platform.objection("o1", disputes="si")])
    service.append([platform.objection("r1", step="upheld", case="o1")])
    assert_rejected(
        service,
        _factory(service),
        [platform.objection("r2", step="rejected", case="r1")],
        ValidationError,
        record_id="r2",
        field="payload.case",
        match="it is the upheld step of case 'o1'",
    )
