"""Global transparency log: global_log_state and log_checkpoints (index/log_models.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger_service.index.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LABEL = sa.String(length=256)


def upgrade() -> None:
    op.create_table(
        "global_log_state",
        sa.Column("origin", LABEL, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("right_edge", sa.LargeBinary(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=True),
        sa.Column("last_tx_index", sa.Integer(), nullable=True),
        sa.Column("last_leaf_index", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_global_log_state_size_not_negative")),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_global_log_state")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("origin", LABEL, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("length(root) = 32", name=op.f("ck_log_checkpoints_root_is_sha256")),
        sa.PrimaryKeyConstraint("origin", "size", name=op.f("pk_log_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("log_checkpoints")
    op.drop_table("global_log_state")
