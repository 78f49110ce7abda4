"""The index's read side: record reads with anchor facts, the access log, and the lineage
walks (upstream, downstream, as of a time; :mod:`.lineage`) the REST API will serve."""

from ledger_service.queries.access import AccessLog, AccessRecord
from ledger_service.queries.lineage import (
    Edge,
    EdgeKind,
    LineageGraph,
    LineageQueryError,
    Node,
    downstream,
    upstream,
)
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
    "Edge",
    "EdgeKind",
    "LineageGraph",
    "LineageQueryError",
    "Node",
    "PendingRecord",
    "RecordQueries",
    "StoredRecord",
    "downstream",
    "stored_records",
    "upstream",
]
