"""Objection cases through the API, in-process (SQLite and PostgreSQL): steps written by a
writer through POST /v1/records, the case listings, one case, the report and the record's
dispute status as an auditor sees them; intake refusals as problems naming record and field;
the routes refused to the other roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.db.factories import RecordFactory
from tests.unit.api.conftest import WHY, Api
from tests.unit.conftest import NOW


def _post(api: Api, *records: Any) -> Any:
    body = {"records": [r.model_dump(mode="json", exclude_none=True) for r in records]}
    return api.client.post("/v1/records", json=body, headers=api.headers("writer"))


def _get(api: Api, path: str, **params: str) -> Any:
    response = api.client.get(path, params={**WHY, **params}, headers=api.headers("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_case_through_the_api_until_it_is_corrected(
    api: Api, platform: RecordFactory, story: list[str]
) -> None:
    opened = _post(api, platform.objection("case-1", disputes="tax2", reason="VAT figure wrong"))
    assert opened.status_code == 200, opened.text
    record = _get(api, "/v1/records/tax2")
    assert record["disputed"] is True
    assert record["objection"]["status"] == "open"
    day_21 = (NOW + timedelta(days=21)).isoformat()
    overdue = _get(api, "/v1/objections", status="overdue", as_of=day_21)
    assert [c["case"] for c in overdue["items"]] == ["case-1"]
    assert _get(api, "/v1/objections", status="overdue")["items"] == []  # now: day 0

    # a resolution naming a correction of another record is refused, naming index and field
    refused = _post(
        api,
        platform.objection("res-bad", step="corrected", case="case-1", correction="tax2"),
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["record_index"], problem["record_id"], problem["field"]) == (
        0,
        "res-bad",
        "payload.correction",
    )
    resolved = _post(
        api,
        platform.data_update("tax3", supersedes="tax2"),
        platform.objection("res-1", step="corrected", case="case-1", correction="tax3"),
    )
    assert resolved.status_code == 200, resolved.text

    record = _get(api, "/v1/records/tax2")
    assert record["disputed"] is False
    assert (record["objection"]["status"], record["objection"]["resolution"]) == (
        "corrected",
        "res-1",
    )
    one = _get(api, "/v1/objections/case-1")
    assert one["case"]["status"] == "resolved"
    assert [s["role"] for s in one["steps"]] == ["disputed", "opened", "correction", "corrected"]
    assert one["steps"][1]["reason"] == "VAT figure wrong"
    report = _get(api, "/v1/reports/objections")
    assert report["counts"]["corrected"] == 1
    assert [line["case"] for line in report["lines"]] == ["case-1"]
    # the bundle needs anchored records: refused before any network is used
    bundle = api.client.get(
        "/v1/objections/case-1/bundle", params=WHY, headers=api.headers("auditor")
    )
    assert bundle.status_code == 409
    assert "not anchored yet" in bundle.json()["detail"]
    # every answer was logged with its purpose
    log = _get(api, "/v1/access-log")["items"]
    assert {"objections", "objection", "objection_report"} <= {e["query"] for e in log}

    unknown = api.client.get("/v1/objections/nope", params=WHY, headers=api.headers("auditor"))
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_objection_case"


def test_only_auditors_read_cases(api: Api, platform: RecordFactory, story: list[str]) -> None:
    for role in ("verifier", "writer", "admin"):
        response = api.client.get("/v1/objections", params=WHY, headers=api.headers(role))
        assert response.status_code == 403, role


def test_listing_pages_with_a_cursor(api: Api, platform: RecordFactory, story: list[str]) -> None:
    assert _post(api, platform.objection("c1", disputes="tax")).status_code == 200
    assert _post(api, platform.objection("c2", disputes="score")).status_code == 200
    first = _get(api, "/v1/objections", limit="1")
    assert [c["case"] for c in first["items"]] == ["c1"]
    second = _get(api, "/v1/objections", limit="1", cursor=first["next_cursor"])
    assert [c["case"] for c in second["items"]] == ["c2"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("step", ["upheld", "rejected"])
def test_the_record_read_is_disputed_until_upheld_or_rejected(
    api: Api, platform: RecordFactory, story: list[str], step: str
) -> None:
    assert _post(api, platform.objection("case-2", disputes="score")).status_code == 200
    assert _get(api, "/v1/records/score")["disputed"] is True
    flagged = _get(api, "/v1/records", flag="disputed")["items"]
    assert "score" in [n["record_id"] for n in flagged]
    answer = _post(api, platform.objection("res-2", step=step, case="case-2", reason="answered"))
    assert answer.status_code == 200, answer.text
    record = _get(api, "/v1/records/score")
    assert record["disputed"] is False
    assert record["objection"]["status"] == step
    flagged = _get(api, "/v1/records", flag="disputed")["items"]
    assert "score" not in [n["record_id"] for n in flagged]
    lineage = _get(api, "/v1/lineage/approve")
    (score,) = [n for n in lineage["nodes"] if n["record_id"] == "score"]
    assert score["disputed"] is False
    assert score["objection"]["resolution"] == "res-2"
