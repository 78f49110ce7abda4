"""The bank's install, shown: build the credit-ledger-verify wheel, install it alone (with its
declared dependencies) into a fresh virtualenv, verify the golden evidence and lineage
bundles with its console script, and find none of the service's stack in that venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "evidence"
UV = shutil.which("uv")


def _run(*args: str | Path, timeout: float = 180, **kwargs: object) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel and its declared dependencies (versions pinned
    to uv.lock, taken from uv's cache when present, else from PyPI)."""
    assert UV is not None, "uv is on PATH wherever the repository's tests run (bootstrap.sh)"
    tmp = tmp_path_factory.mktemp("bank")
    dist = tmp / "dist"
    _run(UV, "build", "--wheel", "--out-dir", dist, ROOT / "verify", cwd=ROOT)
    (wheel,) = dist.glob("credit_ledger_verify-*.whl")
    pins = tmp / "pins.txt"
    pins.write_text(
        _run(
            UV,
            "export",
            "--frozen",
            "--package",
            "credit-ledger-verify",
            "--no-hashes",
            "--no-emit-workspace",
            "--no-dev",
            cwd=ROOT,
        )
    )
    env = tmp / "venv"
    _run(sys.executable, "-m", "venv", env)  # python3 -m venv: the bank's own interpreter
    python = env / "bin" / "python"
    _run(UV, "pip", "install", "--python", python, "--constraint", pins, wheel, cwd=tmp)
    return env


def _in_venv(env: Path, program: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run one of the venv's programs outside the repository (nothing of it on sys.path)."""
    return subprocess.run(
        [str(env / "bin" / program), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
        cwd=env,
    )


def _verify(env: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return _in_venv(env, "credit-ledger-verify", *args)


def test_the_golden_evidence_bundle_verifies(venv: Path) -> None:
    done = _verify(venv, DATA / "bundle.json", "--trust", DATA / "trust")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "45 of 45 record(s) verified in 1 bundle(s)" in done.stdout


def test_the_golden_lineage_bundle_verifies(venv: Path) -> None:
    lineage = DATA / "lineage"
    done = _verify(venv, lineage / "bundle.json", "--trust", lineage / "trust", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    (bundle,) = report["bundles"]
    assert bundle["lineage"]["ok"] is True


def test_an_altered_record_fails_with_its_step(venv: Path, tmp_path: Path) -> None:
    bundle = json.loads((DATA / "bundle.json").read_text())
    record = bundle["records"][3]
    record["content"] = record["content"].replace('"actor":"', '"actor":"x', 1)
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(bundle))
    done = _verify(venv, altered, "--trust", DATA / "trust")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "step 1 (content)" in done.stdout
    assert "44 of 45 record(s) verified" in done.stdout


@pytest.mark.parametrize(
    "module", ["sqlalchemy", "fastapi", "ledger_service", "grpc", "fabric_gateway", "alembic"]
)
def test_the_service_stack_is_not_installed(venv: Path, module: str) -> None:
    done = _in_venv(venv, "python", "-c", f"import {module}")
    assert done.returncode == 1
    assert f"No module named '{module}'" in done.stderr


def test_the_package_itself_imports_in_the_venv(venv: Path) -> None:
    code = "import credit_ledger_verify as v; print(v.__version__, v.LedgerError.code)"
    done = _in_venv(venv, "python", "-c", code)
    assert done.stdout.split() == ["0.1.0", "ledger_error"], done.stderr
