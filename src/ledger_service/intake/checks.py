"""Intake stage 1: checks on the request as a whole, before the database is touched.

* request size: at most ``max_records`` records and ``max_request_bytes`` of canonical content
  (:class:`RequestTooLarge`); record ids unique within the request;
* lineage order within the request: a record may only refer (``parents``, ``supersedes``,
  ``disputes``) to records *earlier* in the request or already in the index. A reference to a
  later record is refused (:class:`~ledger_service.errors.CyclicLineage` when it closes a
  cycle).

Each accepted record becomes a :class:`Candidate` carrying its signing and canonical bytes,
computed once here and used by every later stage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from credit_ledger_verify.records import Record

from ledger_service.errors import CanonicalizationError, CyclicLineage, ValidationError

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_MAX_REQUEST_BYTES",
    "Candidate",
    "RequestTooLarge",
    "prepare",
]

#: Most records accepted in one append request.
DEFAULT_MAX_RECORDS = 10_000
#: Most canonical bytes (all records together) accepted in one append request.
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024


class RequestTooLarge(ValidationError):
    """An append request has too many records or too many bytes; nothing was written."""

    code: ClassVar[str] = "request_too_large"

    def __init__(self, message: str) -> None:
        super().__init__(None, "records", message)

    def __str__(self) -> str:
        return f"request: {self.message}"


@dataclass
class Candidate:
    """One record of a request, with everything computed before touching the database."""

    position: int
    record: Record
    signing_bytes: bytes
    canonical: bytes
    content_sha256: bytes
    key_id: int | None = None
    """The id of the writer key its signature verified under (set by the signature stage)."""


def prepare(records: list[Record], *, max_records: int, max_request_bytes: int) -> list[Candidate]:
    """Request-level checks (size, unique ids, in-request order) and each record's canonical
    bytes, before anything touches the database.

    Raises:
        RequestTooLarge: too many records or bytes.
        ValidationError: (or ``CyclicLineage``) naming the first bad record and field.
    """
    if len(records) > max_records:
        raise RequestTooLarge(f"{len(records)} records in one request; the limit is {max_records}")
    positions: dict[str, int] = {}
    for position, record in enumerate(records):
        earlier = positions.setdefault(record.record_id, position)
        if earlier != position:
            raise ValidationError(
                record.record_id,
                "record_id",
                f"appears more than once in the request (records {earlier} and {position})",
            )
    for position, record in enumerate(records):
        _check_request_order(record, position, records, positions)

    candidates: list[Candidate] = []
    total_bytes = 0
    for position, record in enumerate(records):
        try:
            # One canonicalisation: the committed form is the signed form plus the
            # signature member (Record.signing_and_canonical_bytes).
            signing_bytes, canonical = record.signing_and_canonical_bytes()
        except CanonicalizationError as exc:
            raise ValidationError(record.record_id, exc.path, exc.message) from exc
        total_bytes += len(canonical)
        if total_bytes > max_request_bytes:
            raise RequestTooLarge(
                f"more than {max_request_bytes} bytes of canonical records in one "
                f"request (limit reached at record {position}, {record.record_id!r})"
            )
        candidates.append(
            Candidate(
                position=position,
                record=record,
                signing_bytes=signing_bytes,
                canonical=canonical,
                content_sha256=hashlib.sha256(canonical).digest(),
            )
        )
    return candidates


def _check_request_order(
    record: Record, position: int, records: list[Record], positions: dict[str, int]
) -> None:
    """A record may only refer to records earlier in the request (or already indexed)."""
    # Fast pass (every record of every request goes through here): only a record with a
    # problem pays for building the field names below.
    record_id = record.record_id
    for target in (*record.parents, record.supersedes, record.disputes):
        if target is None:
            continue
        if target == record_id:
            break
        target_position = positions.get(target)
        if target_position is not None and target_position >= position:
            break
    else:
        return
    references: list[tuple[str, str]] = [
        (f"parents[{i}]", parent) for i, parent in enumerate(record.parents)
    ]
    if record.supersedes is not None:
        references.append(("supersedes", record.supersedes))
    if record.disputes is not None:
        references.append(("disputes", record.disputes))
    for field_name, target in references:
        if target == record.record_id:
            if field_name.startswith("parents"):
                raise CyclicLineage(record.record_id, [record.record_id, record.record_id])
            raise ValidationError(record.record_id, field_name, "a record cannot refer to itself")
        target_position = positions.get(target)
        if target_position is None or target_position < position:
            continue
        cycle = _path_back(target, record.record_id, records, positions)
        if cycle is not None:
            raise CyclicLineage(record.record_id, [record.record_id, *cycle])
        raise ValidationError(
            record.record_id,
            field_name,
            f"refers to record {target!r}, which comes later in the same request; "
            "send referenced records first",
        )


def _path_back(
    start: str, goal: str, records: list[Record], positions: dict[str, int]
) -> list[str] | None:
    """A path start -> ... -> goal along in-request references, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen or node not in positions:
            continue
        seen.add(node)
        record = records[positions[node]]
        refs = [*record.parents, *(r for r in (record.supersedes, record.disputes) if r)]
        stack.extend((ref, [*path, ref]) for ref in refs)
    return None
