"""Hand-built lineage graphs for the export tests: no database, every case on purpose."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ledger_service.queries.lineage import Edge, EdgeKind, LineageGraph, Loan, Node
from ledger_service.queries.records import AnchorInfo

T0 = datetime(2025, 6, 1, 9, 0, 0, 123456, tzinfo=UTC)
SUBJECT = "91110000MA0000001X"


def anchor(block: int, leaf: int = 0) -> AnchorInfo:
    return AnchorInfo(
        batch_id=f"b{block}-0123456789ab",
        leaf_index=leaf,
        batch_state="committed",
        batch_root=bytes(range(32)),
        batch_size=4,
        tx_id=f"{block:064x}",
        block_number=block,
        validation_code="VALID",
        committed_at=T0 + timedelta(hours=block),
        failure_reason=None,
    )


def node(
    record_id: str,
    kind: str,
    hour: int,
    *,
    depth: int = 0,
    source: str = "tax bureau 税务局",
    actor: str = "platform",
    superseded_by: str | None = None,
    disputed: bool = False,
    erased: bool = False,
    loan: tuple[str, str] | None = None,
    anchored: AnchorInfo | None = None,
) -> Node:
    return Node(
        record_id=record_id,
        kind=kind,
        subject=SUBJECT,
        occurred_at=T0 + timedelta(hours=hour) - timedelta(minutes=5),
        recorded_at=T0 + timedelta(hours=hour),
        source=source,
        actor=actor,
        depth=depth,
        superseded_by=superseded_by,
        disputed=disputed,
        erased=erased,
        loan_id=None if loan is None else loan[0],
        loan_event=None if loan is None else loan[1],
        anchor=anchored,
    )


def loan_story() -> LineageGraph:
    """A loan's lineage now: application and approval relying on a score that used a
    corrected (superseded) tax update, a disputed social-insurance update and an erased
    update; the correction and the objection are in the graph; one record is not anchored."""
    nodes = [
        node("approve", "financing_event", 5, loan=("L-1", "approval"), anchored=anchor(9, 1)),
        node(
            "apply", "financing_event", 4, depth=1, loan=("L-1", "application"), anchored=anchor(9)
        ),
        node("score1", "score_change", 3, depth=1, source="model v3", anchored=anchor(8)),
        node("tax", "data_update", 1, depth=2, superseded_by="tax2", anchored=anchor(7)),
        node(
            "si",
            "data_update",
            1,
            depth=2,
            disputed=True,
            source="social insurance",
            anchored=anchor(7, 1),
        ),
        node("gone", "data_update", 2, depth=2, erased=True, anchored=anchor(7, 2)),
        node("tax2", "credit_repair", 6, depth=3),  # recorded, not yet anchored
        node("objection", "data_update", 6, depth=3, actor="bank", source="bank desk"),
    ]
    edges = [
        Edge("approve", "score1", EdgeKind.DERIVED_FROM),
        Edge("approve", "apply", EdgeKind.DERIVED_FROM),
        Edge("apply", "score1", EdgeKind.DERIVED_FROM),
        Edge("score1", "tax", EdgeKind.DERIVED_FROM),
        Edge("score1", "si", EdgeKind.DERIVED_FROM),
        Edge("score1", "gone", EdgeKind.DERIVED_FROM),
        Edge("tax2", "tax", EdgeKind.SUPERSEDES),
        Edge("objection", "si", EdgeKind.DISPUTES),
    ]
    return LineageGraph(
        roots=("apply", "approve"),
        direction="up",
        depth=6,
        as_of=None,
        nodes={n.record_id: n for n in nodes},
        edges=edges,
        loan=Loan("L-1", ("apply", "approve"), "approve", T0 + timedelta(hours=5)),
    )


def large_graph(size: int = 200, seed: int = 7) -> LineageGraph:
    """A loan's lineage of ``size`` records shaped like a real one: a few loan events on a
    year of monthly scores, each relying on recent data updates from several sources; a few
    percent disputed, superseded, erased or not yet anchored."""
    rng = random.Random(seed)
    events = ["application", "approval", "disbursement", "repayment"]
    scores = 24
    data = size - len(events) - scores
    sources = ["tax bureau", "social insurance", "customs", "utilities", "court records"]
    nodes: list[Node] = []
    edges: list[Edge] = []
    data_ids = [f"du-{SUBJECT}-{i:04d}" for i in range(data)]
    for i, rid in enumerate(data_ids):
        roll = rng.random()
        nodes.append(
            node(
                rid,
                "data_update" if roll > 0.05 else "credit_repair",
                i // 8,
                depth=3,
                source=rng.choice(sources),
                disputed=0.05 < roll < 0.09,
                superseded_by=data_ids[i + 1] if 0.09 < roll < 0.13 and i + 1 < data else None,
                erased=0.13 < roll < 0.15,
                anchored=None if roll > 0.97 else anchor(i // 8),
            )
        )
    score_ids = [f"sc-{SUBJECT}-2025{m:02d}" for m in range(scores)]
    for m, rid in enumerate(score_ids):
        nodes.append(
            node(rid, "score_change", 200 + m, depth=2, source="model v3", anchored=anchor(30 + m))
        )
        # the month's own updates, and a couple of older ones still the latest of their kind
        own = data_ids[m * data // scores : (m + 1) * data // scores]
        older = data_ids[: m * data // scores]
        for parent in own + rng.sample(older, k=min(len(older), 2)):
            edges.append(Edge(rid, parent, EdgeKind.DERIVED_FROM))
    event_ids = [f"fe-L-77-{e}" for e in events]
    for i, (rid, event) in enumerate(zip(event_ids, events, strict=True)):
        nodes.append(
            node(
                rid,
                "financing_event",
                300 + i,
                depth=0 if i else 1,
                actor="bank",
                source="loan desk",
                loan=("L-77", event),
                anchored=anchor(60 + i),
            )
        )
        for parent in score_ids[-3:] + event_ids[:i]:
            edges.append(Edge(rid, parent, EdgeKind.DERIVED_FROM))
    ids = {n.record_id for n in nodes}
    for n in nodes:
        if n.superseded_by in ids:
            edges.append(Edge(n.superseded_by, n.record_id, EdgeKind.SUPERSEDES))
    return LineageGraph(
        roots=tuple(event_ids),
        direction="up",
        depth=6,
        as_of=None,
        nodes={n.record_id: n for n in nodes},
        edges=edges,
        loan=Loan("L-77", tuple(event_ids), event_ids[1], T0 + timedelta(hours=301)),
    )
