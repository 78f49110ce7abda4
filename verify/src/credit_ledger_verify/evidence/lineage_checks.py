"""The lineage checks of a lineage bundle, run after every node's own steps
(docs/evidence-format.md, "Lineage bundles").

The ``lineage`` section is the index's claim and is never trusted: every edge must be declared
in the signed canonical content of the record it leads from (``parents`` for
``derived_from``, ``supersedes``, ``disputes``) — content whose step 1 passed, so it is the
committed content. Depths are computed here, from the roots through signed ``parents``, never
taken from the bundle; a node above the depth limit must have every declared parent in the
bundle (else "declared, missing"); a node at the limit reports its parents as beyond depth.
An erased node (commitment only) cannot back edges; the report says so for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from credit_ledger_verify.evidence.bundle import MalformedRecord, RecordEntry
from credit_ledger_verify.evidence.lineage_result import (
    EdgeOutcome,
    EdgeStatus,
    LineageCheck,
    LineageNode,
    LineageNote,
    LineageOutcome,
    LineageProblem,
)
from credit_ledger_verify.evidence.lineage_shape import EDGE_KINDS, LineageEdgeEntry, LineageSection
from credit_ledger_verify.evidence.model import RecordOutcome, Step, StepStatus
from credit_ledger_verify.records import Record, parse_record
from credit_ledger_verify.records.payloads import FinancingEventPayload

__all__ = ["check_lineage", "check_lineage_safely"]

_DECISION_EVENTS = ("approval", "rejection")


def _declared(record: Record) -> list[tuple[str, str]]:
    """``(target, edge kind)`` for every reference in the record's signed content."""
    out = [(parent, "derived_from") for parent in record.parents]
    if record.supersedes is not None:
        out.append((record.supersedes, "supersedes"))
    if record.disputes is not None:
        out.append((record.disputes, "disputes"))
    return out


@dataclass
class _Run:
    section: LineageSection
    nodes: dict[str, RecordEntry | MalformedRecord]
    #: nodes whose content passed step 1, decoded
    signed: dict[str, Record]
    #: nodes carried as a commitment only (erased content)
    erased: set[str]
    problems: list[LineageProblem] = field(default_factory=list)
    notes: list[LineageNote] = field(default_factory=list)

    def fail(
        self,
        check: LineageCheck,
        detail: str,
        record_id: str | None = None,
        edge: LineageEdgeEntry | None = None,
    ) -> None:
        where = None if edge is None else (edge.source, edge.target, edge.kind)
        self.problems.append(LineageProblem(check, detail, record_id, where))

    def note(self, record_id: str, detail: str) -> None:
        self.notes.append(LineageNote(record_id, detail))


def check_lineage_safely(
    section: LineageSection,
    entries: Sequence[RecordEntry | MalformedRecord],
    outcomes: Sequence[RecordOutcome],
) -> LineageOutcome:
    """:func:`check_lineage`, failing closed: an unexpected error is a failed lineage, never
    an exception out of the verifier."""
    try:
        return check_lineage(section, entries, outcomes)
    except Exception as exc:  # hostile input must not crash a verifier
        problem = LineageProblem(
            LineageCheck.ERROR, f"lineage checks stopped: {type(exc).__name__}: {exc}"
        )
        loan = section.loan
        return LineageOutcome(
            roots=section.roots,
            depth=section.depth,
            as_of=section.as_of,
            loan_id=None if loan is None else loan.loan_id,
            decision=None if loan is None else loan.decision,
            truncated=section.truncated,
            nodes=(),
            edges=(),
            problems=(problem,),
            notes=(),
        )


def check_lineage(
    section: LineageSection,
    entries: Sequence[RecordEntry | MalformedRecord],
    outcomes: Sequence[RecordOutcome],
) -> LineageOutcome:
    """Hold the lineage section against the nodes' verified content."""
    signed: dict[str, Record] = {}
    erased: set[str] = set()
    for entry, outcome in zip(entries, outcomes, strict=True):
        if not isinstance(entry, RecordEntry):
            continue
        if entry.content is None:
            erased.add(entry.record_id)
            continue
        content = outcome.step(Step.CONTENT)
        if content is not None and content.status is StepStatus.PASSED:
            signed[entry.record_id] = parse_record(entry.content.encode("utf-8"))
    run = _Run(section, {e.record_id: e for e in entries}, signed, erased)
    for root in section.roots:
        if root not in run.nodes:
            run.fail(LineageCheck.ROOTS, f'root "{root}" is not a record of the bundle', root)
    edges = [_edge(run, edge) for edge in section.edges]
    _unlisted_edges(run)
    depths = _depths(run)
    missing, beyond = _completeness(run, depths)
    for record_id in run.nodes:
        if record_id not in depths:
            run.fail(
                LineageCheck.REACH,
                f'record "{record_id}" is not reached from the roots through signed parents '
                f"within depth {section.depth}",
                record_id,
            )
    if section.truncated:
        run.note(
            "",
            "the walk that built this bundle stopped at its node limit (truncated): nodes it "
            "left out show up as declared, missing parents",
        )
    _loan(run)
    nodes = tuple(_node(run, record_id, depths, edges, missing, beyond) for record_id in run.nodes)
    loan = section.loan
    return LineageOutcome(
        roots=section.roots,
        depth=section.depth,
        as_of=section.as_of,
        loan_id=None if loan is None else loan.loan_id,
        decision=None if loan is None else loan.decision,
        truncated=section.truncated,
        nodes=nodes,
        edges=tuple(edges),
        problems=tuple(run.problems),
        notes=tuple(run.notes),
    )


def _edge(run: _Run, edge: LineageEdgeEntry) -> EdgeOutcome:
    """Is the edge declared in the signed content of the record it leads from?"""
    text = f'edge "{edge.source}" -{edge.kind}-> "{edge.target}"'

    def failed(why: str) -> EdgeOutcome:
        run.fail(LineageCheck.EDGE, f"{text}: {why}", edge.source, edge)
        return EdgeOutcome(edge.source, edge.target, edge.kind, EdgeStatus.FAILED, why)

    for end in (edge.source, edge.target):
        if end not in run.nodes:
            return failed(f'"{end}" is not a record of the bundle')
    if edge.source in run.erased:
        why = f'"{edge.source}" is erased (content shredded): it cannot back this edge'
        run.note(edge.source, f"{text}: not verifiable, {why}")
        return EdgeOutcome(edge.source, edge.target, edge.kind, EdgeStatus.UNVERIFIABLE, why)
    record = run.signed.get(edge.source)
    if record is None:
        return failed(f'the content of "{edge.source}" did not verify; it cannot back this edge')
    declared = _declared(record)
    if (edge.target, edge.kind) in declared:
        field_name = EDGE_KINDS[edge.kind]
        why = f'declared in the signed {field_name} of "{edge.source}"'
        return EdgeOutcome(edge.source, edge.target, edge.kind, EdgeStatus.BACKED, why)
    as_kinds = [kind for target, kind in declared if target == edge.target]
    if as_kinds:
        return failed(
            f'the signed content of "{edge.source}" declares "{edge.target}" as '
            f"{as_kinds[0]} ({EDGE_KINDS[as_kinds[0]]}), not {edge.kind}"
        )
    reverse = run.signed.get(edge.target)
    if reverse is not None and any(t == edge.source for t, _ in _declared(reverse)):
        return failed(
            f'reversed: the signed content of "{edge.target}" declares "{edge.source}", '
            f"not the other way round"
        )
    return failed(
        f'the signed {EDGE_KINDS[edge.kind]} of "{edge.source}" do not name "{edge.target}"'
        if edge.kind == "derived_from"
        else f'the signed {EDGE_KINDS[edge.kind]} of "{edge.source}" is not "{edge.target}"'
    )


def _unlisted_edges(run: _Run) -> None:
    """A signed reference between two nodes of the bundle must be in the edge list."""
    listed = {(e.source, e.target, e.kind) for e in run.section.edges}
    for record_id, record in run.signed.items():
        for target, kind in _declared(record):
            if target in run.nodes and (record_id, target, kind) not in listed:
                edge = LineageEdgeEntry(record_id, target, kind)
                run.fail(
                    LineageCheck.COMPLETENESS,
                    f'the signed content of "{record_id}" declares "{target}" ({kind}), but '
                    "the edge list leaves that edge out",
                    record_id,
                    edge,
                )


def _parents(run: _Run, record_id: str) -> list[str]:
    record = run.signed.get(record_id)
    if record is not None:
        return list(record.parents)
    if record_id in run.erased:
        # the index's claim is all there is; the edges themselves are reported unverifiable
        return [
            e.target
            for e in run.section.edges
            if e.source == record_id and e.kind == "derived_from"
        ]
    return []


def _depths(run: _Run) -> dict[str, int]:
    """Smallest number of parent steps from a root, for every node reached within depth."""
    depths = {root: 0 for root in run.section.roots if root in run.nodes}
    frontier = list(depths)
    level = 0
    while frontier and level < run.section.depth:
        level += 1
        following: list[str] = []
        for record_id in frontier:
            for parent in _parents(run, record_id):
                if parent in run.nodes and parent not in depths:
                    depths[parent] = level
                    following.append(parent)
        frontier = following
    return depths


def _completeness(
    run: _Run, depths: dict[str, int]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Declared parents missing from the bundle (failures) and beyond the depth (notes)."""
    missing: dict[str, list[str]] = {}
    beyond: dict[str, list[str]] = {}
    limit = run.section.depth
    for record_id, depth in depths.items():
        record = run.signed.get(record_id)
        if record is None:
            if record_id in run.erased:
                run.note(
                    record_id,
                    f'record "{record_id}" is erased: its declared parents cannot be checked '
                    "and its edges cannot be backed",
                )
            else:
                run.fail(
                    LineageCheck.COMPLETENESS,
                    f'the declared parents of "{record_id}" cannot be checked: its content '
                    "did not verify",
                    record_id,
                )
            continue
        absent = [p for p in record.parents if p not in run.nodes]
        if depth >= limit:
            if absent:
                beyond[record_id] = absent
                run.note(
                    record_id,
                    f'record "{record_id}" is at the depth limit ({limit}): {len(absent)} '
                    "declared parent(s) beyond depth",
                )
        else:
            for parent in absent:
                missing.setdefault(record_id, []).append(parent)
                run.fail(
                    LineageCheck.COMPLETENESS,
                    f'record "{record_id}" (depth {depth}) declares parent "{parent}": '
                    "declared, missing from the bundle",
                    record_id,
                )
        for target, kind in _declared(record)[len(record.parents) :]:
            if target not in run.nodes:
                run.note(
                    record_id,
                    f'record "{record_id}" declares "{target}" ({kind}): outside the upstream '
                    "lineage (only parents are followed), not in the bundle",
                )
    return missing, beyond


def _loan(run: _Run) -> None:
    loan = run.section.loan
    if loan is None:
        return
    if set(loan.events) != set(run.section.roots):
        run.fail(
            LineageCheck.LOAN,
            f"the roots are not the events of loan {loan.loan_id!r}: a loan's lineage starts "
            "from all its events",
        )
    for event in loan.events:
        record = run.signed.get(event)
        if record is None:
            continue  # not in the bundle (roots), erased (note) or not verified (step 1)
        payload = record.payload
        if not isinstance(payload, FinancingEventPayload) or payload.loan_id != loan.loan_id:
            run.fail(
                LineageCheck.LOAN,
                f'"{event}" is not a financing event of loan {loan.loan_id!r} in its signed '
                "content",
                event,
            )
    if loan.decision is None:
        return
    if loan.decision not in loan.events:
        run.fail(
            LineageCheck.LOAN,
            f'the decision "{loan.decision}" is not one of the loan\'s events',
            loan.decision,
        )
        return
    decision = run.signed.get(loan.decision)
    if decision is not None:
        decided = decision.payload
        what = decided.event.value if isinstance(decided, FinancingEventPayload) else None
        if what not in _DECISION_EVENTS:
            run.fail(
                LineageCheck.LOAN,
                f'the decision "{loan.decision}" is a signed {what or decision.kind.value}, '
                "not an approval or rejection",
                loan.decision,
            )


def _node(
    run: _Run,
    record_id: str,
    depths: dict[str, int],
    edges: list[EdgeOutcome],
    missing: dict[str, list[str]],
    beyond: dict[str, list[str]],
) -> LineageNode:
    own = [e for e in edges if e.source == record_id]
    record = run.signed.get(record_id)
    return LineageNode(
        record_id=record_id,
        kind=None if record is None else record.kind.value,
        depth=depths.get(record_id),
        erased=record_id in run.erased,
        edges_backed=sum(1 for e in own if e.status is EdgeStatus.BACKED),
        edges_unverifiable=sum(1 for e in own if e.status is EdgeStatus.UNVERIFIABLE),
        edges_failed=sum(1 for e in own if e.status is EdgeStatus.FAILED),
        beyond_depth=tuple(beyond.get(record_id, ())),
        missing=tuple(missing.get(record_id, ())),
    )
