"""Examples in the OpenAPI document: one per parameter a caller fills in, per request body and
per answer of every ``/v1`` operation (docs/api.md). Kept here, in one table, rather than
spread over the route signatures; a test checks every operation has them."""

from __future__ import annotations

from typing import Any

__all__ = ["PARAMETER_EXAMPLES", "REQUEST_EXAMPLES", "RESPONSE_EXAMPLES", "add_examples"]

_RECORD = "6a9eb42ee602457c39c0c056795cfb14"
_SUBJECT = "91310000MA0000000Y"
_TIME = "2026-01-06T11:00:00+08:00"

#: parameter name -> an example value (the same name means the same thing everywhere)
PARAMETER_EXAMPLES: dict[str, Any] = {
    "record_id": _RECORD,
    "name": "loan-0000000",
    "subject": _SUBJECT,
    "entry_id": 41,
    "key_id": "f15cb2e4f06e21d4",  # also the access log's filter by key
    "purpose": "loan_review",
    "purpose_detail": "application 2026-117",
    "direction": "up",
    "depth": 6,
    "as_of": "decision",
    "format": "json",
    "form": "checkpoint",
    "flag": "disputed",
    "kind": ["score_change"],
    "since": _TIME,
    "accessor": "Example Bank/risk-desk (verifier key f15cb2e4f06e21d4)",
    "limit": 100,
    "cursor": "WyIyMDI2LTAxLTA1VDEwOjAwOjAwKzAwOjAwIiwgImYyNWM1MiJd",
}

_DATA_UPDATE = {
    "record_id": "f25c52e719782af461ade8206ae60ece",
    "kind": "data_update",
    "subject": _SUBJECT,
    "occurred_at": "2026-01-05T09:00:00Z",
    "source": "state-tax-bureau",
    "actor": "demo-platform-writer",
    "parents": [],
    "payload": {
        "dataset": "tax",
        "fields_changed": {"vat_paid_2025": "482300.00", "tax_credit_grade": "A"},
        "source_reference": "STB-2025-0000000",
    },
    "signature": "<base64 Ed25519 signature over the record's canonical signing bytes>",
}

#: operation id -> an example request body
REQUEST_EXAMPLES: dict[str, Any] = {
    "append_records": {"records": [_DATA_UPDATE]},
    "evidence_bundle": {"record_ids": [_RECORD], "redact": False},
    "lineage_bundle": {"start": ["loan-0000000"], "depth": 6, "as_of": "decision"},
    "create_api_key": {
        "role": "verifier",
        "org": "Example Commercial Bank",
        "name": "risk-desk",
        "actors": [],
        "lifetime_days": 90,
    },
    "register_writer_key": {
        "actor": "demo-platform-writer",
        "public_key": "mM3mX2Vv8W3a0l3m9Vf6S2xvQ0p7C8d9E1f2G3h4I5w=",
    },
    "revoke_writer_key": {
        "actor": "demo-platform-writer",
        "public_key": "mM3mX2Vv8W3a0l3m9Vf6S2xvQ0p7C8d9E1f2G3h4I5w=",
    },
}

_NODE = {
    "record_id": _RECORD,
    "kind": "score_change",
    "subject": _SUBJECT,
    "occurred_at": "2026-01-05T11:00:00+00:00",
    "recorded_at": "2026-11-30T00:50:04.553687+00:00",
    "source": "scoring-engine",
    "actor": "demo-platform-writer",
    "depth": 1,
    "superseded_by": None,
    "disputed": False,
    "erased": False,
    "loan_id": None,
    "loan_event": None,
    "anchor": {
        "batch_id": "b1-b40c11e1857d",
        "leaf_index": 3,
        "tx_id": "3614fa46bad8f228…",
        "block_number": 5,
        "committed_at": "2026-11-30T00:50:05+00:00",
        "block_time": "2026-11-30T00:50:04.9+00:00",
    },
}

#: operation id -> an example of its successful answer
RESPONSE_EXAMPLES: dict[str, Any] = {
    "append_records": {
        "results": [
            {
                "record_id": _DATA_UPDATE["record_id"],
                "commitment": "9b1c…(64 hex)",
                "status": "created",
            }
        ]
    },
    "whoami": {
        "key_id": "f15cb2e4f06e21d4",  # also the access log's filter by key
        "role": "verifier",
        "org": "Example Commercial Bank",
        "name": "risk-desk",
        "actors": [],
    },
    "list_api_keys": {
        "items": [
            {
                "key_id": "f15cb2e4f06e21d4",  # also the access log's filter by key
                "role": "verifier",
                "org": "Example Commercial Bank",
                "name": "risk-desk",
                "actors": [],
                "created_at": "2026-11-30T01:58:01+00:00",
                "expires_at": "2027-02-28T01:58:01+00:00",
                "revoked_at": None,
            }
        ]
    },
    "timeline": {"items": [_NODE], "next_cursor": None},
    "flagged_records": {"items": [{**_NODE, "disputed": True}], "next_cursor": None},
    "lineage": {
        "roots": [_RECORD],
        "direction": "up",
        "depth": 6,
        "as_of": None,
        "truncated": False,
        "loan": None,
        "nodes": [{**_NODE, "depth": 0}],
        "edges": [],
    },
    "access_log": {
        "items": [
            {
                "id": 8,
                "accessed_at": "2026-11-30T01:58:01.493595+00:00",
                "accessor": "Example Commercial Bank/risk-desk (verifier key f15cb2e4f06e21d4)",
                "subject": _SUBJECT,
                "record_id": _RECORD,
                "query": "evidence",
                "purpose": "loan_review",
                "request_id": "5f0c…",
            }
        ],
        "next_cursor": None,
    },
}


def add_examples(document: dict[str, Any]) -> None:
    """Put the examples into ``document`` (an OpenAPI 3.1 dict), in place."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            op_id = operation.get("operationId")
            for parameter in operation.get("parameters", []):
                if parameter["name"] in PARAMETER_EXAMPLES:
                    parameter["example"] = PARAMETER_EXAMPLES[parameter["name"]]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and op_id in REQUEST_EXAMPLES:
                body["example"] = REQUEST_EXAMPLES[op_id]
            ok = operation.get("responses", {}).get("200") or operation.get("responses", {}).get(
                "201"
            )
            answer = (ok or {}).get("content", {}).get("application/json")
            if answer is not None and op_id in RESPONSE_EXAMPLES:
                answer["example"] = RESPONSE_EXAMPLES[op_id]
