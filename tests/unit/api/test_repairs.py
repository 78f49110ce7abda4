"""Credit repair over the API, in-process: a bank (verifier) is not shown a repaired negative
record on any route it may call; an auditor sees it with its repair, and reads the cases and
the report — each read access-logged with its purpose."""

from __future__ import annotations

import pytest

from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory
from tests.unit.api.conftest import WHY, Api


@pytest.fixture
def repaired(service: LedgerService, platform: RecordFactory) -> None:
    """A court record (negative) and tax data → score1; a fulfilled-judgment repair of the
    court record submitted, verified, re-scored (score2) and approved naming score2. An
    overdue loan event whose repair was rejected."""
    f = platform
    service.append(
        [
            f.data_update("court", dataset="judicial"),
            f.data_update("tax"),
            f.score_change("score1", parents=["court", "tax"]),
            f.financing_event("overdue", event="overdue", loan_id="loan-9"),
        ]
    )
    action = "fulfilled_judgment"
    service.append([f.credit_repair("cr", parents=["court"], action=action)])
    service.append([f.credit_repair("cr-v", status="verified", supersedes="cr", action=action)])
    service.append([f.score_change("score2", parents=["cr-v", "tax"])])
    service.append(
        [
            f.credit_repair(
                "cr-a",
                status="approved",
                supersedes="cr-v",
                action=action,
                affected=[],
                resulting_score_change="score2",
            ),
            f.credit_repair("cr2", parents=["overdue"], action="credit_commitment"),
        ]
    )
    service.append(
        [f.credit_repair("cr2-x", status="rejected", supersedes="cr2", action="credit_commitment")]
    )


def test_a_bank_is_not_shown_the_repaired_record(api: Api, repaired: None) -> None:
    bank = api.headers("verifier")
    for path in ("/v1/records/court", "/v1/records/court/anchor"):
        response = api.client.get(path, params=WHY, headers=bank)
        assert response.status_code == 404, path
        assert response.json()["code"] == "unknown_record"
    evidence = api.client.post(
        "/v1/evidence", params=WHY, json={"record_ids": ["tax", "court"]}, headers=bank
    )
    assert evidence.status_code == 404
    assert evidence.json()["record_id"] == "court"
    # the rejected repair hides nothing; the other records stay visible
    for rid in ("overdue", "tax", "score1"):
        assert api.client.get(f"/v1/records/{rid}", params=WHY, headers=bank).status_code == 200
    # nothing of the hidden record was logged as read by the bank
    log = api.client.get("/v1/access-log", headers=api.headers("auditor")).json()["items"]
    assert not [e for e in log if e["record_id"] == "court" and "verifier" in e["accessor"]]


def test_an_auditor_sees_it_with_its_repair(api: Api, repaired: None) -> None:
    auditor = api.headers("auditor")
    assert api.client.get("/v1/records/court", params=WHY, headers=auditor).status_code == 200
    graph = api.client.get("/v1/lineage/score1", params=WHY, headers=auditor).json()
    court = next(n for n in graph["nodes"] if n["record_id"] == "court")
    assert court["repair"]["case"] == "cr"
    assert court["repair"]["status"] == "approved"
    assert court["repair"]["score_change"] == "score2"
    dot = api.client.get(
        "/v1/lineage/score1", params={**WHY, "format": "dot"}, headers=auditor
    ).text
    assert "court" in dot
    timeline = api.client.get(
        f"/v1/subjects/{graph['nodes'][0]['subject']}/timeline", params=WHY, headers=auditor
    ).json()["items"]
    assert {n["record_id"]: n["repair"] for n in timeline}["court"]["status"] == "approved"


def test_cases_one_case_and_the_report(api: Api, repaired: None) -> None:
    auditor = api.headers("auditor")
    approved = api.client.get(
        "/v1/repairs", params={**WHY, "status": "approved"}, headers=auditor
    ).json()
    assert [c["case"] for c in approved["items"]] == ["cr"]
    case = api.client.get("/v1/repairs/cr", params=WHY, headers=auditor).json()
    assert [s["status"] for s in case["steps"]] == ["submitted", "verified", "approved"]
    assert case["score_change"] == "score2"
    assert case["affected_records"] == ["court"]
    report = api.client.get("/v1/reports/repairs", params=WHY, headers=auditor).json()
    assert report["counts"] == {"submitted": 0, "verified": 0, "approved": 1, "rejected": 1}
    assert [c["case"] for c in report["cases"]] == ["cr", "cr2"]
    unknown = api.client.get("/v1/repairs/court", params=WHY, headers=auditor)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_repair_case"
    bad = api.client.get("/v1/repairs", params={**WHY, "status": "done"}, headers=auditor)
    assert bad.status_code == 422
    log = api.client.get("/v1/access-log", headers=auditor).json()["items"]
    assert {e["query"] for e in log} >= {"repairs", "repair", "repairs_report"}
    assert {(e["record_id"], e["purpose"]) for e in log if e["query"] == "repair"} == {
        ("cr", "supervision: inspection 2026-11")
    }
