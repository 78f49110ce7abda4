"""`ledgerctl erase RECORD --reason TEXT` (PIPL Art. 47, refused while a retention duty
holds) and `ledgerctl erasures list` (each erasure with its rule and its erasure record's
anchoring), docs/regulation.md."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from ledger_service.cli._common import DbUrl, StateDir, console, fail
from ledger_service.cli._reads import Accessor, Format, check_format, print_json, read_index
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.errors import LedgerError, RecordErased, UnknownRecord, ValidationError
from ledger_service.retention.erasure import ErasureRefused
from ledger_service.retention.listings import erasure_to_json, erasures

erasures_app = typer.Typer(help="Erasures: each backed by an anchored erasure record.")

#: Logged with the listing's access-log entries unless --purpose says otherwise.
LIST_PURPOSE = "retention: report of erasures"
#: Logged with the erasure's access-log entry unless --purpose says otherwise.
ERASE_PURPOSE = "erasure on request (PIPL Art. 47)"


def erase(
    record_id: Annotated[str, typer.Argument(help="The record to erase.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the subject asked (goes into the record).")
    ],
    state_dir: StateDir,
    db_url: DbUrl = None,
    fmt: Format = "table",
    purpose: Annotated[str, typer.Option("--purpose", help="Logged with the read.")] = (
        ERASE_PURPOSE
    ),
    accessor: Accessor = None,
) -> None:
    """Erase a record's content and salt on the subject's request, with an anchored erasure
    record; refused (exit 3, naming the duty) while a retention duty keeps the record."""
    check_format(fmt)
    who = accessor or f"cli:{getpass.getuser()}"
    try:
        with LedgerContext(ServiceConfig.from_env(state_dir, db_url)) as context:
            try:
                done = context.erasures.erase_on_request(record_id, reason)
            except ErasureRefused as exc:
                if fmt == "json":
                    print_json(
                        {
                            "record_id": record_id,
                            "erased": False,
                            "refused": [h.as_dict() for h in exc.held],
                        }
                    )
                fail(str(exc), code=3)
            stored = context.records.get_record(record_id)
            subject = None if stored is None else stored.subject
            context.access_log.log_answer(
                accessor=who, query="erasure", purpose=purpose, read=[(subject, record_id)]
            )
    except (UnknownRecord, RecordErased, ValidationError) as exc:
        fail(str(exc).removeprefix("record: "), code=2)
    except (LedgerError, SQLAlchemyError) as exc:
        fail(str(exc))
    if fmt == "json":
        print_json(
            {
                "record_id": done.record_id,
                "erased": True,
                "basis": done.basis.value,
                "rule": done.rule,
                "erasure_record": done.erasure_record_id,
                "commitment": done.commitment,
            }
        )
        return
    console.print(
        f"erased {done.record_id}: content and salt deleted; erasure record "
        f"{done.erasure_record_id} (rule {done.rule}) written, to be anchored",
        highlight=False,
    )


@erasures_app.command("list")
def list_erasures(
    state_dir: StateDir,
    db_url: DbUrl = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this enterprise's erasures.")
    ] = None,
    fmt: Format = "table",
    purpose: Annotated[str, typer.Option("--purpose", help="Logged per subject.")] = (LIST_PURPOSE),
    accessor: Accessor = None,
) -> None:
    """Every erasure: record, rule/basis, date, and the erasure record's batch/tx/block."""
    check_format(fmt)
    lines = read_index(
        state_dir,
        db_url,
        lambda session: erasures(session, subject=subject),
        what="erasures",
        purpose=purpose,
        accessor=accessor,
        read=lambda found: [(e.subject, e.record_id) for e in found],
    )
    if fmt == "json":
        print_json([erasure_to_json(e) for e in lines])
        return
    table = Table(title="erasures")
    for name in ("record", "basis", "rule", "erased", "erasure record", "batch", "tx", "block"):
        table.add_column(name, overflow="fold")
    for e in lines:
        a = e.anchor
        table.add_row(
            e.record_id,
            e.basis,
            e.rule,
            e.erased_at.date().isoformat(),
            e.erasure_record_id,
            "(pending)" if a is None else a.batch_id,
            "—" if a is None or a.tx_id is None else a.tx_id[:16],
            "—" if a is None or a.block_number is None else str(a.block_number),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.add_typer(erasures_app, name="erasures")


__all__ = ["erasures_app", "register"]
