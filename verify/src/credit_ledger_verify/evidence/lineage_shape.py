"""The *shape* of a lineage bundle's ``lineage`` section (docs/evidence-format.md, "Lineage
bundles"), parsed before any cryptography, as strictly as the rest of the bundle.

Exactly the documented keys, each with its type and syntax; an unknown key, a missing one, a
``null``, a repeated root or edge is refused with the dotted path of the field. The section is
only what the index *claims*; :mod:`.lineage_checks` holds it against the signed content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeGuard

from credit_ledger_verify.evidence.model import EvidenceError

__all__ = [
    "EDGE_KINDS",
    "MAX_LINEAGE_DEPTH",
    "LineageEdgeEntry",
    "LineageSection",
    "LoanEntry",
    "ShapeProblem",
    "parse_lineage_section",
]

#: The edge kinds a lineage bundle may carry, and the record field that declares each.
EDGE_KINDS = {"derived_from": "parents", "supersedes": "supersedes", "disputes": "disputes"}
#: Deepest lineage a bundle may claim (the query library's bound).
MAX_LINEAGE_DEPTH = 50

_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SECTION_KEYS = frozenset(("roots", "depth", "as_of", "loan", "truncated", "edges"))
_SECTION_REQUIRED = frozenset(("roots", "depth", "truncated", "edges"))
_LOAN_KEYS = frozenset(("loan_id", "events", "decision", "decided_at"))
_EDGE_KEYS = frozenset(("from", "to", "kind"))


class ShapeProblem(NamedTuple):
    """What is wrong with the section: the dotted field and why."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class LineageEdgeEntry:
    """An edge as the bundle claims it: ``source`` declares ``target`` (as ``kind``)."""

    source: str
    target: str
    kind: str


@dataclass(frozen=True, slots=True)
class LoanEntry:
    loan_id: str
    events: tuple[str, ...]
    decision: str | None
    decided_at: str | None


@dataclass(frozen=True, slots=True)
class LineageSection:
    roots: tuple[str, ...]
    depth: int
    #: RFC 3339 time the walk read the index as of (``None``: as the index stood when built)
    as_of: str | None
    loan: LoanEntry | None
    truncated: bool
    edges: tuple[LineageEdgeEntry, ...]


class _Refused(EvidenceError):
    """Internal control flow: carries a :class:`ShapeProblem` out of the nested checks."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.problem = ShapeProblem(field, message)


def parse_lineage_section(raw: object) -> LineageSection | ShapeProblem:
    """The ``lineage`` section, or the first thing wrong with it."""
    try:
        return _section(raw)
    except _Refused as refused:
        return refused.problem


def _section(raw: object) -> LineageSection:
    obj = _object(raw, "lineage", _SECTION_KEYS, _SECTION_REQUIRED)
    depth = obj["depth"]
    if not _is_int(depth) or not 0 <= depth <= MAX_LINEAGE_DEPTH:
        raise _Refused("lineage.depth", f"lineage.depth must be an integer 0..{MAX_LINEAGE_DEPTH}")
    truncated = obj["truncated"]
    if not isinstance(truncated, bool):
        raise _Refused("lineage.truncated", "lineage.truncated must be true or false")
    roots = _ids(obj["roots"], "lineage.roots")
    if not roots:
        raise _Refused("lineage.roots", "lineage.roots must name at least one record")
    as_of = _time(obj["as_of"], "lineage.as_of") if "as_of" in obj else None
    loan = _loan(obj["loan"]) if "loan" in obj else None
    edges_raw = obj["edges"]
    if not isinstance(edges_raw, list):
        raise _Refused("lineage.edges", "lineage.edges must be a list")
    edges: list[LineageEdgeEntry] = []
    seen: set[LineageEdgeEntry] = set()
    for i, item in enumerate(edges_raw):
        where = f"lineage.edges[{i}]"
        edge_obj = _object(item, where, _EDGE_KEYS, _EDGE_KEYS)
        source = _id(edge_obj["from"], f"{where}.from")
        target = _id(edge_obj["to"], f"{where}.to")
        kind = edge_obj["kind"]
        if kind not in EDGE_KINDS:
            raise _Refused(
                f"{where}.kind", f"{where}.kind must be one of {', '.join(sorted(EDGE_KINDS))}"
            )
        if source == target:
            raise _Refused(where, f"{where} leads from a record to itself")
        edge = LineageEdgeEntry(source, target, kind)
        if edge in seen:
            raise _Refused(where, f"{where} ({source} -{kind}-> {target}) is listed twice")
        seen.add(edge)
        edges.append(edge)
    return LineageSection(
        roots=roots, depth=depth, as_of=as_of, loan=loan, truncated=truncated, edges=tuple(edges)
    )


def _loan(raw: object) -> LoanEntry:
    obj = _object(raw, "lineage.loan", _LOAN_KEYS, frozenset(("loan_id", "events")))
    loan_id = _id(obj["loan_id"], "lineage.loan.loan_id")
    events = _ids(obj["events"], "lineage.loan.events")
    if not events:
        raise _Refused("lineage.loan.events", "lineage.loan.events must name at least one event")
    decision = _id(obj["decision"], "lineage.loan.decision") if "decision" in obj else None
    decided_at = (
        _time(obj["decided_at"], "lineage.loan.decided_at") if "decided_at" in obj else None
    )
    if (decision is None) != (decided_at is None):
        raise _Refused("lineage.loan.decision", "lineage.loan: decision and decided_at go together")
    return LoanEntry(loan_id=loan_id, events=events, decision=decision, decided_at=decided_at)


def _object(
    raw: object, where: str, allowed: frozenset[str], required: frozenset[str]
) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise _Refused(where, f"{where} must be a JSON object")
    for key, value in raw.items():
        if key not in allowed:
            raise _Refused(f"{where}.{key}", f"{where} has an unknown field {key!r}")
        if value is None:
            raise _Refused(
                f"{where}.{key}", f"{where}.{key} is null: a field without a value is left out"
            )
    for key in sorted(required - raw.keys()):
        raise _Refused(f"{where}.{key}", f"{where} has no {key!r} field")
    return raw


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise _Refused(where, f"{where} must be a record id ([A-Za-z0-9._:-], 1-128 characters)")
    return value


def _ids(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Refused(where, f"{where} must be a list of record ids")
    ids = tuple(_id(v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(set(ids)) != len(ids):
        raise _Refused(where, f"{where} names a record twice")
    return ids


def _time(value: object, where: str) -> str:
    """An RFC 3339 time with its offset (kept as text: it is reported, never computed on)."""
    if isinstance(value, str) and "T" in value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return value
    raise _Refused(where, f"{where} must be an RFC 3339 time with an offset (…Z)")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
