"""The committed JSON Schemas in docs/schemas/ match the models (run export_schemas.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from credit_ledger_verify.records import RecordKind
from credit_ledger_verify.records.schemas import render_schema, schema_documents

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "docs" / "schemas"
FIX_HINT = "stale: run `uv run python scripts/export_schemas.py` and commit docs/schemas/"


def test_committed_schemas_are_up_to_date() -> None:
    documents = schema_documents()
    for name, document in documents.items():
        path = SCHEMA_DIR / name
        assert path.exists(), f"{name} missing; {FIX_HINT}"
        assert path.read_text(encoding="utf-8") == render_schema(document), f"{name} {FIX_HINT}"
    committed = {path.name for path in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == set(documents), f"unexpected files {committed - set(documents)}"


def test_schema_set_covers_envelope_and_every_payload() -> None:
    names = set(schema_documents())
    assert names == {"record.schema.json"} | {
        f"payload.{kind.value}.schema.json" for kind in RecordKind
    }


def test_envelope_schema_shape() -> None:
    record = schema_documents()["record.schema.json"]
    assert record["discriminator"]["propertyName"] == "kind"
    assert set(record["discriminator"]["mapping"]) == {kind.value for kind in RecordKind}
    for definition in ("DataUpdateRecord", "FinancingEventRecord"):
        schema = record["$defs"][definition]
        assert schema["additionalProperties"] is False
        assert "kind" in schema["required"]
    amount = record["$defs"]["Money"]["properties"]["value"]
    assert amount["type"] == "string"  # decimals travel as strings, never JSON numbers
    json.dumps(record)  # serialisable


def test_export_script_check_mode(tmp_path: Path) -> None:
    script = REPO / "scripts" / "export_schemas.py"
    ok = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    stale = subprocess.run(
        [sys.executable, str(script), "--check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 1
    assert "stale schemas" in stale.stdout
    wrote = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrote.returncode == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(schema_documents())
