"""A throw-away PostgreSQL server (Debian's package) for the test session.

Started through ``scripts/pg.sh`` (initdb into a fresh directory under /tmp, 127.0.0.1 only,
a free port, fsync on; as root the cluster runs as the ``postgres`` system user).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO_ROOT / "scripts" / "pg.sh"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server could not be installed or started."""


def _run_pg_script(*args: str, timeout: float = 300) -> str:
    try:
        completed = subprocess.run(
            ["bash", str(PG_SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresUnavailable(f"scripts/pg.sh {' '.join(args)}: {exc}") from exc
    if completed.returncode != 0:
        raise PostgresUnavailable(
            f"scripts/pg.sh {' '.join(args)} exited {completed.returncode}:\n"
            f"{completed.stderr.strip()}"
        )
    return completed.stdout.strip()


@dataclass
class PostgresServer:
    """A running server; ``url`` points at its ``postgres`` maintenance database."""

    directory: Path
    url: str
    _admin: Engine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    @classmethod
    def start(cls) -> PostgresServer:
        try:
            _run_pg_script("bindir", timeout=30)
        except PostgresUnavailable:
            _run_pg_script("install", timeout=900)
        directory = Path(tempfile.mkdtemp(prefix="ledger-pg-", dir="/tmp"))
        try:
            url = _run_pg_script("start", str(directory), timeout=120)
        except PostgresUnavailable:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cls(directory=directory, url=url)

    def database_url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (a fresh name unless given) and return its URL."""
        name = name or f"ledger_{secrets.token_hex(6)}"
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            sql += f' TEMPLATE "{template}"'
        with self._admin.connect() as connection:
            connection.execute(text(sql))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        self._admin.dispose()
        try:
            _run_pg_script("stop", str(self.directory), timeout=120)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
