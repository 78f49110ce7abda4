"""Pytest fixtures for the index database, on real SQLite and real PostgreSQL.

Register once for the whole suite in the top-level ``tests/conftest.py``::

    pytest_plugins = ["tests.db.fixtures"]

Fixtures:

``postgres_server`` (session)
    Starts a Debian-package PostgreSQL server on a free 127.0.0.1 port, stops it at the end.
    If it cannot start the tests that need it ERROR; they are skipped only when the
    environment says ``LEDGER_SKIP_POSTGRES=1``.
``index_backend``
    Parametrised ``"sqlite"`` / ``"postgresql"`` (the latter marked ``postgres``).
``index_db`` / ``index_engine`` / ``session_factory``
    A freshly migrated (``alembic upgrade head``) index database of that backend, private to
    the test: a new SQLite file, or the session's migrated PostgreSQL database, truncated after
    the test. Built through the composition root (``index_db.context``, a
    :class:`~ledger_service.context.LedgerContext`), like the service itself.
``empty_index_engine``
    An empty database of that backend (for migration tests).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.index import make_engine, sqlite_url
from ledger_service.index.models import Base
from tests.db.postgres import PostgresServer, PostgresUnavailable

__all__ = [
    "SKIP_POSTGRES_ENV",
    "IndexDatabase",
    "empty_index_engine",
    "index_backend",
    "index_db",
    "index_engine",
    "postgres_index_url",
    "postgres_server",
    "session_factory",
]

SKIP_POSTGRES_ENV = "LEDGER_SKIP_POSTGRES"


@dataclass(frozen=True)
class IndexDatabase:
    backend: str
    url: str
    context: LedgerContext

    @property
    def engine(self) -> Engine:
        return self.context.engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.context.session_factory


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if os.environ.get(SKIP_POSTGRES_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped: {SKIP_POSTGRES_ENV}=1")
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        pytest.fail(
            f"PostgreSQL could not be started ({exc}); fix it, or set {SKIP_POSTGRES_ENV}=1 "
            "to skip the PostgreSQL tests explicitly",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_index_url(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """URL of the session's PostgreSQL index database, migrated to head once."""
    url = postgres_server.create_database("ledger_index_test")
    state = tmp_path_factory.mktemp("postgres-index-state")
    with LedgerContext(ServiceConfig(state_dir=state, db_url=url)) as context:
        context.engine  # noqa: B018  (migrates)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def index_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture
def index_db(
    index_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[IndexDatabase]:
    """A migrated index database private to the test.

    SQLite: a new file, migrated. PostgreSQL: the session's migrated database, emptied
    (TRUNCATE ... RESTART IDENTITY) after the test.
    """
    if index_backend == "sqlite":
        url = sqlite_url(tmp_path / "sqlite-index")
        context = LedgerContext(ServiceConfig(state_dir=tmp_path, db_url=url))
    else:
        url = request.getfixturevalue("postgres_index_url")
        # Migrated once per session (postgres_index_url); emptied after each test.
        context = LedgerContext(ServiceConfig(state_dir=tmp_path, db_url=url), migrate=False)
    try:
        context.engine  # noqa: B018  (a SQLite index is migrated here)
        yield IndexDatabase(index_backend, url, context)
    finally:
        context.close()
        if index_backend == "postgresql":
            _empty_postgres_database(url)


def _empty_postgres_database(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


@pytest.fixture
def index_engine(index_db: IndexDatabase) -> Engine:
    return index_db.engine


@pytest.fixture
def session_factory(index_db: IndexDatabase) -> sessionmaker[Session]:
    return index_db.session_factory


@pytest.fixture
def empty_index_engine(
    index_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """An empty database (no schema) of the backend, private to the test."""
    server: PostgresServer | None = None
    name = f"ledger_empty_{secrets.token_hex(6)}"
    if index_backend == "sqlite":
        url = sqlite_url(tmp_path / "sqlite-empty")
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(name)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if server is not None:
            server.drop_database(name)
