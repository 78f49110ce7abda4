"""`ledgerctl lineage --format prov-json|dot|svg|png --out F` on a small ledger written
through the real intake (SQLite and PostgreSQL, as the rest of the lineage tests)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger_service.cli import app
from ledger_service.export import read_prov_json
from ledger_service.export.picture import NODE_ID_PREFIX
from ledger_service.intake import LedgerService
from tests.db.factories import RecordFactory
from tests.db.fixtures import IndexDatabase

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def base(
    index_db: IndexDatabase, service: LedgerService, platform: RecordFactory, tmp_path: Path
) -> list[str]:
    """tax, si → score → approval; then a correction of tax and an objection to si."""
    service.append([platform.data_update("tax"), platform.data_update("si")])
    service.append([platform.score_change("score", parents=["tax", "si"])])
    service.append([platform.financing_event("approve", parents=["score"], event="approval")])
    service.append([platform.data_update("tax2", supersedes="tax")])
    service.append([platform.data_update("objection", disputes="si")])
    state = ["--state-dir", str(tmp_path / "state"), "--db", index_db.url]
    return [*state, "--purpose", "export test"]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["lineage", *args])


def test_prov_json_to_a_file_reads_back_as_the_graph(base: list[str], tmp_path: Path) -> None:
    out = tmp_path / "lineage.prov.json"
    result = run("approve", *base, "--format", "prov-json", "--out", str(out))
    assert result.exit_code == 0, result.output
    graph = read_prov_json(out.read_text(encoding="utf-8"))
    assert set(graph.nodes) == {"approve", "score", "tax", "si"}
    assert graph.nodes["tax"].superseded_by == "tax2"
    assert graph.nodes["si"].disputed
    assert graph.nodes["approve"].loan_event == "approval"
    assert {(e.source, e.target) for e in graph.edges} == {
        ("approve", "score"),
        ("score", "tax"),
        ("score", "si"),
    }
    # the same graph as --format json says
    as_json = run("approve", *base, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert {n["record_id"] for n in json.loads(as_json.output)["nodes"]} == set(graph.nodes)


def test_prov_json_and_dot_to_stdout(base: list[str]) -> None:
    prov = run("tax", *base, "--down", "--format", "prov-json")
    assert prov.exit_code == 0, prov.output
    assert set(read_prov_json(prov.output).nodes) == {"tax", "score", "approve"}
    dot = run("approve", *base, "--format", "dot")
    assert dot.exit_code == 0, dot.output
    assert dot.output.startswith("digraph lineage {")
    assert dot.output.count(f'id="{NODE_ID_PREFIX}') == 4


def test_svg_and_png_to_files(base: list[str], tmp_path: Path) -> None:
    svg = tmp_path / "lineage.svg"
    result = run("approve", *base, "--format", "svg", "--out", str(svg))
    assert result.exit_code == 0, result.output
    root = ET.parse(svg).getroot()
    ids = {g.get("id") for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert ids == {f"{NODE_ID_PREFIX}{rid}" for rid in ("approve", "score", "tax", "si")}
    png = tmp_path / "lineage.png"
    result = run("approve", *base, "--format", "png", "--out", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "--format png needs --out FILE"),
        (["--format", "gif"], "--format must be one of table, json, prov-json, dot, svg, png"),
        (["--out", "x.txt"], "--out needs a file format"),
    ],
)
def test_bad_options_are_named(base: list[str], args: list[str], message: str) -> None:
    result = run("approve", *base, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_unwritable_out_is_named(base: list[str], tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "g.svg"
    result = run("approve", *base, "--format", "svg", "--out", str(out))
    assert result.exit_code == 1
    assert f"--out {out}" in " ".join(result.output.split())


def test_a_loan_as_of_its_decision_as_a_picture_highlights_the_decision(
    base: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "loan.svg"
    result = run("loan-1", "--as-of", "decision", *base, "--format", "svg", "--out", str(out))
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    ET.fromstring(svg)
    assert "DECISION" in svg
    assert "lineage of loan loan&#45;1" in svg  # dot writes "-" as &#45;
