"""Chain mirror: chain_batches, chain_records, chain_sync (see index/chain_models.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)
LABEL = sa.String(length=256)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chain_batches",
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("tx_id", ID, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("creator_msp", LABEL, nullable=False),
        sa.Column("tx_timestamp", TIMESTAMP, nullable=False),
        sa.CheckConstraint("length(root) = 32", name=op.f("ck_chain_batches_root_is_sha256")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_chain_batches")),
    )
    op.create_index(op.f("ix_chain_batches_block_number"), "chain_batches", ["block_number"])

    op.create_table(
        "chain_records",
        sa.Column("record_id", ID, nullable=False),
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_chain_records")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_chain_records_batch_id_leaf_index"), "chain_records", ["batch_id", "leaf_index"]
    )

    op.create_table(
        "chain_sync",
        sa.Column("channel", LABEL, nullable=False),
        sa.Column("chaincode", LABEL, nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("first_block <= last_block", name=op.f("ck_chain_sync_range_not_empty")),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_chain_sync")),
    )


def downgrade() -> None:
    op.drop_table("chain_sync")
    op.drop_index(op.f("ix_chain_records_batch_id_leaf_index"), table_name="chain_records")
    op.drop_table("chain_records")
    op.drop_index(op.f("ix_chain_batches_block_number"), table_name="chain_batches")
    op.drop_table("chain_batches")
