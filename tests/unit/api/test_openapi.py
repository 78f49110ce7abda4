"""The committed OpenAPI document is the app's: regenerate it with
`uv run ledgerctl api openapi > docs/api/openapi.json` when the API changes."""

from __future__ import annotations

import json
from pathlib import Path

from ledger_service.api import create_app
from ledger_service.context import LedgerContext

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.json"


def test_the_committed_openapi_document_is_the_apps(ledger: LedgerContext) -> None:
    committed = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert create_app(ledger).openapi() == committed, (
        "docs/api/openapi.json is stale: run `uv run ledgerctl api openapi > docs/api/openapi.json`"
    )


def test_every_operation_documents_its_problems_and_every_read_its_purpose(
    ledger: LedgerContext,
) -> None:
    document = create_app(ledger).openapi()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation.get("summary"), (method, path)
            if operation["operationId"] in {"get_record", "lineage", "timeline", "impact"}:
                names = {p["name"] for p in operation["parameters"]}
                assert "purpose" in names, (method, path)


def test_every_operation_has_examples(ledger: LedgerContext) -> None:
    """Every /v1 operation shows an example of what to send (each parameter, the body) or,
    when it takes nothing, of what it answers."""
    document = create_app(ledger).openapi()
    for path, methods in document["paths"].items():
        if not path.startswith("/v1/") or path == "/v1/openapi.json":
            continue
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            assert all("example" in p for p in parameters), (method, path, parameters)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert "example" in body, (method, path)
            if not parameters and body is None:
                answer = operation["responses"].get("200", {}).get("content", {})
                assert "example" in answer.get("application/json", {}), (method, path)
