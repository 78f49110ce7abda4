"""Initial index schema: records, lineage, writers, anchoring outbox, batches, access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)
LABEL = sa.String(length=256)
# 64-bit autoincrementing key; SQLite only autoincrements INTEGER PRIMARY KEY (64-bit there).
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Stored as timestamptz on PostgreSQL, as naive-UTC ISO text on SQLite (see index.types).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "writer_keys",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("actor", LABEL, nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "length(public_key) = 32", name=op.f("ck_writer_keys_public_key_is_ed25519")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writer_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_writer_keys_public_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_writer_keys_actor"), "writer_keys", ["actor"])

    op.create_table(
        "records",
        sa.Column("record_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", ID, nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("source", LABEL, nullable=False),
        sa.Column("actor", LABEL, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("salt", sa.LargeBinary(), nullable=True),
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content_sha256", sa.LargeBinary(length=32), nullable=True),
        sa.Column("supersedes", ID, nullable=True),
        sa.Column("disputes", ID, nullable=True),
        sa.Column("superseded_by", ID, nullable=True),
        sa.Column("disputed_by", ID, nullable=True),
        sa.Column("erased_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("length(commitment) = 32", name=op.f("ck_records_commitment_is_sha256")),
        sa.CheckConstraint(
            "(content IS NULL) = (salt IS NULL) AND (content IS NULL) = (content_sha256 IS NULL)",
            name=op.f("ck_records_content_salt_digest_shredded_together"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["records.record_id"], name=op.f("fk_records_supersedes_records")
        ),
        sa.ForeignKeyConstraint(
            ["disputes"], ["records.record_id"], name=op.f("fk_records_disputes_records")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["records.record_id"], name=op.f("fk_records_superseded_by_records")
        ),
        sa.ForeignKeyConstraint(
            ["disputed_by"], ["records.record_id"], name=op.f("fk_records_disputed_by_records")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_records")),
    )
    op.create_index("uq_records_supersedes", "records", ["supersedes"], unique=True)
    op.create_index(op.f("ix_records_disputes"), "records", ["disputes"])
    op.create_index(op.f("ix_records_subject_occurred_at"), "records", ["subject", "occurred_at"])
    op.create_index(op.f("ix_records_kind_occurred_at"), "records", ["kind", "occurred_at"])

    op.create_table(
        "lineage_edges",
        sa.Column("child_id", ID, nullable=False),
        sa.Column("parent_id", ID, nullable=False),
        sa.CheckConstraint("child_id <> parent_id", name=op.f("ck_lineage_edges_no_self_loop")),
        sa.ForeignKeyConstraint(
            ["child_id"], ["records.record_id"], name=op.f("fk_lineage_edges_child_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["records.record_id"], name=op.f("fk_lineage_edges_parent_id_records")
        ),
        sa.PrimaryKeyConstraint("child_id", "parent_id", name=op.f("pk_lineage_edges")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_lineage_edges_parent_id_child_id"), "lineage_edges", ["parent_id", "child_id"]
    )

    op.create_table(
        "batches",
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=True),
        sa.Column("tx_id", ID, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("validation_code", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("submit_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
        sa.Column("committed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'submitted', 'committed', 'failed')",
            name=op.f("ck_batches_state_is_known"),
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_batches_size_is_positive")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
        sa.UniqueConstraint("tx_id", name=op.f("uq_batches_tx_id")),
    )
    op.create_index(op.f("ix_batches_block_number"), "batches", ["block_number"])
    op.create_index(op.f("ix_batches_state_created_at"), "batches", ["state", "created_at"])

    op.create_table(
        "record_anchors",
        sa.Column("record_id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "leaf_index >= 0", name=op.f("ck_record_anchors_leaf_index_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_record_anchors_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.record_id"], name=op.f("fk_record_anchors_record_id_records")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_record_anchors")),
        sa.UniqueConstraint(
            "batch_id", "leaf_index", name=op.f("uq_record_anchors_batch_id_leaf_index")
        ),
    )

    op.create_table(
        "anchoring_outbox",
        sa.Column("seq", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("enqueued_at", TIMESTAMP, nullable=False),
        sa.Column("batched_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'batched')", name=op.f("ck_anchoring_outbox_state_is_known")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.record_id"], name=op.f("fk_anchoring_outbox_record_id_records")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_anchoring_outbox")),
        sa.UniqueConstraint("record_id", name=op.f("uq_anchoring_outbox_record_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_anchoring_outbox_pending_seq",
        "anchoring_outbox",
        ["seq"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )

    op.create_table(
        "access_log",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("accessed_at", TIMESTAMP, nullable=False),
        sa.Column("accessor", LABEL, nullable=False),
        sa.Column("subject", ID, nullable=True),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("query", sa.String(length=64), nullable=False),
        sa.Column("purpose", LABEL, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_access_log_subject_accessed_at"), "access_log", ["subject", "accessed_at"]
    )
    op.create_index(
        op.f("ix_access_log_accessor_accessed_at"), "access_log", ["accessor", "accessed_at"]
    )


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("anchoring_outbox")
    op.drop_table("record_anchors")
    op.drop_table("batches")
    op.drop_table("lineage_edges")
    op.drop_table("records")
    op.drop_table("writer_keys")
