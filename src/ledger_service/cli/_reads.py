"""Reads of enterprise data from the CLI: a declared purpose, an access-log entry per
enterprise read, and one error policy (bad queries exit 2, an unreachable index exits 1)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger_service.cli._common import fail
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import ValidationError
from ledger_service.queries.lineage import DECISION, AsOf, LineageQueryError
from ledger_service.queries.lineage import parse_as_of as lineage_as_of
from ledger_service.queries.objections import UnknownObjectionCase
from ledger_service.queries.visibility import Audience, RepairView

T = TypeVar("T")

#: What the CLI shows of repaired negative records: it runs on the index host, an operator's
#: and regulator's tool, so everything, with each node's repair case (docs/regulation.md).
CLI_VIEW = RepairView(Audience.FULL)

Purpose = Annotated[
    str,
    typer.Option(
        "--purpose",
        help="Why you read this enterprise data (logged with every answer), e.g. "
        "'loan audit 2026-Q4 ref 17'.",
    ),
]
Accessor = Annotated[
    str | None,
    typer.Option(
        "--accessor",
        envvar="LEDGER_ACCESSOR",
        help="Who is reading, for the access log (default: cli:<login name>).",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The index as it stood at this time (ISO 8601 with a zone, e.g. "
        "2026-01-05T09:00:00+08:00), or 'decision' for a loan's decision time; default: now.",
    ),
]
Format = Annotated[str, typer.Option("--format", help="table or json")]


def parse_as_of(text: str | None, *, decision_allowed: bool = False) -> AsOf:
    """``--as-of``: None (now), an aware time, or ``"decision"`` where a loan allows it."""
    if text == DECISION and not decision_allowed:
        fail("--as-of decision needs a loan (ledgerctl lineage LOAN --as-of decision)", code=2)
    try:
        return lineage_as_of(text)
    except ValidationError as exc:
        fail(f"--as-of {exc.message}", code=2)


def as_time(value: AsOf) -> datetime | None:
    return value if isinstance(value, datetime) else None


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json")) -> None:
    if fmt not in allowed:
        fail(f"--format must be one of {', '.join(allowed)}; got {fmt!r}", code=2)


def read_index(
    state_dir: Path,
    db_url: str | None,
    query: Callable[[Session], T],
    *,
    what: str,
    purpose: str,
    accessor: str | None,
    read: Callable[[T], Iterable[tuple[str | None, str | None]]],
) -> T:
    """Run one read; log ``(subject, record_id)`` of what it returned under ``what`` and the
    declared purpose before anything is shown (an answer that cannot be logged is not shown)."""
    who = accessor or f"cli:{getpass.getuser()}"
    try:
        config = ServiceConfig.from_env(state_dir, db_url)
        with LedgerContext(config) as context:
            with context.session_factory() as session:
                answer = query(session)
            context.access_log.log_answer(
                accessor=who, query=what, purpose=purpose, read=read(answer)
            )
            return answer
    except (LineageQueryError, UnknownObjectionCase) as exc:
        fail(str(exc), code=2)
    except ValidationError as exc:
        fail(str(exc).removeprefix("record: "), code=2)
    except SQLAlchemyError as exc:
        fail(f"index database: {exc}")


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
