"""The index's read side: record reads with anchor facts, the access log — and the home of
the lineage queries (upstream, downstream, timeline, as-of) the REST API will serve."""

from ledger_service.queries.access import AccessLog, AccessRecord
from ledger_service.queries.records import (
    AnchorInfo,
    PendingRecord,
    RecordQueries,
    StoredRecord,
    stored_records,
)

__all__ = [
    "AccessLog",
    "AccessRecord",
    "AnchorInfo",
    "PendingRecord",
    "RecordQueries",
    "StoredRecord",
    "stored_records",
]
