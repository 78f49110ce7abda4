"""Shared CLI plumbing: state directory option, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from ledger_service.ops.topology import default_state_dir

# Wide enough for the status table when stdout is not a terminal (CI logs, pipes).
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="LEDGER_STATE_DIR",
        help="Where crypto material, ledgers, logs and pid files live.",
        default_factory=default_state_dir,
        show_default=".state/ in the repository",
    ),
]

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="LEDGER_DB_URL",
        help="Index database URL (default: SQLite file in the state directory).",
    ),
]

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run_or_fail(fn: Callable[[], T], *errors: type[BaseException]) -> T:
    """Run `fn`; turn the expected operational errors into a clean message and exit 1."""
    expected: tuple[type[BaseException], ...] = (*errors, FileNotFoundError)
    try:
        return fn()
    except expected as exc:
        fail(str(exc))
