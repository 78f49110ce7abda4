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
