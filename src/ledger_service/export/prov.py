"""A lineage graph as W3C PROV (PROV-JSON), built with the ``prov`` package, and read back.

The mapping (docs/lineage.md "PROV-JSON"):

* each node (record) → a ``prov:Entity`` ``rec:<record id>`` of type ``ledger:Record``
  whose attributes are the node's columns, status flags and anchoring facts;
* each writer (``actor``) → a ``prov:Agent`` ``actor:<name>``, each ``source`` → a
  ``prov:Agent`` ``source:<name>``; the entity ``wasAttributedTo`` both;
* a score computation (``score_change``) → a ``prov:Activity`` ``compute:<id>``, a
  financing decision (``financing_event``) → ``decide:<id>``: the entity ``wasGeneratedBy``
  it, it ``used`` each parent and ``wasAssociatedWith`` the writer;
* ``derived_from`` → ``wasDerivedFrom`` (carrying the activity where there is one),
  ``supersedes`` → ``wasRevisionOf`` (a derivation typed ``prov:Revision``), ``disputes`` →
  ``wasInfluencedBy`` typed ``ledger:disputes``;
* the query itself (roots, direction, depth, as of, truncated, the loan) → one entity
  ``lineage:query`` of type ``ledger:LineageQuery``.

Names are percent-encoded in qualified names' local parts (a label may hold spaces or
Chinese), and decoded on reading. :func:`graph_from_prov` rebuilds the
:class:`LineageGraph` from what ``prov``'s own reader returns, so a test can check the
round trip: same nodes, edges and attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from prov.constants import (
    PROV,
    PROV_ATTR_AGENT,
    PROV_ATTR_ENTITY,
    PROV_ATTR_GENERATED_ENTITY,
    PROV_ATTR_INFLUENCEE,
    PROV_ATTR_INFLUENCER,
    PROV_ATTR_USED_ENTITY,
    PROV_TYPE,
)
from prov.identifier import Namespace, QualifiedName
from prov.model import (
    ProvAttribution,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvInfluence,
    ProvRecord,
)

from ledger_service.errors import LedgerError
from ledger_service.queries.lineage import CaseMark, Edge, EdgeKind, LineageGraph, Loan, Node
from ledger_service.queries.lineage.model import NodeErasure
from ledger_service.queries.records import AnchorInfo

__all__ = [
    "ACTIVITY_PREFIXES",
    "NAMESPACES",
    "ProvReadError",
    "graph_from_prov",
    "read_prov_json",
    "to_prov",
    "to_prov_json",
]

#: Stable namespace URIs: a consumer may key on them, so they never change.
NAMESPACES = {
    "rec": "urn:credit-ledger:record:",
    "ledger": "urn:credit-ledger:vocab:",
    "actor": "urn:credit-ledger:actor:",
    "source": "urn:credit-ledger:source:",
    "compute": "urn:credit-ledger:compute:",
    "decide": "urn:credit-ledger:decide:",
    "lineage": "urn:credit-ledger:lineage:",
}
REC = Namespace("rec", NAMESPACES["rec"])
LEDGER = Namespace("ledger", NAMESPACES["ledger"])
ACTOR = Namespace("actor", NAMESPACES["actor"])
SOURCE = Namespace("source", NAMESPACES["source"])
LINEAGE = Namespace("lineage", NAMESPACES["lineage"])
#: Record kinds that are the outcome of an activity, and that activity's namespace.
ACTIVITY_PREFIXES = {"score_change": "compute", "financing_event": "decide"}
_ACTIVITY_TYPES = {"score_change": "ScoreComputation", "financing_event": "FinancingDecision"}

_QUERY_ID = LINEAGE["query"]
_REVISION = PROV["Revision"]
_DISPUTES = LEDGER["disputes"]
_RECORD = LEDGER["Record"]
_QUERY = LEDGER["LineageQuery"]

#: AnchorInfo fields written as ``ledger:<name>`` (batch_root as hex); ``None`` is left out.
_ANCHOR_FIELDS = (
    "batch_id",
    "leaf_index",
    "batch_state",
    "batch_root",
    "batch_size",
    "tx_id",
    "block_number",
    "validation_code",
    "committed_at",
    "failure_reason",
)


class ProvReadError(LedgerError):
    """A PROV document is not a lineage graph this module wrote (a missing or repeated
    attribute, an unknown record)."""

    code: ClassVar[str] = "prov_read_failed"

    def __init__(self, message: str, *, record_id: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id


def _local(name: str) -> str:
    """A name as a qualified name's local part: safe characters kept, the rest %-encoded."""
    return quote(name, safe="-._:")


def _name(qualified: QualifiedName) -> str:
    return unquote(qualified.localpart)


def to_prov(graph: LineageGraph) -> ProvDocument:
    """The graph as a PROV document (mapping in the module docstring)."""
    doc = ProvDocument()
    for prefix, uri in NAMESPACES.items():
        doc.add_namespace(prefix, uri)
    doc.entity(_QUERY_ID, _query_attributes(graph))
    agents: set[QualifiedName] = set()
    activities: dict[str, QualifiedName] = {}
    for node in graph.nodes.values():
        entity = REC[_local(node.record_id)]
        doc.entity(entity, _node_attributes(node))
        actor, source = ACTOR[_local(node.actor)], SOURCE[_local(node.source)]
        for agent, agent_type in ((actor, "Writer"), (source, "Source")):
            if agent not in agents:
                doc.agent(agent, {PROV_TYPE: LEDGER[agent_type]})
                agents.add(agent)
        doc.wasAttributedTo(entity, actor)
        doc.wasAttributedTo(entity, source)
        activity_prefix = ACTIVITY_PREFIXES.get(node.kind)
        if activity_prefix is not None:
            activity = Namespace(activity_prefix, NAMESPACES[activity_prefix])[
                _local(node.record_id)
            ]
            doc.activity(activity, other_attributes={PROV_TYPE: LEDGER[_ACTIVITY_TYPES[node.kind]]})
            doc.wasGeneratedBy(entity, activity)
            doc.wasAssociatedWith(activity, actor)
            activities[node.record_id] = activity
    for edge in graph.edges:
        newer, older = REC[_local(edge.source)], REC[_local(edge.target)]
        if edge.kind is EdgeKind.DERIVED_FROM:
            by = activities.get(edge.source)
            if by is not None:
                doc.used(by, older)
            doc.wasDerivedFrom(newer, older, by)
        elif edge.kind is EdgeKind.SUPERSEDES:
            doc.wasRevisionOf(newer, older)
        else:
            doc.wasInfluencedBy(newer, older, other_attributes={PROV_TYPE: _DISPUTES})
    return doc


def to_prov_json(graph: LineageGraph) -> str:
    """The graph as PROV-JSON text (``prov``'s serializer)."""
    text = to_prov(graph).serialize(format="json", indent=2)
    if not isinstance(text, str):  # pragma: no cover - prov returns text without a destination
        raise TypeError("prov did not return PROV-JSON text")
    return text


def read_prov_json(text: str) -> LineageGraph:
    """PROV-JSON text, read by ``prov``'s own reader, back into a lineage graph."""
    try:
        doc = ProvDocument.deserialize(content=text, format="json")
    except Exception as exc:  # prov raises many kinds; all mean "not PROV-JSON"
        raise ProvReadError(f"not PROV-JSON: {exc}") from exc
    return graph_from_prov(doc)


def _query_attributes(graph: LineageGraph) -> dict[Any, Any]:
    attributes: dict[Any, Any] = {
        PROV_TYPE: _QUERY,
        # ordered lists as JSON text: PROV attribute values are sets
        LEDGER["roots"]: json.dumps(list(graph.roots), ensure_ascii=False),
        LEDGER["direction"]: graph.direction,
        LEDGER["depth"]: graph.depth,
        LEDGER["truncated"]: graph.truncated,
    }
    if graph.as_of is not None:
        attributes[LEDGER["as_of"]] = graph.as_of
    loan = graph.loan
    if loan is not None:
        attributes[LEDGER["loan_id"]] = loan.loan_id
        attributes[LEDGER["loan_events"]] = json.dumps(list(loan.events), ensure_ascii=False)
        if loan.decision is not None:
            attributes[LEDGER["loan_decision"]] = loan.decision
        if loan.decided_at is not None:
            attributes[LEDGER["loan_decided_at"]] = loan.decided_at
    return attributes


def _node_attributes(node: Node) -> dict[Any, Any]:
    attributes: dict[Any, Any] = {
        PROV_TYPE: _RECORD,
        LEDGER["kind"]: node.kind,
        LEDGER["subject"]: node.subject,
        LEDGER["occurred_at"]: node.occurred_at,
        LEDGER["recorded_at"]: node.recorded_at,
        LEDGER["depth"]: node.depth,
        LEDGER["disputed"]: node.disputed,
        LEDGER["erased"]: node.erased,
        LEDGER["anchored"]: node.anchor is not None,
    }
    for name in ("superseded_by", "loan_id", "loan_event"):
        value = getattr(node, name)
        if value is not None:
            attributes[LEDGER[name]] = value
    mark = node.objection
    if mark is not None:
        attributes[LEDGER["objection_case"]] = mark.case
        attributes[LEDGER["objection_status"]] = mark.status
        attributes[LEDGER["objection_opened_at"]] = mark.opened_at
        attributes[LEDGER["objection_deadline"]] = mark.deadline.isoformat()
        if mark.resolution is not None:
            attributes[LEDGER["objection_resolution"]] = mark.resolution
        if mark.resolved_at is not None:
            attributes[LEDGER["objection_resolved_at"]] = mark.resolved_at
    if node.erasure is not None:  # why the content is gone (its erasure record)
        attributes[LEDGER["erasure_basis"]] = node.erasure.basis
        attributes[LEDGER["erasure_rule"]] = node.erasure.rule
        attributes[LEDGER["erased_on"]] = node.erasure.on
        attributes[LEDGER["erasure_record"]] = node.erasure.erasure_record
    if node.anchor is not None:
        for name in _ANCHOR_FIELDS:
            value = getattr(node.anchor, name)
            if isinstance(value, bytes):
                value = value.hex()
            if value is not None:
                attributes[LEDGER[name]] = value
    return attributes


# --- reading back -------------------------------------------------------------------------


class _Attributes:
    """One PROV record's ``ledger:`` attributes, each read at most once with a type check."""

    def __init__(self, record: ProvRecord, what: str, record_id: str | None = None) -> None:
        self._record, self._what, self._record_id = record, what, record_id

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
        values = self._record.get_attribute(LEDGER[name])
        if not values:
            if required:
                raise ProvReadError(f"{self._what} has no ledger:{name}", record_id=self._record_id)
            return None
        if len(values) > 1:
            raise ProvReadError(
                f"{self._what} has {len(values)} values of ledger:{name}",
                record_id=self._record_id,
            )
        (value,) = values
        # bool is an int: never accept one for the other
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise ProvReadError(
                f"{self._what}: ledger:{name} is {type(value).__name__}, not {_names(kind)}",
                record_id=self._record_id,
            )
        return value

    def time(self, name: str, *, required: bool = True) -> datetime | None:
        value: datetime | None = self.get(name, datetime, required=required)
        return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _tuple(kind))


def _types(record: ProvRecord) -> set[Any]:
    return set(record.get_attribute(PROV_TYPE))


def _formal(record: ProvRecord, attribute: QualifiedName) -> QualifiedName:
    value = dict(record.formal_attributes).get(attribute)
    if not isinstance(value, QualifiedName):
        raise ProvReadError(f"a {record.get_type()} has no {attribute}")
    return value


def _in(namespace: Namespace, qualified: QualifiedName) -> bool:
    return qualified.namespace.uri == namespace.uri


def graph_from_prov(doc: ProvDocument) -> LineageGraph:
    """The lineage graph a PROV document written by :func:`to_prov` describes.

    Nodes come from the ``ledger:Record`` entities and their attribution to an ``actor:`` and
    a ``source:`` agent; edges from the derivations, revisions and ``ledger:disputes``
    influences between ``rec:`` entities, grouped by kind (PROV-JSON groups relations by
    type, so the edges' order within the graph is not kept). Anything missing is an error
    naming the record and the attribute."""
    records = list(doc.get_records())
    query = [r for r in records if isinstance(r, ProvEntity) and _QUERY in _types(r)]
    if len(query) != 1:
        raise ProvReadError(f"expected one ledger:LineageQuery entity, found {len(query)}")
    graph = _query_from(query[0])
    agents = _attributions(records)
    for record in records:
        if isinstance(record, ProvEntity) and _RECORD in _types(record):
            identifier = record.identifier
            if identifier is None or not _in(REC, identifier):
                raise ProvReadError(f"a ledger:Record entity is not in rec: ({identifier})")
            record_id = _name(identifier)
            graph.nodes[record_id] = _node_from(record, record_id, agents.get(record_id, {}))
    graph.edges = list(_edges_from(records))
    return graph


def _query_from(record: ProvRecord) -> LineageGraph:
    attributes = _Attributes(record, "ledger:LineageQuery")
    direction = attributes.get("direction", str)
    if direction not in ("up", "down"):
        raise ProvReadError(f"ledger:direction is {direction!r}, not 'up' or 'down'")
    loan = None
    loan_id = attributes.get("loan_id", str, required=False)
    if loan_id is not None:
        loan = Loan(
            loan_id=loan_id,
            events=tuple(_id_list(attributes.get("loan_events", str), "ledger:loan_events")),
            decision=attributes.get("loan_decision", str, required=False),
            decided_at=attributes.time("loan_decided_at", required=False),
        )
    return LineageGraph(
        roots=tuple(_id_list(attributes.get("roots", str), "ledger:roots")),
        direction=direction,
        depth=attributes.get("depth", int),
        as_of=attributes.time("as_of", required=False),
        truncated=attributes.get("truncated", bool),
        loan=loan,
    )


def _id_list(text: str, what: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ProvReadError(f"{what} is not a JSON list: {exc}") from exc
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProvReadError(f"{what} is not a JSON list of record ids")
    return value


def _attributions(records: Iterable[ProvRecord]) -> dict[str, dict[str, list[str]]]:
    """record id → {"actor": [...], "source": [...]} from the ``wasAttributedTo`` relations."""
    found: dict[str, dict[str, list[str]]] = {}
    for record in records:
        if not isinstance(record, ProvAttribution):
            continue
        entity, agent = _formal(record, PROV_ATTR_ENTITY), _formal(record, PROV_ATTR_AGENT)
        for role, namespace in (("actor", ACTOR), ("source", SOURCE)):
            if _in(namespace, agent):
                found.setdefault(_name(entity), {}).setdefault(role, []).append(_name(agent))
    return found


def _node_from(record: ProvRecord, record_id: str, agents: dict[str, list[str]]) -> Node:
    attributes = _Attributes(record, f"record {record_id!r}", record_id)
    who: dict[str, str] = {}
    for role in ("actor", "source"):
        names = agents.get(role, [])
        if len(names) != 1:
            raise ProvReadError(
                f"record {record_id!r} is attributed to {len(names)} {role} agents, not 1",
                record_id=record_id,
            )
        who[role] = names[0]
    anchored = attributes.get("anchored", bool)
    return Node(
        record_id=record_id,
        kind=attributes.get("kind", str),
        subject=attributes.get("subject", str),
        occurred_at=attributes.get("occurred_at", datetime),
        recorded_at=attributes.get("recorded_at", datetime),
        source=who["source"],
        actor=who["actor"],
        depth=attributes.get("depth", int),
        superseded_by=attributes.get("superseded_by", str, required=False),
        disputed=attributes.get("disputed", bool),
        erased=attributes.get("erased", bool),
        loan_id=attributes.get("loan_id", str, required=False),
        loan_event=attributes.get("loan_event", str, required=False),
        anchor=_anchor_from(attributes) if anchored else None,
        objection=_case_mark_from(attributes),
        erasure=_erasure_from(attributes),
    )


def _case_mark_from(attributes: _Attributes) -> CaseMark | None:
    case = attributes.get("objection_case", str, required=False)
    if case is None:
        return None
    deadline = attributes.get("objection_deadline", str)
    try:
        deadline_date = date.fromisoformat(deadline)
    except ValueError as exc:
        raise ProvReadError(f"ledger:objection_deadline {deadline!r} is not a date") from exc
    return CaseMark(
        case=case,
        status=attributes.get("objection_status", str),
        opened_at=attributes.get("objection_opened_at", datetime),
        deadline=deadline_date,
        resolution=attributes.get("objection_resolution", str, required=False),
        resolved_at=attributes.time("objection_resolved_at", required=False),
    )


def _erasure_from(attributes: _Attributes) -> NodeErasure | None:
    basis = attributes.get("erasure_basis", str, required=False)
    if basis is None:
        return None
    return NodeErasure(
        basis=basis,
        rule=attributes.get("erasure_rule", str),
        on=attributes.get("erased_on", datetime),
        erasure_record=attributes.get("erasure_record", str),
    )


def _anchor_from(attributes: _Attributes) -> AnchorInfo:
    root = attributes.get("batch_root", str)
    try:
        batch_root = bytes.fromhex(root)
    except ValueError as exc:
        raise ProvReadError(f"ledger:batch_root {root!r} is not hex") from exc
    return AnchorInfo(
        batch_id=attributes.get("batch_id", str),
        leaf_index=attributes.get("leaf_index", int),
        batch_state=attributes.get("batch_state", str),
        batch_root=batch_root,
        batch_size=attributes.get("batch_size", int),
        tx_id=attributes.get("tx_id", str, required=False),
        block_number=attributes.get("block_number", int, required=False),
        validation_code=attributes.get("validation_code", str, required=False),
        committed_at=attributes.time("committed_at", required=False),
        failure_reason=attributes.get("failure_reason", str, required=False),
    )


def _edges_from(records: Iterable[ProvRecord]) -> Iterable[Edge]:
    for record in records:
        if isinstance(record, ProvDerivation):
            source = _formal(record, PROV_ATTR_GENERATED_ENTITY)
            target = _formal(record, PROV_ATTR_USED_ENTITY)
            kind = EdgeKind.SUPERSEDES if _REVISION in _types(record) else EdgeKind.DERIVED_FROM
        elif isinstance(record, ProvInfluence) and _DISPUTES in _types(record):
            source = _formal(record, PROV_ATTR_INFLUENCEE)
            target = _formal(record, PROV_ATTR_INFLUENCER)
            kind = EdgeKind.DISPUTES
        else:
            continue
        if _in(REC, source) and _in(REC, target):
            yield Edge(_name(source), _name(target), kind)
