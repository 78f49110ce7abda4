"""The access log: entries written and listed (newest first, filtered)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger_service.errors import ValidationError
from ledger_service.queries import AccessLog
from tests.unit.conftest import NOW


def test_access_log(access_log: AccessLog) -> None:
    access_log.log(accessor="regulator", query="lineage", purpose="audit", subject="S1")
    access_log.log(accessor="bank", query="evidence", purpose="loan review", record_id="r1")
    access_log.log(accessor="bank", query="timeline", purpose="loan review", subject="S1")
    assert [e.accessor for e in access_log.entries(subject="S1")] == ["bank", "regulator"]
    bank = access_log.entries(accessor="bank")
    assert [e.query for e in bank] == ["timeline", "evidence"]
    assert bank[1].record_id == "r1"
    assert bank[1].accessed_at == NOW
    assert access_log.entries(since=datetime(2030, 1, 1, tzinfo=UTC)) == []
    with pytest.raises(ValidationError, match="1-") as caught:
        access_log.log(accessor="bank", query="lineage", purpose=" ")
    assert caught.value.field == "purpose"
