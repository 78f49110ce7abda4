"""Exports of a lineage graph (docs/lineage.md "PROV-JSON" and "Pictures"): W3C PROV-JSON
built with the ``prov`` package and read back from it, Graphviz DOT source and the SVG/PNG
that ``dot`` renders from it. Pure functions of a
:class:`~ledger_service.queries.lineage.LineageGraph`: no database, no network."""

from ledger_service.export.picture import (
    PICTURE_FORMATS,
    GraphvizMissing,
    PictureError,
    render,
    to_dot,
)
from ledger_service.export.prov import (
    ProvReadError,
    graph_from_prov,
    read_prov_json,
    to_prov,
    to_prov_json,
)

__all__ = [
    "PICTURE_FORMATS",
    "GraphvizMissing",
    "PictureError",
    "ProvReadError",
    "graph_from_prov",
    "read_prov_json",
    "render",
    "to_dot",
    "to_prov",
    "to_prov_json",
]
