"""Where the service finds its network and its index; one place for the defaults.

:class:`ledger_service.context.LedgerContext` turns a configuration into an engine, sessions
and services."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger_service.index import sqlite_url
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.regulation.deadlines import DEFAULT_OBJECTION_DAYS, parse_objection_days


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    state_dir: Path
    #: SQLAlchemy URL of the index; default: SQLite file in the state directory
    db_url: str
    #: the org whose client identity writes to the channel
    writer_msp: str = "PlatformMSP"
    #: days to answer an objection (Art. 25), fixed on each case when it is recorded
    objection_days: int = DEFAULT_OBJECTION_DAYS

    @classmethod
    def from_env(cls, state_dir: Path | None = None, db_url: str | None = None) -> ServiceConfig:
        state = state_dir or default_state_dir()
        return cls(
            state_dir=state,
            db_url=db_url or os.environ.get("LEDGER_DB_URL") or sqlite_url(state),
            writer_msp=os.environ.get("LEDGER_WRITER_MSP", "PlatformMSP"),
            objection_days=parse_objection_days(os.environ.get("LEDGER_OBJECTION_DAYS")),
        )

    def topology(self) -> Topology:
        return Topology.load(self.state_dir)
