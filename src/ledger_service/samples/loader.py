"""Bulk-load a generated ledger (:mod:`.generator`) into an index database, SQLite or PostgreSQL.

The schema is made by the project's migrations (``alembic upgrade head``), and rows go into
the service's own tables through the intake's row writer (:class:`~ledger_service.index.bulk.
RowWriter`: ``executemany`` on SQLite, ``COPY`` on PostgreSQL), in transactions of
``chunk`` records. To load millions of rows in minutes rather than hours, the access paths
that can be rebuilt are taken away during the load and rebuilt from the migrated schema's own
definitions afterwards — the final schema is the migrated one, statement for statement
(``tests/unit/samples/test_generator.py`` compares them):

* SQLite: every ``CREATE INDEX`` of the loaded tables (its SQL text from ``sqlite_master``);
  primary keys and ``UNIQUE`` table constraints stay (SQLite cannot drop them); foreign-key
  enforcement is off on the loading connection;
* PostgreSQL: every primary key, unique and foreign-key constraint and every index of the
  loaded tables (``pg_get_constraintdef`` / ``pg_indexes.indexdef``), re-added in that order
  — re-adding the foreign keys checks every reference once, in bulk.

Then ``ANALYZE`` (PostgreSQL: ``VACUUM (ANALYZE)``). Anchoring facts: records recorded
before ``anchored_until`` are grouped, in load order, into batches of ``batch_size`` with a
real RFC 6962 root over their commitments, a block number, a transaction id and commit times
(batch state ``committed``, outbox rows ``batched``); later records stay ``pending`` in the
outbox. **None of these
batches is on a chain**: the transaction ids are hashes of the batch id and there is no
envelope — they exist so that lineage queries join and report anchoring facts at scale.

:func:`copy_index` loads a ledger a previous load left in another index (SQLite → PostgreSQL)
through the same steps, without generating and signing it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from credit_ledger_verify.merkle import MerkleTree, commitment_leaf_hash
from sqlalchemy import Connection, Engine, Table, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from ledger_service.errors import LedgerError
from ledger_service.index import make_engine, make_session_factory, upgrade, write_session
from ledger_service.index import models as m
from ledger_service.index.bulk import RowWriter
from ledger_service.index.types import UTCDateTime
from ledger_service.intake.writers import register_writer_key
from ledger_service.samples.generator import MONTHS, START, GeneratedRecord, Writer

__all__ = [
    "LOADED_TABLES",
    "IndexNotEmpty",
    "LoadReport",
    "copy_index",
    "count_rows",
    "load_ledger",
]

#: Tables the loader writes (writer_keys goes through the registry function).
LOADED_TABLES = ("records", "lineage_edges", "anchoring_outbox", "batches", "record_anchors")

_RECORD_COLUMNS = (
    "record_id", "kind", "subject", "occurred_at", "recorded_at", "source", "actor", "content",
    "salt", "commitment", "content_sha256", "supersedes", "disputes", "superseded_by",
    "disputed_by", "erased_at", "loan_id", "loan_event",
)  # fmt: skip
_EDGE_COLUMNS = ("child_id", "parent_id")
_OUTBOX_COLUMNS = ("record_id", "state", "enqueued_at", "batched_at")
_BATCH_COLUMNS = (
    "batch_id", "root", "size", "state", "envelope", "tx_id", "block_number", "validation_code",
    "failure_reason", "submit_attempts", "created_at", "submitted_at", "committed_at",
)  # fmt: skip
_ANCHOR_COLUMNS = ("record_id", "batch_id", "leaf_index")
_FIRST_BLOCK = 10  # blocks before it: the channel's configuration and chaincode setup


class IndexNotEmpty(LedgerError):
    """The loader only fills a fresh index: the target already holds records."""

    code: ClassVar[str] = "index_not_empty"


@dataclass
class LoadReport:
    backend: str
    records: int = 0
    edges: int = 0
    batches: int = 0
    anchored: int = 0
    insert_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.insert_seconds + self.index_seconds + self.analyze_seconds


def _table(name: str) -> Table:
    table: Table = m.Base.metadata.tables[name]
    return table


class _Loader:
    def __init__(
        self,
        connection: Connection,
        *,
        batch_size: int,
        anchored_until: dt.datetime,
        report: LoadReport,
    ) -> None:
        self.connection = connection
        self.writer = RowWriter.for_connection(connection)
        self.when = self.writer.datetime_param
        self.batch_size = batch_size
        self.anchored_until = anchored_until
        self.report = report
        self.records: list[tuple[Any, ...]] = []
        self.edges: list[tuple[str, str]] = []
        self.outbox: list[tuple[Any, ...]] = []
        self.batches: list[tuple[Any, ...]] = []
        self.anchors: list[tuple[Any, ...]] = []
        self.to_anchor: list[GeneratedRecord] = []
        self.outbox_seq = 0  # the last seq handed out (a fresh table counts from 1)

    def add(self, r: GeneratedRecord) -> None:
        when = self.when
        recorded = when(r.recorded_at)
        self.records.append(
            (r.record_id, r.kind, r.subject, when(r.occurred_at), recorded, r.source, r.actor,
             r.content, r.salt, r.commitment, r.content_sha256, r.supersedes, r.disputes,
             r.superseded_by, r.disputed_by, None, r.loan_id, r.loan_event)
        )  # fmt: skip
        for parent in r.parents:
            self.edges.append((r.record_id, parent))
        if r.recorded_at < self.anchored_until:
            self.to_anchor.append(r)
            if len(self.to_anchor) == self.batch_size:
                self.close_batch()
        else:
            self.outbox_seq += 1
            self.outbox.append((r.record_id, "pending", recorded, None))

    def close_batch(self) -> None:
        """One committed batch of the records waiting to be anchored, leaves in load order."""
        members = self.to_anchor
        if not members:
            return
        self.to_anchor = []
        tree = MerkleTree.from_leaf_hashes([commitment_leaf_hash(r.commitment) for r in members])
        batch_id = f"b{self.outbox_seq + 1}-{tree.root.hex()[:12]}"
        created = max(r.recorded_at for r in members) + dt.timedelta(seconds=1)
        when = self.when
        for leaf, r in enumerate(members):
            self.outbox_seq += 1
            self.outbox.append((r.record_id, "batched", when(r.recorded_at), when(created)))
            self.anchors.append((r.record_id, batch_id, leaf))
        block = _FIRST_BLOCK + self.report.batches
        self.batches.append(
            (batch_id, tree.root, len(members), m.BatchState.COMMITTED.value, None,
             hashlib.sha256(f"gen-ledger-tx\x00{batch_id}".encode()).hexdigest(), block, "VALID",
             None, 1, when(created), when(created + dt.timedelta(seconds=1)),
             when(created + dt.timedelta(seconds=3)))
        )  # fmt: skip
        self.report.batches += 1
        self.report.anchored += len(members)

    def flush(self) -> None:
        """Write what is buffered, in one transaction."""
        with self.connection.begin():
            insert = self.writer.insert
            insert(_table("records"), _RECORD_COLUMNS, self.records)
            insert(_table("lineage_edges"), _EDGE_COLUMNS, self.edges)
            insert(_table("batches"), _BATCH_COLUMNS, self.batches)
            insert(_table("record_anchors"), _ANCHOR_COLUMNS, self.anchors)
            insert(_table("anchoring_outbox"), _OUTBOX_COLUMNS, self.outbox)
        self.report.records += len(self.records)
        self.report.edges += len(self.edges)
        self.records, self.edges, self.outbox, self.batches, self.anchors = [], [], [], [], []


def load_ledger(
    url: str,
    records: Iterable[GeneratedRecord],
    writers: Iterable[Writer],
    *,
    chunk: int = 50_000,
    batch_size: int = 4096,
    anchored_until: dt.datetime | None = None,
    progress: Callable[[str], None] = print,
) -> LoadReport:
    """Migrate the database at ``url``, register ``writers`` and load ``records`` (parents
    first). ``anchored_until`` defaults to the start of the generated history's last month.

    Raises:
        IndexNotEmpty: the database already holds records.
    """
    until = anchored_until or START + dt.timedelta(days=30.4375 * (MONTHS - 1))
    keys = [(writer.actor, writer.public_key, START) for writer in writers]

    def fill(connection: Connection, report: LoadReport) -> None:
        loader = _Loader(connection, batch_size=batch_size, anchored_until=until, report=report)
        started = time.perf_counter()
        for record in records:
            loader.add(record)
            if len(loader.records) == chunk:
                loader.flush()
                _progress(progress, report, started)
        loader.close_batch()
        loader.flush()
        _progress(progress, report, started)

    return _load(url, keys, fill, progress)


#: What :func:`copy_index` copies, table by table, in this order; the outbox in ``seq``
#: order without ``seq``, so that a fresh table numbers the rows as the source did.
_COPIED = (
    ("records", _RECORD_COLUMNS),
    ("lineage_edges", _EDGE_COLUMNS),
    ("batches", _BATCH_COLUMNS),
    ("record_anchors", _ANCHOR_COLUMNS),
    ("anchoring_outbox", _OUTBOX_COLUMNS),
)


def copy_index(
    source_url: str,
    url: str,
    *,
    chunk: int = 50_000,
    progress: Callable[[str], None] = print,
) -> LoadReport:
    """Load into the new database at ``url`` the ledger a previous load left in
    ``source_url`` (e.g. the PostgreSQL copy of a generated SQLite ledger, without generating
    and signing it again): writer keys, records, edges, batches, anchors and outbox rows,
    through the same steps as :func:`load_ledger`.

    Raises:
        IndexNotEmpty: the target already holds records.
    """
    source = make_engine(source_url)
    try:
        with source.connect() as connection:
            keys = [
                (row.actor, row.public_key, row.created_at)
                for row in connection.execute(
                    select(m.WriterKey.actor, m.WriterKey.public_key, m.WriterKey.created_at)
                )
            ]

        def fill(connection: Connection, report: LoadReport) -> None:
            started = time.perf_counter()
            for name, columns in _COPIED:
                rows = _copy_table(source, connection, name, columns, chunk, progress)
                if name == "records":
                    report.records = rows
                elif name == "lineage_edges":
                    report.edges = rows
                elif name == "batches":
                    report.batches = rows
                elif name == "record_anchors":
                    report.anchored = rows
                elapsed = time.perf_counter() - started
                progress(f"  {name}: {rows:,} rows  {elapsed:8.1f} s")

        return _load(url, keys, fill, progress)
    finally:
        source.dispose()


def _copy_table(
    source: Engine,
    connection: Connection,
    name: str,
    columns: Sequence[str],
    chunk: int,
    progress: Callable[[str], None],
) -> int:
    table = _table(name)
    query = select(*(table.c[column] for column in columns))
    if name == "anchoring_outbox":
        query = query.order_by(table.c.seq)
    elif source.dialect.name == "sqlite" and name == "records":
        query = query.order_by(literal_column("rowid"))  # the order of the first load
    writer = RowWriter.for_connection(connection)
    times = [i for i, column in enumerate(columns) if isinstance(table.c[column].type, UTCDateTime)]
    when = writer.datetime_param
    copied = 0
    with source.connect() as reader:
        result = reader.execution_options(stream_results=True, yield_per=chunk).execute(query)
        for part in result.partitions(chunk):
            rows = []
            for row in part:
                values = list(row)
                for i in times:
                    if values[i] is not None:
                        values[i] = when(values[i])
                rows.append(tuple(values))
            with connection.begin():
                writer.insert(table, columns, rows)
            copied += len(rows)
            if copied % 1_000_000 < len(rows):
                progress(f"  {name}: {copied:,} rows")
    return copied


def _load(
    url: str,
    writer_keys: list[tuple[str, bytes, dt.datetime]],
    fill: Callable[[Connection, LoadReport], None],
    progress: Callable[[str], None],
) -> LoadReport:
    """Migrate, check the index is new, register the writer keys, take the rebuildable
    access paths away, ``fill``, rebuild them, ANALYZE."""
    engine = make_engine(url, sqlite_synchronous="OFF")
    try:
        upgrade(engine)
        session_factory = make_session_factory(engine)
        with write_session(session_factory) as session:
            if session.scalar(select(m.Record.record_id).limit(1)) is not None:
                raise IndexNotEmpty(
                    "the index already holds records: the loader fills a new database only"
                )
            for actor, public_key, created_at in writer_keys:
                register_writer_key(session, actor, public_key, now=created_at)
        report = LoadReport(engine.dialect.name)
        with engine.connect() as connection:
            _prepare_for_load(connection)
            with connection.begin():
                deferred = _take_away_access_paths(connection)
            started = time.perf_counter()
            fill(connection, report)
            report.insert_seconds = time.perf_counter() - started
            started = time.perf_counter()
            for statement in deferred:
                step = time.perf_counter()
                with connection.begin():
                    connection.exec_driver_sql(statement)
                progress(f"  {time.perf_counter() - step:7.1f} s  {statement}")
            report.index_seconds = time.perf_counter() - started
            started = time.perf_counter()
            _analyze(connection)
            report.analyze_seconds = time.perf_counter() - started
        progress(
            f"loaded {report.records:,} records, {report.edges:,} edges, {report.batches:,} "
            f"batches ({report.anchored:,} records anchored) in {report.total_seconds:.1f} s: "
            f"insert {report.insert_seconds:.1f} s, indexes and constraints "
            f"{report.index_seconds:.1f} s, ANALYZE {report.analyze_seconds:.1f} s"
        )
        return report
    finally:
        engine.dispose()


def _progress(progress: Callable[[str], None], report: LoadReport, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = report.records / elapsed if elapsed else 0.0
    progress(f"  {report.records:>12,} records  {elapsed:8.1f} s  {rate:9,.0f} records/s")


def _prepare_for_load(connection: Connection) -> None:
    """Settings of the loading connection only (the service's connections keep theirs)."""
    if connection.dialect.name == "sqlite":
        # On the driver connection, outside any transaction: SQLite ignores foreign_keys
        # inside one, and SQLAlchemy's begin hook would open one.
        raw: Any = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA cache_size = -3000000")  # 3 GB of page cache
        raw.execute("PRAGMA temp_store = MEMORY")
        return
    with connection.begin():
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.exec_driver_sql("SET maintenance_work_mem = '1GB'")


def _take_away_access_paths(connection: Connection) -> list[str]:
    """Drop what can be rebuilt after the load; return the statements that rebuild it, in
    order, taken from the migrated schema itself."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN :tables ORDER BY name"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(LOADED_TABLES)},
        ).all()
        for name, _sql in rows:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        return [sql for _name, sql in rows]
    tables = list(LOADED_TABLES)
    constraints = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype, "
            "pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
            "WHERE (c.contype IN ('p', 'u', 'f') AND c.conrelid::regclass::text = ANY(:tables)) "
            # foreign keys of other tables into the loaded ones (access_anchors -> batches)
            "OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY(:tables)) "
            "ORDER BY c.conname"
        ),
        {"tables": tables},
    ).all()
    owned = {row.conname for row in constraints}
    indexes = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(:tables) ORDER BY indexname"
        ),
        {"tables": tables},
    ).all()
    plain = [row for row in indexes if row.indexname not in owned]
    drop = 'ALTER TABLE "{0.tbl}" DROP CONSTRAINT "{0.conname}"'
    # foreign keys first: they depend on the keys
    for row in sorted(constraints, key=lambda row: row.contype != "f"):
        connection.exec_driver_sql(drop.format(row))
    for row in plain:
        connection.exec_driver_sql(f'DROP INDEX "{row.indexname}"')
    add = 'ALTER TABLE "{0.tbl}" ADD CONSTRAINT "{0.conname}" {0.definition}'
    return (
        [add.format(row) for row in constraints if row.contype != "f"]
        + [row.indexdef for row in plain]
        + [add.format(row) for row in constraints if row.contype == "f"]
    )


def _analyze(connection: Connection) -> None:
    """Planner statistics; on PostgreSQL also the visibility map (``VACUUM``), which
    autovacuum would otherwise build in the background while the benchmark runs."""
    raw: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        with connection.begin():
            connection.exec_driver_sql("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    raw.autocommit = True  # VACUUM cannot run inside a transaction
    try:
        raw.execute("VACUUM (ANALYZE)")
    finally:
        raw.autocommit = False


def count_rows(session: Session) -> dict[str, int]:
    """Rows per loaded table (for reports and tests)."""
    return {
        name: int(session.scalar(select(func.count()).select_from(_table(name))) or 0)
        for name in LOADED_TABLES
    }
