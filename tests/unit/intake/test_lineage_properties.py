"""Property: whatever sequence of requests arrives, the accepted lineage graph is acyclic.

Argument (checked here on random inputs, both backends): a record is accepted only if every
record it refers to is already in the index or earlier in the same request, and an accepted
record's references never change (a different content under the same id is refused). The
outbox gives every accepted record a strictly increasing ``seq`` in acceptance order, so every
edge child → parent goes from a larger seq to a smaller one; a cycle would need an edge going
up. Rejected requests must leave the index untouched.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from credit_ledger_verify.records import Record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import LedgerError
from ledger_service.index.models import LineageEdge, OutboxEntry
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory, table_counts

NAMES = [f"n{i}" for i in range(8)]

# A request: records given as (own name, names of parents); names collide on purpose, so
# requests contain forward references, cycles, dangling parents, replays and conflicts.
requests_strategy = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            st.lists(st.sampled_from(NAMES), unique=True, max_size=3),
        ),
        min_size=1,
        max_size=6,
    ),
    min_size=1,
    max_size=6,
)

_example = itertools.count()


def build(
    factory: RecordFactory, prefix: str, request: Sequence[tuple[str, list[str]]]
) -> list[Record]:
    records = []
    for name, parents in request:
        parent_ids = [f"{prefix}-{p}" for p in parents if p != name]
        records.append(factory.score_change(f"{prefix}-{name}", parents=parent_ids))
    return records


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=requests_strategy)
def test_accepted_lineage_is_always_acyclic(
    session_factory: sessionmaker[Session], requests: list[list[tuple[str, list[str]]]]
) -> None:
    factory = RecordFactory("platform")
    service = LedgerService(session_factory=session_factory)
    service.register_writer("platform", factory.public_key)
    prefix = f"x{next(_example)}"  # examples share the database: keep their ids apart

    for request in requests:
        before = table_counts(session_factory)
        try:
            service.append(build(factory, prefix, request))
        except LedgerError:
            assert table_counts(session_factory) == before

    with session_factory() as session:
        seq = {
            row.record_id: row.seq
            for row in session.execute(select(OutboxEntry.record_id, OutboxEntry.seq))
        }
        edges = [
            (row.child_id, row.parent_id)
            for row in session.execute(select(LineageEdge.child_id, LineageEdge.parent_id))
        ]
    for child, parent in edges:
        assert seq[parent] < seq[child], f"edge {child} -> {parent} does not point back in time"
    assert_acyclic(edges)


def assert_acyclic(edges: list[tuple[str, str]]) -> None:
    """Kahn's algorithm: every node can be removed iff there is no cycle."""
    children: dict[str, list[str]] = {}
    indegree: dict[str, int] = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)
        indegree[child] = indegree.get(child, 0) + 1
        indegree.setdefault(parent, 0)
    ready = [node for node, degree in indegree.items() if degree == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for child in children.get(node, []):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    assert removed == len(indegree), "the lineage graph has a cycle"
