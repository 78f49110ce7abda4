"""Writing the chain mirror: bulk upserts of one block range + the sync checkpoint, atomically.

A block range is written in ONE database transaction together with the new ``chain_sync``
row, so the mirror and its checkpoint never disagree: after a crash the replay resumes
exactly after the last committed range — no gap, no duplicate.

Rows are upserted (``INSERT .. ON CONFLICT DO UPDATE .. WHERE <something differs>``):
replaying a block again changes nothing, and replaying from block 0 over a mirror that was
edited by hand puts the chain's values back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from ledger_service.chainsync.parse import ChainBatchRow, ChainCheckpointRow, ChainRecordRow
from ledger_service.errors import LedgerError
from ledger_service.index.chain_models import ChainBatch, ChainCheckpoint, ChainRecord, ChainSync

__all__ = [
    "MirrorGapError",
    "SyncState",
    "clear_mirror",
    "read_sync_state",
    "write_range",
]

#: Rows per executemany call (each is one statement execution over many parameter sets).
EXECUTEMANY_CHUNK = 20_000

_batches: Table = ChainBatch.__table__  # type: ignore[assignment]
_records: Table = ChainRecord.__table__  # type: ignore[assignment]
_sync: Table = ChainSync.__table__  # type: ignore[assignment]
_checkpoints: Table = ChainCheckpoint.__table__  # type: ignore[assignment]
_CHECKPOINT_COLUMNS = tuple(ChainCheckpointRow._fields)
_BATCH_COLUMNS = tuple(ChainBatchRow._fields)
_RECORD_COLUMNS = tuple(ChainRecordRow._fields)


class MirrorGapError(LedgerError):
    """Writing this block range would leave a gap in the mirror (or it belongs elsewhere)."""

    code: ClassVar[str] = "mirror_gap"


@dataclass(frozen=True, slots=True)
class SyncState:
    channel: str
    chaincode: str
    first_block: int
    last_block: int
    last_block_hash: bytes
    updated_at: dt.datetime


def read_sync_state(conn: Connection, channel: str, *, lock: bool = False) -> SyncState | None:
    """The mirror's range for ``channel``; ``lock`` takes a row lock (PostgreSQL) until commit."""
    query = select(_sync).where(_sync.c.channel == channel)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    return SyncState(
        channel=row.channel,
        chaincode=row.chaincode,
        first_block=row.first_block,
        last_block=row.last_block,
        last_block_hash=bytes(row.last_block_hash),
        updated_at=row.updated_at,
    )


def _insert_for(conn: Connection) -> Callable[[Table], Insert]:
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert
    if name == "postgresql":
        return postgresql.insert
    raise ValueError(f"unsupported index database backend {name!r}")


def _upsert(conn: Connection, table: Table, key: str) -> Any:
    stmt: Any = _insert_for(conn)(table)
    others = [c.name for c in table.columns if c.name != key]
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={name: stmt.excluded[name] for name in others},
        where=or_(*(table.c[name].is_distinct_from(stmt.excluded[name]) for name in others)),
    )


def _executemany(
    conn: Connection, stmt: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    for i in range(0, len(rows), EXECUTEMANY_CHUNK):
        conn.execute(
            stmt, [dict(zip(columns, r, strict=True)) for r in rows[i : i + EXECUTEMANY_CHUNK]]
        )


_RAW_SQL: dict[tuple[str, str], tuple[str, bool]] = {}


def _executemany_raw(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """The upsert through the DBAPI cursor's ``executemany`` directly (same connection and
    transaction). For columns that need no type processing (str, bytes, int) this skips
    SQLAlchemy's per-row parameter handling, which costs more than SQLite's insert itself.
    """
    cache_key = (conn.dialect.name, table.name)
    cached = _RAW_SQL.get(cache_key)
    if cached is None:
        compiled = _upsert(conn, table, key).compile(dialect=conn.dialect)
        positional = compiled.positiontup is not None
        if positional and list(compiled.positiontup or ()) != list(columns):
            raise AssertionError(f"unexpected parameter order {compiled.positiontup}")
        cached = _RAW_SQL[cache_key] = (compiled.string, positional)
    sql, positional = cached
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for i in range(0, len(rows), EXECUTEMANY_CHUNK):
            chunk = rows[i : i + EXECUTEMANY_CHUNK]
            if positional:
                cursor.executemany(sql, chunk)
            else:
                cursor.executemany(sql, [dict(zip(columns, r, strict=True)) for r in chunk])
    finally:
        cursor.close()


#: SQLite page cache for bulk writes, KiB (the default is 2 MiB; a mirror of millions of
#: records has b-trees far larger, and random-order key inserts then thrash the cache)
SQLITE_BULK_CACHE_KIB = 64 * 1024


@contextmanager
def bulk_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a larger page cache for this connection while bulk writing (restored
    after: the pooled connection is shared with the rest of the service)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def write_range(
    conn: Connection,
    *,
    channel: str,
    chaincode: str,
    first: int,
    last: int,
    last_hash: bytes,
    batches: Sequence[ChainBatchRow],
    records: Sequence[ChainRecordRow],
    now: dt.datetime,
    replay_start: int | None = None,
    checkpoints: Sequence[ChainCheckpointRow] = (),
) -> SyncState:
    """Upsert the rows of blocks ``first..last`` and advance ``chain_sync``, in ``conn``'s
    transaction (the caller commits).

    ``replay_start`` is where the replay writing this range began (default ``first``): a
    replay that started before the mirror's first block lowers ``first_block`` to it only
    once its ranges reach the mirror (until then its rows are written but not claimed).

    Raises:
        MirrorGapError: the mirror ends before ``first - 1`` (a gap), or it mirrors another
            chaincode on this channel.
    """
    state = read_sync_state(conn, channel, lock=True)
    if state is not None:
        if state.chaincode != chaincode:
            raise MirrorGapError(
                f"the mirror of channel {channel!r} holds chaincode {state.chaincode!r}, "
                f"not {chaincode!r}; reset it first"
            )
        if first > state.last_block + 1:
            raise MirrorGapError(
                f"blocks {state.last_block + 1}..{first - 1} were never replayed; replaying "
                f"from block {first} would leave a gap"
            )
    if batches:
        _executemany(conn, _upsert(conn, _batches, "batch_id"), _BATCH_COLUMNS, batches)
    if checkpoints:
        _executemany(conn, _upsert(conn, _checkpoints, "size"), _CHECKPOINT_COLUMNS, checkpoints)
    if records:
        with bulk_cache(conn):
            _executemany_raw(conn, _records, "commitment", _RECORD_COLUMNS, records)
    if state is None:
        new = SyncState(channel, chaincode, first, last, last_hash, now)
        conn.execute(_insert_for(conn)(_sync).values(**_sync_values(new)))
    else:
        ahead = last >= state.last_block
        start = first if replay_start is None else min(replay_start, first)
        joined = last >= state.first_block - 1
        new = SyncState(
            channel,
            chaincode,
            min(state.first_block, start) if joined else state.first_block,
            last if ahead else state.last_block,
            last_hash if ahead else state.last_block_hash,
            now,
        )
        conn.execute(_sync.update().where(_sync.c.channel == channel).values(**_sync_values(new)))
    return new


def _sync_values(state: SyncState) -> dict[str, Any]:
    return {
        "channel": state.channel,
        "chaincode": state.chaincode,
        "first_block": state.first_block,
        "last_block": state.last_block,
        "last_block_hash": state.last_block_hash,
        "updated_at": state.updated_at,
    }


def clear_mirror(conn: Connection, channel: str) -> None:
    """Forget the mirror (all its tables) so the next replay starts from block 0."""
    conn.execute(delete(_checkpoints))
    conn.execute(delete(_records))
    conn.execute(delete(_batches))
    conn.execute(delete(_sync).where(_sync.c.channel == channel))
