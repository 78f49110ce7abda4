"""Access-log entries are committed and anchored like records.

``access_log`` gets ``salt`` and ``commitment`` (SHA-256(salt ‖ the entry's canonical JSON,
``credit_ledger_verify.access_entry``)); the anchoring outbox holds a record *or* an access
entry per row (``access_entry_id``); ``access_anchors`` says where an entry sits on chain.
Entries written before this migration get a salt and commitment here and a pending outbox
row each (in id order), so the worker anchors them with the next batches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from credit_ledger_verify.access_entry import AccessEntry
from credit_ledger_verify.commitments import commitment, new_salt

from ledger_service.index.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DIGEST = sa.LargeBinary(length=32)
_PENDING_INDEX = "ix_anchoring_outbox_pending_seq"


def _access_log() -> sa.Table:
    return sa.Table(
        "access_log",
        sa.MetaData(),
        sa.Column("id", BIG_KEY, primary_key=True),
        sa.Column("accessed_at", UTCDateTime()),
        sa.Column("accessor", sa.String(256)),
        sa.Column("subject", ID),
        sa.Column("record_id", ID),
        sa.Column("query", sa.String(64)),
        sa.Column("purpose", sa.String(256)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("salt", DIGEST),
        sa.Column("commitment", DIGEST),
    )


def _commit_existing_entries() -> list[tuple[int, object]]:
    """Salt and commit every entry written before this migration; ``(id, accessed_at)`` of
    each, in id order (they are queued once the outbox can hold them)."""
    log = _access_log()
    conn = op.get_bind()
    rows = conn.execute(sa.select(log).order_by(log.c.id)).all()
    for row in rows:
        entry = AccessEntry(
            entry_id=row.id,
            accessed_at=row.accessed_at,
            accessor=row.accessor,
            query=row.query,
            purpose=row.purpose,
            subject=row.subject,
            record_id=row.record_id,
            request_id=row.request_id,
        )
        salt = new_salt()
        conn.execute(
            log.update()
            .where(log.c.id == row.id)
            .values(salt=salt, commitment=commitment(salt, entry.canonical_bytes()))
        )
    return [(row.id, row.accessed_at) for row in rows]


def _queue(entries: list[tuple[int, object]]) -> None:
    outbox = sa.table(
        "anchoring_outbox",
        sa.column("access_entry_id", BIG_KEY),
        sa.column("state", sa.String(16)),
        sa.column("enqueued_at", UTCDateTime()),
    )
    for entry_id, accessed_at in entries:
        op.get_bind().execute(
            outbox.insert().values(
                access_entry_id=entry_id, state="pending", enqueued_at=accessed_at
            )
        )


def upgrade() -> None:
    # access_log first and completely: SQLite's batch mode recreates the table, which it
    # cannot do once outbox rows refer to it
    with op.batch_alter_table("access_log", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("salt", DIGEST, nullable=True))
        batch.add_column(sa.Column("commitment", DIGEST, nullable=True))
    existing = _commit_existing_entries()
    with op.batch_alter_table("access_log", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("salt", existing_type=DIGEST, nullable=False)
        batch.alter_column("commitment", existing_type=DIGEST, nullable=False)
        batch.create_check_constraint(
            op.f("ck_access_log_commitment_is_sha256"), "length(commitment) = 32"
        )
        batch.create_check_constraint(op.f("ck_access_log_salt_is_32_bytes"), "length(salt) = 32")
        batch.create_index(op.f("ix_access_log_commitment"), ["commitment"])
    # the pending index is partial: batch mode would not carry its WHERE over on SQLite
    op.drop_index(_PENDING_INDEX, table_name="anchoring_outbox")
    with op.batch_alter_table(
        "anchoring_outbox", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("record_id", existing_type=ID, nullable=True)
        batch.add_column(sa.Column("access_entry_id", BIG_KEY, nullable=True))
        batch.create_foreign_key(
            op.f("fk_anchoring_outbox_access_entry_id_access_log"),
            "access_log",
            ["access_entry_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            op.f("uq_anchoring_outbox_access_entry_id"), ["access_entry_id"]
        )
        batch.create_check_constraint(
            op.f("ck_anchoring_outbox_one_leaf_per_row"),
            "(record_id IS NULL) <> (access_entry_id IS NULL)",
        )
    op.create_index(
        _PENDING_INDEX,
        "anchoring_outbox",
        ["seq"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    _queue(existing)
    op.create_table(
        "access_anchors",
        sa.Column("entry_id", BIG_KEY, autoincrement=False, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "leaf_index >= 0", name=op.f("ck_access_anchors_leaf_index_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_access_anchors_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["access_log.id"], name=op.f("fk_access_anchors_entry_id_access_log")
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_access_anchors")),
        sa.UniqueConstraint(
            "batch_id", "leaf_index", name=op.f("uq_access_anchors_batch_id_leaf_index")
        ),
    )


def downgrade() -> None:
    op.drop_table("access_anchors")
    op.drop_index(_PENDING_INDEX, table_name="anchoring_outbox")
    op.execute(sa.text("DELETE FROM anchoring_outbox WHERE access_entry_id IS NOT NULL"))
    with op.batch_alter_table(
        "anchoring_outbox", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_constraint(op.f("ck_anchoring_outbox_one_leaf_per_row"), type_="check")
        batch.drop_constraint(op.f("uq_anchoring_outbox_access_entry_id"), type_="unique")
        batch.drop_constraint(
            op.f("fk_anchoring_outbox_access_entry_id_access_log"), type_="foreignkey"
        )
        batch.drop_column("access_entry_id")
        batch.alter_column("record_id", existing_type=ID, nullable=False)
    op.create_index(
        _PENDING_INDEX,
        "anchoring_outbox",
        ["seq"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    with op.batch_alter_table("access_log", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index(op.f("ix_access_log_commitment"))
        batch.drop_constraint(op.f("ck_access_log_salt_is_32_bytes"), type_="check")
        batch.drop_constraint(op.f("ck_access_log_commitment_is_sha256"), type_="check")
        batch.drop_column("commitment")
        batch.drop_column("salt")
