"""Every endpoint × every role: allowed roles get past authorisation, the others get a 403
problem — driven by the app's own OpenAPI document, so a new endpoint without a sample
request or a role entry fails here."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nacl.signing import SigningKey

from ledger_service.api import ApiKeys, Role
from ledger_service.api.deps import PERMISSIONS
from ledger_service.context import LedgerContext
from tests.db.factories import RecordFactory
from tests.unit.api.conftest import SUBJECT, WHY, Api

_OTHER_KEY = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


def samples(platform: RecordFactory) -> dict[str, tuple[str, str, dict[str, Any], Any]]:
    """route name -> (method, path, query, json body): a valid request of each route."""
    record = platform.data_update("fresh-1").model_dump(mode="json", exclude_none=True)
    return {
        "append_records": ("POST", "/v1/records", {}, {"records": [record]}),
        "get_record": ("GET", "/v1/records/score", WHY, None),
        "get_anchor": ("GET", "/v1/records/score/anchor", {}, None),
        "evidence_bundle": ("POST", "/v1/evidence", WHY, {"record_ids": ["score"]}),
        "lineage_bundle": ("POST", "/v1/evidence/lineage", WHY, {"start": ["score"]}),
        "lineage": ("GET", "/v1/lineage/approve", WHY, None),
        "lineage_diff": ("GET", "/v1/lineage/loan-1/diff", {**WHY, "as_of": "decision"}, None),
        "impact": ("GET", "/v1/impact/si", WHY, None),
        "timeline": ("GET", f"/v1/subjects/{SUBJECT}/timeline", WHY, None),
        "flagged_records": ("GET", "/v1/records", {**WHY, "flag": "disputed"}, None),
        "access_log": ("GET", "/v1/access-log", {}, None),
        "objections": ("GET", "/v1/objections", {**WHY, "status": "open"}, None),
        "objection_case": ("GET", "/v1/objections/case-1", WHY, None),
        "objection_bundle": ("GET", "/v1/objections/case-1/bundle", WHY, None),
        "objection_report": ("GET", "/v1/reports/objections", WHY, None),
        "access_entry_evidence": ("GET", "/v1/access-log/1/evidence", {}, None),
        "verify_record": ("GET", "/v1/records/score/verification", WHY, None),
        "list_repairs": ("GET", "/v1/repairs", {**WHY, "status": "approved"}, None),
        "get_repair": ("GET", "/v1/repairs/score", WHY, None),
        "repairs_report": ("GET", "/v1/reports/repairs", WHY, None),
        "create_api_key": (
            "POST",
            "/v1/api-keys",
            {},
            {"role": "verifier", "org": "Bank of Test", "name": "risk"},
        ),
        "list_api_keys": ("GET", "/v1/api-keys", {}, None),
        "revoke_api_key": ("DELETE", "/v1/api-keys/0000000000000000", {}, None),
        "register_writer_key": (
            "POST",
            "/v1/writer-keys",
            {},
            {"actor": "another-platform", "public_key": _OTHER_KEY},
        ),
        "revoke_writer_key": (
            "POST",
            "/v1/writer-keys/revoke",
            {},
            {"actor": "another-platform", "public_key": _OTHER_KEY},
        ),
        "whoami": ("GET", "/v1/whoami", {}, None),
        # no network in these tests: the checkpoint routes answer 404 to the roles allowed
        "latest_checkpoint": ("GET", "/v1/checkpoints/latest", {}, None),
        "get_checkpoint": ("GET", "/v1/checkpoints/1", {"format": "json"}, None),
        "checkpoint_proof": ("GET", "/v1/checkpoints/proof", {"old": 0, "new": 1}, None),
        "submit_cosignature": (
            "POST",
            "/v1/checkpoints/1/cosignatures",
            {},
            {"cosignature": "— t AAAAAAAA"},
        ),
        "erase_record": ("POST", "/v1/records/ghost/erasure", {}, {"reason": "asked"}),
        "retention_runs": ("GET", "/v1/reports/retention-runs", {}, None),
        "erasures": ("GET", "/v1/reports/erasures", WHY, None),
    }


def test_every_operation_has_a_role_entry_and_a_sample(api: Api, platform: RecordFactory) -> None:
    spec = api.client.get("/v1/openapi.json").json()
    operations = {
        op["operationId"]
        for path, methods in spec["paths"].items()
        if path.startswith("/v1/")
        for op in methods.values()
    }
    assert operations == set(PERMISSIONS) == set(samples(platform))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_is_allowed_exactly_its_routes(
    api: Api, platform: RecordFactory, story: list[str], role: str
) -> None:
    for name, (method, path, query, body) in samples(platform).items():
        response = api.client.request(
            method, path, params=query, json=body, headers=api.headers(role)
        )
        if Role(role) in PERMISSIONS[name]:
            assert response.status_code not in (401, 403), (name, response.text)
            assert response.status_code < 500, (name, response.text)
        else:
            assert response.status_code == 403, (name, response.status_code, response.text)
            problem = response.json()
            assert problem["type"] == "urn:credit-ledger:problem:forbidden"
            assert name in problem["detail"]


def test_no_key_a_bad_key_a_revoked_key_and_an_expired_key_are_401(
    api: Api, story: list[str]
) -> None:
    assert api.client.get("/v1/whoami").status_code == 401
    bad = {"Authorization": "Bearer clk_0000000000000000_" + "A" * 43}
    assert api.client.get("/v1/whoami", headers=bad).status_code == 401
    key, token = api.keys.create(role="auditor", org="csrc", name="gone")
    assert api.client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}).is_success
    api.keys.revoke(key.key_id)
    revoked = api.client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert revoked.headers["content-type"] == "application/problem+json"


def test_a_writer_writes_only_as_its_actors(
    api: Api, bank: RecordFactory, platform: RecordFactory, story: list[str]
) -> None:
    foreign = bank.data_update("by-bank").model_dump(mode="json", exclude_none=True)
    own = platform.data_update("by-platform").model_dump(mode="json", exclude_none=True)
    response = api.client.post(
        "/v1/records", json={"records": [own, foreign]}, headers=api.headers("writer")
    )
    assert response.status_code == 403
    assert "'bank'" in response.json()["detail"]
    # nothing written: the platform's own record of the same request is not there either
    got = api.client.get("/v1/records/by-platform", params=WHY, headers=api.headers("auditor"))
    assert got.status_code == 404


def test_a_verifier_asking_for_lineage_is_refused_and_the_refusal_is_logged(
    api: Api, story: list[str]
) -> None:
    refused = api.client.get("/v1/lineage/approve", params=WHY, headers=api.headers("verifier"))
    assert refused.status_code == 403
    log = api.client.get("/v1/access-log", headers=api.headers("auditor")).json()["items"]
    assert [e for e in log if e["query"] == "lineage"] == []  # nothing was read
    refusal = log[0]
    assert refusal["query"] == "refused:lineage"
    assert refusal["record_id"] == "approve"
    assert refusal["purpose"] == "refused (supervision)"
    assert refusal["accessor"].startswith("verifier-org/t (verifier key ")


def test_an_expired_key_is_refused(api: Api, ledger: LedgerContext) -> None:
    past = datetime.now(UTC) - timedelta(days=91)
    old_keys = ApiKeys(ledger.session_factory, clock=lambda: past)
    key, token = old_keys.create(role="auditor", org="csrc", name="old")  # 90 days from then
    expired = api.client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert f"API key {key.key_id} expired" in expired.json()["detail"]
