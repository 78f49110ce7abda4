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
    "size": 4096,  # a checkpoint's tree size
    "old": 4000,
    "new": 4096,
    "case_id": "c0e5a1d2b3f4a5968778695a4b3c2d1e",
    "case": "c8e1d2a9b40f4e6c9d0a1b2c3d4e5f60",
    "status": "overdue",  # objections; list_repairs overrides it
}

_CHECKPOINT_TEXT = (
    "credit-ledger.example/ledger/ledger\n4096\nhFm2X0M1Q4o3vF2L0mZCq0m0Sg9c1XW+8bKcUj1S1nE=\n"
)

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
    "erase_record": {"reason": "the enterprise asked for deletion (ticket 2026-311)"},
    "register_writer_key": {
        "actor": "demo-platform-writer",
        "public_key": "mM3mX2Vv8W3a0l3m9Vf6S2xvQ0p7C8d9E1f2G3h4I5w=",
    },
    "revoke_writer_key": {
        "actor": "demo-platform-writer",
        "public_key": "mM3mX2Vv8W3a0l3m9Vf6S2xvQ0p7C8d9E1f2G3h4I5w=",
    },
    "submit_cosignature": {
        "cosignature": "— bank-witness <base64(key ID ‖ 8-byte timestamp ‖ Ed25519 signature)>"
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
    "objection": None,
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
    "repair": None,
}

_ANCHOR = {
    "batch_id": "b7-1c9e04d2aa31",
    "leaf_index": 0,
    "state": "committed",
    "tx_id": "8d41c0e2…",
    "block_number": 9,
    "committed_at": "2026-11-30T02:10:05+00:00",
}
_REPAIR_CASE = {
    "case": PARAMETER_EXAMPLES["case_id"],
    "subject": _SUBJECT,
    "action": "fulfilled_judgment",
    "status": "approved",
    "affected_records": ["5d2c8e41f0a94b6e8c7d3a2b1f0e9d8c"],
    "approved_at": "2026-11-30T02:10:00+00:00",
    "score_change": _RECORD,
    "anchored": True,
    "steps": [
        {
            "record_id": PARAMETER_EXAMPLES["case_id"],
            "status": "submitted",
            "recorded_at": "2026-11-30T02:00:00+00:00",
            "anchor": {**_ANCHOR, "block_number": 7},
        },
        {
            "record_id": "e1d2c3b4a5968778695a4b3c2d1e0f9a",
            "status": "approved",
            "recorded_at": "2026-11-30T02:10:00+00:00",
            "anchor": _ANCHOR,
        },
    ],
}

_CASE = {
    "case": "c8e1d2a9b40f4e6c9d0a1b2c3d4e5f60",
    "subject": _SUBJECT,
    "disputed": "f25c52e719782af461ade8206ae60ece",
    "status": "resolved",
    "opened_at": "2026-01-06T03:00:00+00:00",
    "deadline": "2026-01-26",
    "overdue": False,
    "resolution": "0b7f3c2d1e4a5b6c7d8e9f0a1b2c3d4e",
    "resolution_step": "corrected",
    "resolved_at": "2026-01-20T02:00:00+00:00",
    "answered_in_time": True,
}
_STEP = {
    "record_id": "c8e1d2a9b40f4e6c9d0a1b2c3d4e5f60",
    "role": "opened",
    "recorded_at": "2026-01-06T03:00:00+00:00",
    "actor": "demo-platform-writer",
    "reason": "arrears_months was 0 in the period reported",
    "anchor": {
        "batch_id": "b9-4c1d0e2f3a4b",
        "leaf_index": 0,
        "tx_id": "9a0c7e51d2b3f4a6…",
        "block_number": 12,
        "committed_at": "2026-01-06T03:00:02+00:00",
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
    "latest_checkpoint": {
        "origin": "credit-ledger.example/ledger/ledger",
        "size": 4096,
        "root": "hFm2X0M1Q4o3vF2L0mZCq0m0Sg9c1XW+8bKcUj1S1nE=",
        "issued_at": "2026-11-30T01:58:01+00:00",
        "note": _CHECKPOINT_TEXT
        + "\n— credit-ledger.example/ledger/ledger <base64 log signature>\n"
        + "— bank-witness <base64 cosignature>\n",
        "signers": ["credit-ledger.example/ledger/ledger", "bank-witness"],
    },
    "submit_cosignature": {
        "size": 4096,
        "witness": "bank-witness",
        "note": _CHECKPOINT_TEXT + "\n— credit-ledger.example/ledger/ledger <…>\n",
    },
    "list_repairs": {"as_of": None, "items": [_REPAIR_CASE]},
    "get_repair": _REPAIR_CASE,
    "repairs_report": {
        "as_of": _TIME,
        "counts": {"submitted": 0, "verified": 1, "approved": 1, "rejected": 0},
        "cases": [_REPAIR_CASE],
    },
    "objections": {"as_of": _TIME, "items": [_CASE], "next_cursor": None},
    "objection_report": {
        "as_of": _TIME,
        "counts": {
            "opened": 1,
            "open": 0,
            "overdue": 0,
            "resolved": 1,
            "corrected": 1,
            "upheld": 0,
            "rejected": 0,
            "answered_in_time": 1,
            "answered_late": 0,
        },
        "lines": [{**_CASE, "records": [_STEP]}],
    },
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
    "erase_record": {
        "record_id": _RECORD,
        "erased": True,
        "basis": "request",
        "rule": "pipl_art47",
        "erasure_record": "erasure-0c1f6e2a9b7d4e5f8a3b2c1d0e9f8a7b6c5d4e3f",
        "commitment": "5d41402abc4b2a76b9719d911017c592" * 2,
    },
    "retention_runs": {
        "items": [
            {
                "run_id": 3,
                "as_of": "2026-11-30",
                "started_at": "2026-11-30T02:00:00+00:00",
                "finished_at": "2026-11-30T02:00:04+00:00",
                "started_by": "scheduler",
                "expired": 2,
                "erased": 2,
                "kept": 40,
                "not_ended": 7,
            }
        ]
    },
    "erasures": {
        "items": [
            {
                "record_id": _RECORD,
                "subject": _SUBJECT,
                "basis": "expiry",
                "rule": "loan_overdue",
                "reason": None,
                "conduct_ended": "2021-06-01",
                "expired_on": "2026-06-02",
                "erased_at": "2026-11-30T02:00:01+00:00",
                "erasure_record": "erasure-0c1f6e2a9b7d4e5f8a3b2c1d0e9f8a7b6c5d4e3f",
                "anchor": {
                    "batch_id": "b118-3f2a9c01d4e5",
                    "batch_state": "committed",
                    "tx_id": "9c1e…",
                    "block_number": 41,
                },
            }
        ]
    },
}


#: Where one parameter name means different things in different operations.
OPERATION_PARAMETER_EXAMPLES: dict[str, dict[str, Any]] = {
    "list_repairs": {"status": "approved"},
}


def add_examples(document: dict[str, Any]) -> None:
    """Put the examples into ``document`` (an OpenAPI 3.1 dict), in place."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            op_id = operation.get("operationId")
            own = OPERATION_PARAMETER_EXAMPLES.get(op_id, {})
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if name in own or name in PARAMETER_EXAMPLES:
                    parameter["example"] = own.get(name, PARAMETER_EXAMPLES.get(name))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and op_id in REQUEST_EXAMPLES:
                body["example"] = REQUEST_EXAMPLES[op_id]
            ok = operation.get("responses", {}).get("200") or operation.get("responses", {}).get(
                "201"
            )
            answer = (ok or {}).get("content", {}).get("application/json")
            if answer is not None and op_id in RESPONSE_EXAMPLES:
                answer["example"] = RESPONSE_EXAMPLES[op_id]
