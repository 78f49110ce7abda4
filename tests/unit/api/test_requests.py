"""What the API answers: appends (idempotent, all-or-nothing, errors naming the record's
index and field), purposes and the access log, lineage in every format, pagination, limits,
problem details for every failure."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from ledger_service.api import ApiSettings, create_app
from ledger_service.context import LedgerContext
from tests.db.factories import RecordFactory
from tests.unit.api.conftest import SUBJECT, WHY, Api


def as_json(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json", exclude_none=True)
    return data


def test_append_is_idempotent_and_a_changed_record_is_a_conflict_naming_it(
    api: Api, platform: RecordFactory
) -> None:
    records = [as_json(platform.data_update("a")), as_json(platform.data_update("b"))]
    first = api.client.post("/v1/records", json={"records": records}, headers=api.headers("writer"))
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["created", "created"]
    again = api.client.post("/v1/records", json={"records": records}, headers=api.headers("writer"))
    assert [r["status"] for r in again.json()["results"]] == ["existing", "existing"]
    assert again.json()["results"][0]["commitment"] == first.json()["results"][0]["commitment"]
    changed = as_json(platform.data_update("b", fields_changed={"tax_paid": "99.00"}))
    conflict = api.client.post(
        "/v1/records", json={"records": [records[0], changed]}, headers=api.headers("writer")
    )
    assert conflict.status_code == 409
    problem = conflict.json()
    assert (problem["code"], problem["record_id"], problem["record_index"]) == (
        "idempotency_conflict",
        "b",
        1,
    )


def test_a_bad_record_is_named_by_index_and_field_and_nothing_is_written(
    api: Api, platform: RecordFactory
) -> None:
    good = as_json(platform.data_update("good"))
    bad = as_json(platform.data_update("bad"))
    bad["occurred_at"] = "yesterday"
    response = api.client.post(
        "/v1/records", json={"records": [good, bad]}, headers=api.headers("writer")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["record_index"], problem["record_id"], problem["field"]) == (
        1,
        "bad",
        "occurred_at",
    )
    missing = api.client.get("/v1/records/good", params=WHY, headers=api.headers("auditor"))
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown_record"


def test_reads_need_a_purpose_and_leave_an_access_log_entry(api: Api, story: list[str]) -> None:
    no_purpose = api.client.get("/v1/records/score", headers=api.headers("auditor"))
    assert no_purpose.status_code == 422
    assert "purpose" in no_purpose.json()["detail"]
    other = api.client.get(
        "/v1/records/score", params={"purpose": "other"}, headers=api.headers("auditor")
    )
    assert other.status_code == 422
    assert other.json()["field"] == "purpose_detail"
    ok = api.client.get("/v1/records/score", params=WHY, headers=api.headers("auditor"))
    assert ok.status_code == 200
    assert ok.json()["content"]["record_id"] == "score"
    as_bank = api.client.get("/v1/records/score", params=WHY, headers=api.headers("verifier"))
    assert as_bank.json()["content"] is None  # banks get content only in evidence they name
    log = api.client.get(
        "/v1/access-log", params={"subject": SUBJECT}, headers=api.headers("auditor")
    ).json()
    newest = log["items"][0]
    assert newest["query"] == "record"
    assert newest["purpose"] == "supervision: inspection 2026-11"
    assert newest["accessor"].startswith("verifier-org/t (verifier key ")
    bank_key = api.client.get("/v1/whoami", headers=api.headers("verifier")).json()["key_id"]
    by_key = api.client.get(
        "/v1/access-log", params={"key_id": bank_key}, headers=api.headers("auditor")
    ).json()["items"]
    assert [e["query"] for e in by_key] == ["record"]


def test_lineage_in_every_format_and_the_diff_since_the_decision(
    api: Api, story: list[str]
) -> None:
    h = api.headers("auditor")
    graph = api.client.get("/v1/lineage/loan-1", params={**WHY, "as_of": "decision"}, headers=h)
    assert graph.status_code == 200, graph.text
    assert graph.json()["loan"]["decision"] == "approve"
    assert {n["record_id"] for n in graph.json()["nodes"]} == {"approve", "score", "tax", "si"}
    svg = api.client.get("/v1/lineage/approve", params={**WHY, "format": "svg"}, headers=h)
    assert svg.headers["content-type"] == "image/svg+xml"
    ET.fromstring(svg.content)
    png = api.client.get("/v1/lineage/approve", params={**WHY, "format": "png"}, headers=h)
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    prov = api.client.get("/v1/lineage/approve", params={**WHY, "format": "prov-json"}, headers=h)
    assert "wasDerivedFrom" in prov.json()
    diff = api.client.get("/v1/lineage/loan-1/diff", params={**WHY, "as_of": "decision"}, headers=h)
    changes = {(c["record_id"], c["change"]) for c in diff.json()["changes"]}
    assert {("tax", "superseded"), ("si", "disputed")} <= changes
    impact = api.client.get("/v1/impact/si", params=WHY, headers=h).json()
    assert [loan["loan_id"] for loan in impact["loans"]] == ["loan-1"]
    bad = api.client.get("/v1/lineage/nothing", params=WHY, headers=h)
    assert bad.status_code == 422
    assert bad.json()["code"] == "lineage_query_invalid"


def test_timeline_pages_with_a_cursor(api: Api, story: list[str]) -> None:
    h = api.headers("auditor")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {**WHY, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(f"/v1/subjects/{SUBJECT}/timeline", params=params, headers=h).json()
        seen += [n["record_id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["tax", "si", "score", "approve", "tax2", "objection"]
    junk = api.client.get(
        f"/v1/subjects/{SUBJECT}/timeline", params={**WHY, "cursor": "!!"}, headers=h
    )
    assert junk.status_code == 422
    assert junk.json()["field"] == "cursor"
    flagged = api.client.get("/v1/records", params={**WHY, "flag": "superseded"}, headers=h)
    assert [n["record_id"] for n in flagged.json()["items"]] == ["tax"]


def test_append_bodies_that_are_not_a_request_are_named(api: Api, platform: RecordFactory) -> None:
    # the route reads its body as bytes: the answers are those FastAPI gives for a body model
    h = {**api.headers("writer"), "Content-Type": "application/json"}

    def refused(content: bytes, headers: dict[str, str] = h) -> tuple[int, str, str]:
        answer = api.client.post("/v1/records", content=content, headers=headers)
        problem = answer.json()
        assert answer.headers["content-type"] == "application/problem+json"
        return answer.status_code, problem["code"], problem.get("field", "")

    assert refused(b'{"records": [') == (422, "invalid_input", "body.13")
    assert refused(b"") == (422, "invalid_input", "body")
    assert refused(b'{"records": []}') == (422, "invalid_input", "body.records")
    assert refused(b'{"records": [1]}') == (422, "invalid_input", "body.records.0")
    assert refused(b'{"record": []}') == (422, "invalid_input", "body.records")
    assert refused(b"\xff\xfe{}") == (422, "invalid_input", "body.0")
    text = {**api.headers("writer"), "Content-Type": "text/plain"}
    body = b'{"records": [' + json.dumps(as_json(platform.data_update("t"))).encode() + b"]}"
    assert refused(body, text) == (422, "invalid_input", "body")
    # a writer's key is checked before its body is read
    assert refused(b"{", {"Content-Type": "application/json"})[:2] == (401, "unauthenticated")
    ok = api.client.post("/v1/records", content=body, headers=h)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/json"
    assert ok.json()["results"][0]["record_id"] == "t"


def test_an_append_body_without_a_length_is_held_to_the_limit(
    ledger: LedgerContext, platform: RecordFactory
) -> None:
    app = create_app(ledger, ApiSettings(max_body_bytes=300))
    _, token = app.state.api_keys.create(role="writer", org="p", name="w", actors=["platform"])
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = b'{"records": [' + json.dumps(as_json(platform.data_update("c"))).encode() + b"]}"
    assert len(body) > 300
    with TestClient(app, raise_server_exceptions=False) as client:
        # a chunked body (no Content-Length): the middleware cannot refuse it before reading
        chunked = client.post("/v1/records", content=iter([body[:500], body[500:]]), headers=h)
        assert chunked.status_code == 413
        assert chunked.json()["code"] == "request_too_large"
        assert (
            chunked.json()["detail"]
            == f"request: request body of {len(body)} bytes; the limit is 300"
        )
        sized = client.post("/v1/records", content=body, headers=h)
        assert sized.status_code == 413


def test_limits_and_unknown_routes_are_problems(ledger: LedgerContext, api: Api) -> None:
    app = create_app(ledger, ApiSettings(max_body_bytes=1000, rate=1, burst=2))
    keys = app.state.api_keys
    _, token = keys.create(role="auditor", org="csrc", name="limits")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        big = client.post("/v1/evidence", params=WHY, content=b"x" * 2000, headers=h)
        assert big.status_code == 413
        assert big.json()["code"] == "request_too_large"
        statuses = [client.get("/v1/whoami", headers=h).status_code for _ in range(4)]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses[2:]
        limited = client.get("/v1/whoami", headers=h)
        assert limited.headers["retry-after"].isdigit()
        nowhere = client.get("/v1/nowhere", headers=h)
        assert nowhere.status_code == 404
        assert nowhere.headers["content-type"] == "application/problem+json"


def test_key_admin_over_the_api(api: Api) -> None:
    h = api.headers("admin")
    created = api.client.post(
        "/v1/api-keys",
        json={"role": "writer", "org": "platform-co", "name": "sdk", "actors": ["platform"]},
        headers=h,
    )
    assert created.status_code == 201
    token = created.json()["token"]
    me = api.client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["role"], me["actors"]) == ("writer", ["platform"])
    listed = api.client.get("/v1/api-keys", headers=h).json()["items"]
    assert all("token" not in k for k in listed)
    assert api.client.delete(f"/v1/api-keys/{me['key_id']}", headers=h).json()["revoked_at"]
    no_actor = api.client.post(
        "/v1/api-keys", json={"role": "writer", "org": "x", "name": "y"}, headers=h
    )
    assert no_actor.status_code == 422
    assert no_actor.json()["field"] == "actors"


def test_a_request_id_ties_the_answer_the_log_line_and_the_access_entry(
    api: Api, story: list[str], caplog: Any
) -> None:
    import json
    import logging

    from ledger_service.api.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="ledger_service.api")
    headers = {**api.headers("auditor"), "X-Request-Id": "case-17.a"}
    answer = api.client.get("/v1/records/score", params=WHY, headers=headers)
    assert answer.headers["x-request-id"] == "case-17.a"
    entry = api.client.get("/v1/access-log", headers=api.headers("auditor")).json()["items"][0]
    assert entry["request_id"] == "case-17.a"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    line = next(x for x in lines if x.get("route") == "/v1/records/{record_id}")
    assert (line["status"], line["method"]) == (200, "GET")
    assert api.tokens["auditor"] not in caplog.text
    assert "inspection" not in caplog.text  # the purpose stays in the access log
    fresh = api.client.get("/v1/whoami", headers={**api.headers("auditor"), "X-Request-Id": "x y"})
    assert len(fresh.headers["x-request-id"]) == 32  # not a plain token: replaced
