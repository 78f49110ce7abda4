"""The off-chain index: schema, engines/sessions and migrations.

The index is derived data: it can be rebuilt from the channel's blocks (plus the off-chain
content), and reconciling it against the chain detects tampering.
"""

from ledger_service.index import (  # noqa: F401  (their tables)
    api_models,
    chain_models,
    log_models,
    repair_models,
    retention_models,
)
from ledger_service.index.migrate import current_revision, head_revision, upgrade
from ledger_service.index.session import (
    make_engine,
    make_session_factory,
    sqlite_url,
    write_session,
)

__all__ = [
    "current_revision",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "sqlite_url",
    "upgrade",
    "write_session",
]
