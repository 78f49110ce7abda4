"""`ledgerctl lineage --format … --out F`: a lineage graph written as JSON, PROV-JSON, DOT,
SVG or PNG (ledger_service.export), to a file or stdout, with a progress indicator on stderr
while a large export or a picture is being made. The table stays in `cli/lineage.py`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Final

import typer

from ledger_service.cli._common import err_console, fail
from ledger_service.export import PictureError, render, to_dot, to_prov_json
from ledger_service.queries.lineage import LineageGraph, graph_to_json

__all__ = [
    "LINEAGE_FORMATS",
    "PROGRESS_NODES",
    "LineageFormat",
    "OutFile",
    "check_output",
    "emit",
]

LINEAGE_FORMATS: Final = ("table", "json", "prov-json", "dot", "svg", "png")
#: Exports of more nodes than this show a progress indicator (pictures always do).
PROGRESS_NODES: Final = 500
_BINARY: Final = ("png",)

LineageFormat = Annotated[
    str,
    typer.Option("--format", help=f"One of {', '.join(LINEAGE_FORMATS)} (png needs --out)."),
]
OutFile = Annotated[
    Path | None,
    typer.Option("--out", help="Write the export to this file (default: stdout).", dir_okay=False),
]


def check_output(fmt: str, out: Path | None) -> None:
    """Refuse a bad --format / --out combination before any work; exit 2 naming the option."""
    if fmt not in LINEAGE_FORMATS:
        fail(f"--format must be one of {', '.join(LINEAGE_FORMATS)}, got {fmt!r}", code=2)
    if fmt in _BINARY and out is None:
        fail(f"--format {fmt} needs --out FILE (a {fmt} image is binary)", code=2)
    if fmt == "table" and out is not None:
        fail("--out needs a file format (--format json, prov-json, dot, svg or png)", code=2)


def emit(graph: LineageGraph, fmt: str, out: Path | None) -> None:
    """Write ``graph`` in ``fmt`` (any of LINEAGE_FORMATS but ``table``, which
    ``ledgerctl lineage`` prints itself) to ``out`` or stdout; errors exit naming the cause."""
    check_output(fmt, out)
    picture = fmt in ("svg", "png")
    with _progress(graph, fmt, show=picture or len(graph.nodes) > PROGRESS_NODES):
        try:
            data = _export(graph, fmt)
        except PictureError as exc:
            fail(str(exc))
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.write(data)
        return
    try:
        if isinstance(data, bytes):
            out.write_bytes(data)
        else:
            out.write_text(data, encoding="utf-8")
    except OSError as exc:
        fail(f"--out {out}: {exc.strerror or exc}")
    err_console.print(
        f"wrote {out} ({fmt}, {len(graph.nodes)} records, {len(graph.edges)} edges)",
        highlight=False,
    )


def _export(graph: LineageGraph, fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(graph_to_json(graph), ensure_ascii=False, indent=2) + "\n"
    if fmt == "prov-json":
        return to_prov_json(graph) + "\n"
    if fmt == "dot":
        return to_dot(graph)
    return render(graph, fmt)


@contextmanager
def _progress(graph: LineageGraph, fmt: str, *, show: bool) -> Iterator[None]:
    """A spinner on stderr (rich draws it only on a terminal, never into the output)."""
    what = "drawing" if fmt in ("svg", "png") else "writing"
    status = (
        err_console.status(f"{what} {fmt}: {len(graph.nodes)} records, {len(graph.edges)} edges")
        if show
        else nullcontext()
    )
    with status:
        yield
