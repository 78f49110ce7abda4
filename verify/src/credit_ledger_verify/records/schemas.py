"""JSON Schemas (draft 2020-12) of the record envelope and each payload, for docs/schemas/.

``scripts/export_schemas.py`` writes them; a unit test checks the committed files are current.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from credit_ledger_verify.records.envelope import PAYLOAD_CLASSES, AnyRecord

__all__ = ["JSON_SCHEMA_DIALECT", "render_schema", "schema_documents"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_documents() -> dict[str, dict[str, Any]]:
    """Return ``{file name: JSON Schema}`` for the envelope and every payload kind."""
    record_schema = TypeAdapter(AnyRecord).json_schema(mode="validation")
    documents = {
        "record.schema.json": {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": "urn:credit-ledger:schema:record",
            "title": "Record",
            "description": (
                "A ledger record: the common envelope with a kind-specific payload, "
                "discriminated by 'kind'. The writer signs the RFC 8785 canonical form of the "
                "record without 'signature'; fields that are null are omitted."
            ),
            **record_schema,
        }
    }
    for kind, payload_class in PAYLOAD_CLASSES.items():
        documents[f"payload.{kind.value}.schema.json"] = {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": f"urn:credit-ledger:schema:payload:{kind.value}",
            **payload_class.model_json_schema(mode="validation"),
        }
    return documents


def render_schema(document: dict[str, Any]) -> str:
    """Serialise a schema document the way it is committed (stable key order, newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
