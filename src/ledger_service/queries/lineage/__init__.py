"""Lineage and provenance queries over the index (docs/lineage.md): upstream and downstream
walks to a depth and as of a time, loans and their decision time, a subject's timeline —
all answering with one graph model (:mod:`.model`) that every output renders."""

from ledger_service.queries.lineage.diff import (
    Change,
    ChangeKind,
    LineageDiff,
    change_to_json,
    changes_between,
    diff_to_json,
    lineage_since,
)
from ledger_service.queries.lineage.impact import (
    DEFAULT_IMPACT_DEPTH,
    Impact,
    LoanImpact,
    impact,
    impact_to_json,
)
from ledger_service.queries.lineage.listings import Flag, flagged
from ledger_service.queries.lineage.loans import (
    DECISION,
    DECISION_EVENTS,
    AsOf,
    Start,
    find_loan,
    lineage_of,
    loan_lineage,
    resolve,
)
from ledger_service.queries.lineage.model import (
    DEFAULT_DEPTH,
    DEFAULT_NODE_LIMIT,
    MAX_DEPTH,
    Direction,
    Edge,
    EdgeKind,
    LineageGraph,
    LineageQueryError,
    Loan,
    Node,
    graph_to_json,
    loan_to_json,
    node_to_json,
)
from ledger_service.queries.lineage.walk import downstream, timeline, upstream

__all__ = [
    "DECISION",
    "DECISION_EVENTS",
    "DEFAULT_DEPTH",
    "DEFAULT_IMPACT_DEPTH",
    "DEFAULT_NODE_LIMIT",
    "MAX_DEPTH",
    "AsOf",
    "Change",
    "ChangeKind",
    "Direction",
    "Edge",
    "EdgeKind",
    "Flag",
    "Impact",
    "LineageDiff",
    "LineageGraph",
    "LineageQueryError",
    "Loan",
    "LoanImpact",
    "Node",
    "Start",
    "change_to_json",
    "changes_between",
    "diff_to_json",
    "downstream",
    "find_loan",
    "flagged",
    "graph_to_json",
    "impact",
    "impact_to_json",
    "lineage_of",
    "lineage_since",
    "loan_lineage",
    "loan_to_json",
    "node_to_json",
    "resolve",
    "timeline",
    "upstream",
]
