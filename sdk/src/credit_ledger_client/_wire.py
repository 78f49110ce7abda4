"""The requests both clients send and how their answers are read: one place for the API's
paths, parameters and JSON, so the sync and async clients differ only in how they wait."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from credit_ledger_verify.records import Record
from credit_ledger_verify.tlog import AddCheckpointRequest

from credit_ledger_client._errors import LedgerApiError
from credit_ledger_client._models import (
    Anchor,
    AppendResult,
    Identity,
    RecordInfo,
    SignedCheckpoint,
)

__all__ = [
    "MAX_APPEND_RECORDS",
    "Call",
    "EncodedRecords",
    "append_call",
    "append_results",
    "chunked",
    "encode_records",
    "purpose_params",
]

#: The service's limit of records per append request (docs/api.md).
MAX_APPEND_RECORDS = 10_000
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Call:
    """One logical request (sent again, unchanged, on a retry)."""

    method: str
    path: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    content: bytes | None = None
    #: added to a problem's ``record_index`` (a chunk's position in the caller's list)
    index_offset: int = 0

    def build(self, client: httpx.Client | httpx.AsyncClient, request_id: str) -> httpx.Request:
        headers = {"X-Request-Id": request_id, **(_JSON if self.content is not None else {})}
        return client.build_request(
            self.method, self.path, params=dict(self.params), content=self.content, headers=headers
        )


def purpose_params(purpose: str, purpose_detail: str | None) -> dict[str, str | int]:
    if not purpose:
        raise ValueError("purpose is required for reads of enterprise data (e.g. 'loan_review')")
    params: dict[str, str | int] = {"purpose": purpose}
    if purpose_detail is not None:
        params["purpose_detail"] = purpose_detail
    return params


@dataclass(frozen=True)
class EncodedRecords:
    """Each record's JSON, encoded once, and the record id it carries (to check answers)."""

    bodies: list[bytes]
    ids: list[str | None]

    def __len__(self) -> int:
        return len(self.bodies)


def encode_records(records: Iterable[Record | Mapping[str, Any]]) -> EncodedRecords:
    """Each record's JSON once (signed ``Record`` objects, or mappings already signed).

    A ``Record`` is written by pydantic's serializer: the same JSON as
    ``json.dumps(record.to_json_dict())`` (tests/test_sdk_signing.py) at half the cost."""
    bodies: list[bytes] = []
    ids: list[str | None] = []
    for record in records:
        if isinstance(record, Record):
            bodies.append(record.model_dump_json(exclude_none=True).encode())
            ids.append(record.record_id)
        else:
            data = dict(record)
            bodies.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
            claimed = data.get("record_id")
            ids.append(claimed if isinstance(claimed, str) else None)
    return EncodedRecords(bodies, ids)


def chunked(count: int, chunk_size: int) -> list[range]:
    if not 1 <= chunk_size <= MAX_APPEND_RECORDS:
        raise ValueError(f"chunk_size must be 1..{MAX_APPEND_RECORDS}, got {chunk_size}")
    return [range(i, min(i + chunk_size, count)) for i in range(0, count, chunk_size)]


def append_call(encoded: EncodedRecords, span: range) -> Call:
    bodies = encoded.bodies
    body = b'{"records":[' + b",".join(bodies[i] for i in span) + b"]}"
    return Call("POST", "/v1/records", content=body, index_offset=span.start)


def append_results(response: httpx.Response, span: range) -> tuple[AppendResult, ...]:
    """The chunk's results, checked to answer each record sent, in order."""
    results = _json(response).get("results")
    if not isinstance(results, list) or len(results) != len(span):
        raise LedgerApiError(
            f"the service answered {len(results) if isinstance(results, list) else 'no'} "
            f"result(s) for {len(span)} record(s)",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        )
    return tuple(
        AppendResult(
            index=index,
            record_id=item["record_id"],
            commitment=item["commitment"],
            status=item["status"],
        )
        for index, item in zip(span, results, strict=True)
    )


def check_ids(results: Sequence[AppendResult], encoded: EncodedRecords) -> None:
    for result in results:
        sent = encoded.ids[result.index]
        if sent != result.record_id:
            raise LedgerApiError(
                f"the service answered record {result.record_id!r} at position "
                f"{result.index}, where {sent!r} was sent",
                record_index=result.index,
                record_id=result.record_id,
            )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise LedgerApiError(
            f"the service answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc
    if not isinstance(data, dict):
        raise LedgerApiError("the service answered JSON that is not an object")
    return data


def record_call(record_id: str, purpose: str, purpose_detail: str | None) -> Call:
    return Call(
        "GET", f"/v1/records/{_segment(record_id)}", purpose_params(purpose, purpose_detail)
    )


def record_info(response: httpx.Response) -> RecordInfo:
    data = _json(response)
    return RecordInfo(
        record_id=data["record_id"],
        kind=data["kind"],
        subject=data["subject"],
        occurred_at=data["occurred_at"],
        recorded_at=data["recorded_at"],
        source=data["source"],
        actor=data["actor"],
        parents=tuple(data["parents"]),
        supersedes=data.get("supersedes"),
        disputes=data.get("disputes"),
        superseded_by=data.get("superseded_by"),
        disputed_by=data.get("disputed_by"),
        commitment=data["commitment"],
        erased=bool(data["erased"]),
        anchor=_anchor(data.get("anchor")),
        content=data.get("content"),
        disputed=bool(data.get("disputed", False)),
        objection=data.get("objection"),
    )


def anchor_call(record_id: str) -> Call:
    return Call("GET", f"/v1/records/{_segment(record_id)}/anchor")


def anchor_of(response: httpx.Response) -> Anchor | None:
    return _anchor(response.json())


def _anchor(data: Any) -> Anchor | None:
    if data is None:
        return None
    return Anchor(
        batch_id=data["batch_id"],
        leaf_index=data["leaf_index"],
        state=data["state"],
        tx_id=data.get("tx_id"),
        block_number=data.get("block_number"),
        committed_at=data.get("committed_at"),
    )


#: ``form`` of an evidence request: the batch form (``/3``) or the compact checkpoint form (``/4``)
EVIDENCE_FORMS = ("batch", "checkpoint")


def evidence_call(
    record_ids: Iterable[str],
    purpose: str,
    purpose_detail: str | None,
    redact: bool,
    form: str = "batch",
) -> Call:
    ids = [record_ids] if isinstance(record_ids, str) else list(record_ids)
    if not ids:
        raise ValueError("name at least one record id")
    if form not in EVIDENCE_FORMS:
        raise ValueError(f"form must be one of {', '.join(EVIDENCE_FORMS)}, not {form!r}")
    body = json.dumps({"record_ids": ids, "redact": redact}).encode()
    params = purpose_params(purpose, purpose_detail)
    if form != "batch":
        params["form"] = form
    return Call("POST", "/v1/evidence", params, content=body)


def lineage_bundle_call(
    start: Iterable[str],
    purpose: str,
    purpose_detail: str | None,
    depth: int | None,
    as_of: datetime | str | None,
) -> Call:
    body: dict[str, Any] = {"start": [start] if isinstance(start, str) else list(start)}
    if depth is not None:
        body["depth"] = depth
    if as_of is not None:
        body["as_of"] = _time(as_of)
    return Call(
        "POST",
        "/v1/evidence/lineage",
        purpose_params(purpose, purpose_detail),
        content=json.dumps(body).encode(),
    )


def lineage_call(
    name: str,
    purpose: str,
    purpose_detail: str | None,
    direction: str,
    depth: int | None,
    as_of: datetime | str | None,
    format: str,
) -> Call:
    params = purpose_params(purpose, purpose_detail)
    params.update(direction=direction, format=format)
    if depth is not None:
        params["depth"] = depth
    if as_of is not None:
        params["as_of"] = _time(as_of)
    return Call("GET", f"/v1/lineage/{_segment(name)}", params)


def lineage_answer(response: httpx.Response, format: str) -> dict[str, Any] | bytes:
    return _json(response) if format == "json" else response.content


WHOAMI = Call("GET", "/v1/whoami")


def identity(response: httpx.Response) -> Identity:
    data = _json(response)
    return Identity(
        key_id=data["key_id"],
        role=data["role"],
        org=data["org"],
        name=data["name"],
        actors=tuple(data["actors"]),
    )


def checkpoint_call(size: int | None) -> Call:
    where = "latest" if size is None else str(_size(size, "size"))
    return Call("GET", f"/v1/checkpoints/{where}", {"format": "note"})


def signed_checkpoint(response: httpx.Response) -> SignedCheckpoint:
    return SignedCheckpoint(response.content)


def proof_call(old: int, new: int) -> Call:
    return Call(
        "GET", "/v1/checkpoints/proof", {"old": _size(old, "old"), "new": _size(new, "new")}
    )


def consistency_proof(response: httpx.Response) -> AddCheckpointRequest:
    try:
        return AddCheckpointRequest.parse(response.content)
    except ValueError as exc:  # the tlog errors are ValueErrors too (LedgerError)
        raise LedgerApiError(f"the service's consistency proof is malformed: {exc}") from exc


def cosignature_call(size: int, line: str) -> Call:
    body = json.dumps({"cosignature": line.removesuffix("\n")}).encode()
    return Call("POST", f"/v1/checkpoints/{_size(size, 'size')}/cosignatures", content=body)


def _size(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a tree size (an int >= 0), got {value!r}")
    return value


def _time(value: datetime | str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("as_of must be a timezone-aware datetime (or 'decision')")
        return value.isoformat()
    return value


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an id or name must not be empty")
    return quote(value, safe="")
