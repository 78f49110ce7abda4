"""Bulk writes and many-key reads against the index, by the fastest means each backend offers.

Intake writes thousands of rows per request and looks up thousands of ids; at that size
SQLAlchemy's per-value bind processing and IN lists of bound parameters cost more than the
database's own work. This module holds the backend-specific shortcuts (SQLite
``executemany``/``json_each``, PostgreSQL ``COPY``/``= ANY(array)``) so that the code using
them says only *what* it writes or reads.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Row,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger_service.index.models import Record

__all__ = ["IN_CHUNK", "RowWriter", "chunks", "select_in", "select_many"]

_RECORDS = Record.metadata.tables[Record.__tablename__]

#: Rows per IN (...) list: below SQLite's oldest host-parameter limit (999).
IN_CHUNK = 900


def _identity(value: Any) -> Any:
    return value


# Datetimes the SQLite fast path formats itself must come out as the column type's own
# processing would have them; checked once per writer on these.
_DATETIME_PROBES = (
    datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(999, 12, 31, 12, 30, tzinfo=UTC),
)


def _fast_sqlite_datetimes(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``processor`` (UTCDateTime on SQLite: naive UTC as ``YYYY-MM-DD HH:MM:SS.ffffff`` text)
    with a shortcut for datetimes already in UTC, which is what records and the service
    clock hold: one ``isoformat`` instead of a timezone conversion and a %-format of seven
    fields. Falls back to ``processor`` whenever the shortcut would differ."""

    def shortcut(value: Any) -> Any:
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    if any(shortcut(probe) != processor(probe) for probe in _DATETIME_PROBES):
        return processor

    def param(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return processor(value)

    return param


class RowWriter:
    """Bulk INSERTs of the intake's rows, in the connection's transaction, by the fastest
    means each backend offers (at 10,000 records per request, SQLAlchemy's per-value bind
    processing costs more than SQLite's own work):

    * SQLite: one ``executemany`` of a plain INSERT through the driver;
    * PostgreSQL with psycopg 3: ``COPY ... FROM STDIN`` (one stream per table instead of a
      statement per row), its errors raised as SQLAlchemy's ``DBAPIError`` subclasses like
      any other statement's (``IntegrityError`` for a concurrent duplicate, so intake
      retries);
    * anything else: Core ``insert()`` executemany.

    Values go to the driver as they are (``str``, ``bytes``, ``None``), except datetimes, which
    go through the column type's own bind processing (:attr:`datetime_param`): exactly the
    values the Core path stores (``tests/unit/index/test_bulk.py`` compares them); dates
    likewise (:attr:`date_param`).
    """

    def __init__(self, connection: Connection, mode: Literal["executemany", "copy", "core"]):
        self._connection = connection
        self._mode = mode
        dialect = connection.dialect
        self.datetime_param: Callable[[Any], Any] = _identity
        self.date_param: Callable[[Any], Any] = _identity
        if mode != "core":
            date_type = _RECORDS.c.case_deadline.type.dialect_impl(dialect)
            self.date_param = date_type.bind_processor(dialect) or _identity
            column_type = _RECORDS.c.occurred_at.type.dialect_impl(dialect)
            self.datetime_param = column_type.bind_processor(dialect) or _identity
            if dialect.name == "sqlite":
                self.datetime_param = _fast_sqlite_datetimes(self.datetime_param)

    @classmethod
    def for_connection(cls, connection: Connection) -> RowWriter:
        dialect = connection.dialect
        if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
            return cls(connection, "executemany")
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            return cls(connection, "copy")
        return cls(connection, "core")

    def insert(self, table: Table, columns: Sequence[str], rows: list[Any]) -> None:
        """INSERT ``rows`` (tuples in ``columns`` order) into ``table``."""
        if not rows:
            return
        if self._mode == "core":
            self._connection.execute(
                insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
            )
            return
        quote = self._connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(column) for column in columns)
        if self._mode == "executemany":
            placeholders = ", ".join("?" for _ in columns)
            # Identifiers only (this module's table and column constants, quoted); the
            # values are bound parameters.
            statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})"  # noqa: S608
            self._connection.exec_driver_sql(statement, rows)
            return
        self._copy(f"COPY {quote(table.name)} ({names}) FROM STDIN", rows)

    def _copy(self, statement: str, rows: list[Any]) -> None:
        connection = self._connection
        dbapi_connection = connection.connection.dbapi_connection
        driver_connection: Any = connection.connection.driver_connection
        dialect = connection.dialect
        error_class: Any = dialect.loaded_dbapi.Error
        try:
            with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        except error_class as exc:
            disconnected = dialect.is_disconnect(exc, dbapi_connection, None)
            if disconnected:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                statement,
                None,
                exc,
                error_class,
                connection_invalidated=disconnected,
                dialect=dialect,
            ) from exc


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def select_in(
    session: Session, query: Any, column: Any, values: Sequence[Any]
) -> Iterator[Row[Any]]:
    """Run ``query`` with ``column IN values``, one IN list per chunk."""
    for chunk in chunks(values):
        yield from session.execute(query.where(column.in_(chunk)))


def select_many(
    session: Session, query: Any, column: Any, values: Sequence[str]
) -> Iterator[Row[Any]]:
    """Run ``query`` with ``column IN values`` for many string ``values`` (intake's lookups).

    One statement with one parameter where the backend allows: ``= ANY(array)`` on
    PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite. At 10,000 ids that is
    3-4× cheaper than IN lists of ``IN_CHUNK`` bound parameters (SQLAlchemy renders and
    binds each one, psycopg parses each placeholder); elsewhere, IN lists.
    """
    if not values:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # text[], not the column's varchar(n)[]: a cast to varchar(n) would silently cut a
        # longer value to n characters, and could then match another id.
        array = bindparam(None, list(values), type_=postgresql.ARRAY(Text()), unique=True)
        yield from session.execute(query.where(column == any_(array)))
    elif dialect == "sqlite" and _sqlite_has_json_each():
        encoded = bindparam(None, json.dumps(list(values)), type_=String(), unique=True)
        each = select(literal_column("value", String())).select_from(func.json_each(encoded))
        yield from session.execute(query.where(column.in_(each.scalar_subquery())))
    else:
        yield from select_in(session, query, column, values)


@functools.cache
def _sqlite_has_json_each() -> bool:
    """Whether the sqlite3 module's library has JSON functions (built in since 3.38)."""
    try:
        with closing(sqlite3.connect(":memory:")) as connection:
            connection.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.Error:  # pragma: no cover - a library built without JSON1
        return False
    return True
