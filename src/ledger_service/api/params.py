"""Query parameters shared by the read routes: as-of times, depths, cursors."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from ledger_service.errors import ValidationError
from ledger_service.queries.lineage import MAX_DEPTH, parse_as_of

__all__ = [
    "AsOfQuery",
    "Cursor",
    "DepthQuery",
    "LimitQuery",
    "as_of_time",
    "decode_cursor",
    "decode_time_cursor",
    "encode_cursor",
    "parse_as_of",
]

AsOfQuery = Annotated[
    str | None,
    Query(
        description="The index as it stood at this time (ISO 8601 with a zone), or "
        "'decision' for a loan's decision time; default now.",
        examples=["2026-01-05T09:00:00+08:00", "decision"],
    ),
]
DepthQuery = Annotated[int, Query(ge=0, le=MAX_DEPTH, description="Edges to follow.")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="The `next_cursor` of the previous page.")
]


def encode_cursor(position: list[Any]) -> str:
    """An opaque cursor: the sort key of the last item of a page."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, items: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise ValidationError(None, "cursor", "is not a cursor this API issued") from None
    if not isinstance(position, list) or len(position) != items:
        raise ValidationError(None, "cursor", "is not a cursor this API issued")
    return position


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor of ``encode_cursor([time.isoformat(), id])``: the keyset position after it."""
    position = decode_cursor(cursor, items=2)
    if position is None:
        return None
    try:
        return datetime.fromisoformat(position[0]), str(position[1])
    except (TypeError, ValueError):
        raise ValidationError(None, "cursor", "is not a cursor this API issued") from None


def as_of_time(text: str | None, field: str = "as_of") -> datetime | None:
    """An as-of time parameter where 'decision' has no meaning; ``None``: now."""
    value = parse_as_of(text, field=field, decision=False)
    return value if isinstance(value, datetime) else None
