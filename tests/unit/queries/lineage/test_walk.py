"""Lineage walks on hand-built graphs with known answers, on SQLite and PostgreSQL.

Records go in through the real intake (so intake's rules hold: parents exist first,
corrections and objections concern the same subject) with a clock the test moves, so that
"as of T" has something to tell apart.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger_service.context import LedgerContext
from ledger_service.export.picture import to_dot
from ledger_service.export.prov import read_prov_json, to_prov_json
from ledger_service.index.chain_models import ChainBatch
from ledger_service.index.models import Batch
from ledger_service.index.session import write_session
from ledger_service.intake import LedgerService
from ledger_service.queries.lineage import (
    MAX_DEPTH,
    Edge,
    EdgeKind,
    LineageGraph,
    LineageQueryError,
    downstream,
    graph_to_json,
    timeline,
    upstream,
)
from tests.db.erasure import erase_lawfully
from tests.db.factories import SUBJECT, RecordFactory
from tests.unit.queries.lineage.conftest import T0, Clock, depths, derived
from tests.unit.queries.test_records import anchor


def test_upstream_of_a_decision_to_full_depth(session: Session, story: dict[str, datetime]) -> None:
    graph = upstream(session, ["approve"])
    assert depths(graph) == {"approve": 0, "score1": 1, "si": 2, "tax": 2}
    assert derived(graph) == {("approve", "score1"), ("score1", "tax"), ("score1", "si")}
    assert not graph.truncated


def test_depth_limits_the_walk(session: Session, story: dict[str, datetime]) -> None:
    assert depths(upstream(session, ["approve"], depth=1)) == {"approve": 0, "score1": 1}
    assert depths(upstream(session, ["approve"], depth=0)) == {"approve": 0}


def test_as_of_decision_shows_the_parents_as_they_stood_and_now_shows_what_changed(
    session: Session, story: dict[str, datetime]
) -> None:
    then = upstream(session, ["approve"], as_of=story["decision"])
    now = upstream(session, ["approve"])
    # same nodes: the decision relied on tax and si, whatever happened to them since
    assert set(then.nodes) == set(now.nodes)
    assert then.nodes["tax"].superseded_by is None
    assert not then.nodes["si"].disputed
    assert now.nodes["tax"].superseded_by == "tax2"
    assert now.nodes["si"].disputed
    # just before the correction and the objection were recorded: still untouched
    before = upstream(session, ["approve"], as_of=story["corrected"] - timedelta(seconds=1))
    assert before.nodes["tax"].superseded_by is None
    assert not before.nodes["si"].disputed


def test_downstream_impact_as_of_a_time_leaves_out_later_records(
    session: Session, story: dict[str, datetime]
) -> None:
    assert depths(downstream(session, ["si"])) == {
        "si": 0,
        "score1": 1,
        "score2": 1,
        "approve": 2,
    }
    assert depths(downstream(session, ["si"], as_of=story["decision"])) == {
        "si": 0,
        "score1": 1,
        "approve": 2,
    }
    # a correction is not a derivation: the corrected record's impact is what used it
    assert depths(downstream(session, ["tax"])) == {"tax": 0, "score1": 1, "approve": 2}


def test_supersedes_and_disputes_edges_among_the_nodes(
    session: Session, story: dict[str, datetime]
) -> None:
    graph = downstream(session, ["tax2"])
    assert depths(graph) == {"tax2": 0, "score2": 1}
    up = upstream(session, ["score2", "tax2", "tax", "objection", "si"], depth=0)
    assert Edge("tax2", "tax", EdgeKind.SUPERSEDES) in up.edges
    assert Edge("objection", "si", EdgeKind.DISPUTES) in up.edges


def test_shared_parents_are_counted_once_at_their_smallest_depth(
    service: LedgerService, platform: RecordFactory, session: Session
) -> None:
    service.append([platform.data_update("d"), platform.data_update("e")])
    service.append(
        [
            platform.score_change("s1", parents=["d"]),
            platform.score_change("s2", parents=["d", "e"]),
        ]
    )
    service.append([platform.financing_event("loan", parents=["s1", "s2", "e"])])
    graph = upstream(session, ["loan"])
    assert depths(graph) == {"loan": 0, "s1": 1, "s2": 1, "e": 1, "d": 2}
    assert len(graph.edges) == 6


def test_a_loan_with_several_events_from_all_of_them(
    service: LedgerService, platform: RecordFactory, session: Session
) -> None:
    service.append([platform.data_update("d1"), platform.data_update("d2")])
    service.append([platform.score_change("sa", parents=["d1"])])
    service.append([platform.score_change("sb", parents=["d2"])])
    service.append([platform.financing_event("apply", parents=["sa"], event="application")])
    service.append(
        [platform.financing_event("approve2", parents=["sb", "apply"], event="approval")]
    )
    graph = upstream(session, ["apply", "approve2"])
    assert depths(graph) == {"apply": 0, "approve2": 0, "sa": 1, "sb": 1, "d1": 2, "d2": 2}


def test_erased_nodes_stay_in_the_graph_marked(
    service: LedgerService, platform: RecordFactory, session: Session, clock: Clock
) -> None:
    clock.at(1)
    service.append([platform.data_update("gone")])
    service.append([platform.score_change("kept", parents=["gone"])])
    decided = clock.at(2)
    clock.at(3)
    service.erase_record_content("gone")
    assert upstream(session, ["kept"]).nodes["gone"].erased
    assert not upstream(session, ["kept"], as_of=decided).nodes["gone"].erased


def test_an_erasure_with_its_record_says_why_in_every_output(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    session: Session,
    clock: Clock,
) -> None:
    clock.at(1)
    service.append([platform.data_update("asked"), platform.data_update("tampered")])
    service.append([platform.score_change("kept", parents=["asked", "tampered"])])
    erased_at = clock.at(3)
    erasure_id = erase_lawfully(
        service, ledger.session_factory, ledger.config.state_dir, "asked", when=erased_at
    )
    service.erase_record_content("tampered")  # no erasure record
    graph = upstream(session, ["kept"])
    asked, tampered = graph.nodes["asked"], graph.nodes["tampered"]
    assert asked.erasure is not None
    assert (asked.erasure.basis, asked.erasure.rule, asked.erasure.erasure_record) == (
        "request",
        "pipl_art47",
        erasure_id,
    )
    assert asked.erased_label == f"erased (pipl_art47, {erased_at.date().isoformat()})"
    assert tampered.erased
    assert tampered.erasure is None
    assert tampered.erased_label == "erased"
    as_json = {n["record_id"]: n for n in graph_to_json(graph)["nodes"]}
    assert as_json["asked"]["erasure"]["basis"] == "request"
    assert as_json["tampered"]["erasure"] is None
    assert as_json["kept"]["erasure"] is None
    dot = to_dot(graph)
    assert "erased (pipl_art47," in dot
    back = read_prov_json(to_prov_json(graph))
    assert back.nodes["asked"].erasure == asked.erasure


def test_anchoring_facts_count_once_committed_by_the_time_asked(
    ledger: LedgerContext,
    service: LedgerService,
    platform: RecordFactory,
    session: Session,
    clock: Clock,
) -> None:
    clock.at(1)
    service.append([platform.data_update("x")])
    anchor(ledger.session_factory, "b1-test", ["x"])
    committed = T0 + timedelta(hours=5)
    with write_session(ledger.session_factory) as s:
        s.execute(update(Batch).where(Batch.batch_id == "b1-test").values(committed_at=committed))
    node = upstream(session, ["x"]).nodes["x"]
    assert node.anchor is not None
    assert (node.anchor.batch_id, node.anchor.leaf_index, node.anchor.block_number) == (
        "b1-test",
        0,
        7,
    )
    assert node.anchor.committed_at == committed
    # recorded by hour 4, but its batch committed at hour 5: accepted, not yet anchored
    assert upstream(session, ["x"], as_of=T0 + timedelta(hours=4)).nodes["x"].anchor is None
    assert upstream(session, ["x"], as_of=committed).nodes["x"].anchor is not None
    # the block time is known once the chain mirror has read the block
    assert node.block_time is None
    block_time = committed - timedelta(seconds=2)
    with write_session(ledger.session_factory) as s:
        s.add(
            ChainBatch(
                batch_id="b1-test",
                root=b"\x01" * 32,
                size=1,
                tx_id="tx-b1-test",
                block_number=7,
                tx_index=0,
                creator_msp="PlatformMSP",
                tx_timestamp=block_time,
            )
        )
    session.rollback()  # a new read transaction sees the mirror row
    assert upstream(session, ["x"]).nodes["x"].block_time == block_time
    assert upstream(session, ["x"], as_of=T0 + timedelta(hours=4)).nodes["x"].block_time is None


def test_node_limit_truncates_and_says_so(session: Session, story: dict[str, datetime]) -> None:
    graph = upstream(session, ["approve"], limit=2)
    assert graph.truncated
    assert depths(graph) == {"approve": 0, "score1": 1}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: upstream(s, []), "at least one record"),
        (lambda s: upstream(s, ["nope"]), "'nope' is not in the index"),
        (lambda s: upstream(s, ["approve"], depth=MAX_DEPTH + 1), "depth"),
        (lambda s: downstream(s, ["approve"], limit=0), "limit"),
        (
            lambda s: upstream(s, ["score2"], as_of=T0 + timedelta(hours=2)),
            "'score2' is not in the index by",
        ),
    ],
)
def test_bad_queries_are_refused_by_name(
    session: Session,
    story: dict[str, datetime],
    call: Callable[[Session], LineageGraph],
    message: str,
) -> None:
    with pytest.raises(LineageQueryError, match=message):
        call(session)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_downstream_contains_y_iff_upstream_of_y_contains_x(
    service: LedgerService, platform: RecordFactory, session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    ids: list[str] = []
    for i in range(24):
        parents = rng.sample(ids, k=min(len(ids), rng.randint(0, 3)))
        rid = f"n{i:02d}"
        record = (
            platform.score_change(rid, parents=parents) if parents else platform.data_update(rid)
        )
        service.append([record])
        ids.append(rid)
    down = {x: set(downstream(session, [x], depth=MAX_DEPTH).nodes) for x in ids}
    up = {y: set(upstream(session, [y], depth=MAX_DEPTH).nodes) for y in ids}
    for x in ids:
        for y in ids:
            assert (y in down[x]) == (x in up[y]), (x, y)


def test_timeline_orders_by_occurrence_filters_kinds_and_time(
    session: Session, story: dict[str, datetime]
) -> None:
    nodes = timeline(session, SUBJECT)
    assert [n.record_id for n in nodes] == [
        "tax",
        "si",
        "score1",
        "approve",
        "tax2",
        "objection",
        "score2",
    ]  # the factory's occurred_at follows creation order
    assert [n.record_id for n in timeline(session, SUBJECT, kinds=["score_change"])] == [
        "score1",
        "score2",
    ]
    then = timeline(session, SUBJECT, as_of=story["decision"])
    assert [n.record_id for n in then] == ["tax", "si", "score1", "approve"]
    assert all(n.superseded_by is None and not n.disputed for n in then)
    assert timeline(session, "91110000MA0000999X") == []
    assert len(timeline(session, SUBJECT, limit=2)) == 2
