"""Erasure on request over the API (admins): refused with the duties as a 409 problem,
done with the erasure record (201), gone afterwards (410); the retention reports (auditors)."""

from __future__ import annotations

from ledger_service.context import LedgerContext
from ledger_service.intake import LedgerService
from ledger_service.retention.erasure import erasure_record_id
from tests.db.factories import RecordFactory
from tests.unit.api.conftest import WHY, Api


def test_erasure_on_request_over_the_api(
    api: Api, story: list[str], service: LedgerService, platform: RecordFactory
) -> None:
    admin = api.headers("admin")
    refused = api.client.post("/v1/records/tax/erasure", json={"reason": "asked"}, headers=admin)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "erasure_refused"
    assert problem["record_id"] == "tax"
    assert [d["duty"] for d in problem["duties"]] == ["loan_decision_basis"]
    assert "loan-1" in problem["duties"][0]["detail"]

    service.append([platform.data_update("unused")])
    empty = api.client.post("/v1/records/unused/erasure", json={"reason": ""}, headers=admin)
    assert empty.status_code == 422
    done = api.client.post(
        "/v1/records/unused/erasure", json={"reason": "the enterprise asked"}, headers=admin
    )
    assert done.status_code == 201, done.text
    assert done.json()["erasure_record"] == erasure_record_id("unused")
    assert done.json()["rule"] == "pipl_art47"
    gone = api.client.post("/v1/records/unused/erasure", json={"reason": "again"}, headers=admin)
    assert gone.status_code == 410
    assert gone.json()["code"] == "record_erased"

    listed = api.client.get("/v1/reports/erasures", params=WHY, headers=api.headers("auditor"))
    assert listed.status_code == 200, listed.text
    (line,) = listed.json()["items"]
    assert (line["record_id"], line["basis"], line["reason"]) == (
        "unused",
        "request",
        "the enterprise asked",
    )
    runs = api.client.get("/v1/reports/retention-runs", headers=api.headers("auditor"))
    assert runs.status_code == 200
    assert runs.json() == {"items": []}


def test_the_erasure_listing_is_access_logged(
    api: Api, ledger: LedgerContext, service: LedgerService, platform: RecordFactory
) -> None:
    service.append([platform.data_update("unused")])
    api.client.post(
        "/v1/records/unused/erasure", json={"reason": "asked"}, headers=api.headers("admin")
    )
    api.client.get("/v1/reports/erasures", params=WHY, headers=api.headers("auditor"))
    queries = [e.query for e in ledger.access_log.entries(limit=10)]
    assert "erasures" in queries
    assert "erasure" in queries
