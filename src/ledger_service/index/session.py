"""Engines and sessions for the index database.

SQLite (the embedded default, ``sqlite:///<state dir>/index.db``) is configured on every new
connection: WAL journal (readers never block the writer), foreign keys on, a busy timeout so
concurrent writers queue instead of failing, and ``synchronous=NORMAL`` by default (in WAL
mode a committed transaction survives a crash of the process — SIGKILL included — and only
the last transactions can be lost on power failure; pass ``sqlite_synchronous="FULL"`` to
survive power loss too).

SQLite transactions are begun explicitly by SQLAlchemy (the ``sqlite3`` module's own implicit
BEGIN is switched off): read transactions use a plain ``BEGIN``, and :func:`write_session`
begins with ``BEGIN IMMEDIATE``, taking the write lock up front so a read-then-write
transaction can never fail half-way with "database is locked".

PostgreSQL goes through psycopg 3 (``postgresql+psycopg://``), with pre-ping so a restarted
database costs one failed checkout rather than one failed request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "SQLITE_BEGIN_OPTION",
    "make_engine",
    "make_session_factory",
    "sqlite_url",
    "write_session",
]

#: Connection execution option naming the SQLite BEGIN flavour ("DEFERRED" or "IMMEDIATE").
SQLITE_BEGIN_OPTION = "ledger_sqlite_begin"

SqliteSynchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


def sqlite_url(state_dir: str | Path) -> str:
    """The URL of the embedded index database inside a service state directory."""
    return f"sqlite:///{Path(state_dir) / 'index.db'}"


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    sqlite_synchronous: SqliteSynchronous = "NORMAL",
    sqlite_busy_timeout_ms: int = 10_000,
    **engine_options: Any,
) -> Engine:
    """Create the engine for an index database URL (SQLite or PostgreSQL).

    For a SQLite file the parent directory is created if missing.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if (
            parsed.database
            and parsed.database != ":memory:"
            and not parsed.database.startswith("file:")
        ):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_engine(parsed, echo=echo, **engine_options)
        _configure_sqlite(engine, sqlite_synchronous, sqlite_busy_timeout_ms)
        return engine
    if backend == "postgresql":
        engine_options.setdefault("pool_pre_ping", True)
        return _create_engine(parsed, echo=echo, **engine_options)
    raise ValueError(f"unsupported index database backend {backend!r} (use sqlite or postgresql)")


def _create_engine(url: URL, **options: Any) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(url, **options)


def _configure_sqlite(engine: Engine, synchronous: SqliteSynchronous, busy_timeout_ms: int) -> None:
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"bad sqlite_synchronous {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module (it would BEGIN lazily, and
        # COMMIT before DDL); SQLAlchemy's "begin" event below emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        flavour = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if flavour not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"bad {SQLITE_BEGIN_OPTION} {flavour!r}")
        connection.exec_driver_sql(f"BEGIN {flavour}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory for the index (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def write_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one write transaction: committed on normal exit, rolled back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (write lock taken up front).
    """
    with session_factory() as session, session.begin():
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        yield session
