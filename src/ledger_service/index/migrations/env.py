"""Alembic environment of the index database.

The database is given programmatically (see :mod:`ledger_service.index.migrate`): either an
open connection in ``config.attributes["connection"]`` (the migration then runs inside that
connection's transaction, which the caller commits), or a URL in the ``sqlalchemy.url`` main
option. No ``alembic.ini`` is needed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ledger_service.index import (  # noqa: F401  (their tables)
    chain_models,
    log_models,
    repair_models,
    retention_models,
)
from ledger_service.index.models import Base
from ledger_service.index.session import make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite does transactional DDL fine (our engine emits BEGIN itself): a failed
        # migration leaves the schema as it was, on both backends.
        transactional_ddl=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set config.attributes['connection'] or sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
