"""index.bulk: the one-statement lookups and the SQLite datetime shortcut equal the plain paths.

(The bulk INSERT paths are pinned against the Core insert in tests/unit/intake/test_fast_path.py,
through intake, which is what writes them.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import make_engine
from ledger_service.index.bulk import _fast_sqlite_datetimes, select_in, select_many
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory
from tests.unit.conftest import NOW


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    offset_minutes=st.one_of(st.none(), st.integers(-14 * 60, 14 * 60)),
)
def test_sqlite_datetime_shortcut_equals_the_column_type(
    moment: datetime, offset_minutes: int | None
) -> None:
    dialect = make_engine("sqlite://").dialect
    processor = RecordRow.metadata.tables["records"].c.occurred_at.type.dialect_impl(dialect)
    processor_function = processor.bind_processor(dialect)
    assert processor_function is not None
    shortcut = _fast_sqlite_datetimes(processor_function)
    value = moment
    if offset_minutes is not None:
        value = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert shortcut(value) == processor_function(value)
    naive = moment.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive datetime"):
        processor_function(naive)
    with pytest.raises(ValueError, match="naive datetime"):
        shortcut(naive)


@pytest.mark.parametrize("count", [0, 1, 2500])
def test_select_many_equals_in_lists(session_factory: sessionmaker[Session], count: int) -> None:
    """The one-statement lookup (ANY(array) / json_each) finds what chunked IN lists find."""
    factory = RecordFactory("platform")
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer("platform", factory.public_key)
    stored = [factory.data_update(f"sm-{i}") for i in range(30)]
    service.append(stored)
    wanted = [f"sm-{i}" for i in range(0, 60, 2)] + [f"absent-{i}" for i in range(count)]
    wanted += ['it\'s "quoted"', "ünïcode-✓"]
    query = select(RecordRow.record_id, RecordRow.commitment)
    with session_factory() as session:
        fast = sorted(
            tuple(row) for row in select_many(session, query, RecordRow.record_id, wanted)
        )
        plain = sorted(tuple(row) for row in select_in(session, query, RecordRow.record_id, wanted))
        assert list(select_many(session, query, RecordRow.record_id, [])) == []
    assert fast == plain
    assert [row[0] for row in fast] == sorted(f"sm-{i}" for i in range(0, 30, 2))


def test_select_many_never_matches_a_prefix(session_factory: sessionmaker[Session]) -> None:
    """A longer id must not match a stored id that is its first 128 characters."""
    factory = RecordFactory("platform")
    service = LedgerService(session_factory=session_factory, clock=lambda: NOW)
    service.register_writer("platform", factory.public_key)
    stored_id = "p" * 128
    service.append([factory.data_update(stored_id)])
    query = select(RecordRow.record_id)
    with session_factory() as session:
        found = list(select_many(session, query, RecordRow.record_id, [stored_id + "pp"]))
        assert found == []
        found = list(select_many(session, query, RecordRow.record_id, [stored_id]))
        assert [row[0] for row in found] == [stored_id]
