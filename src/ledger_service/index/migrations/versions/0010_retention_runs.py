"""Erasure records and retention runs: records.erased_by (indexed), retention_runs.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger_service.index.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("erased_by", sa.String(length=128), nullable=True))
        batch.create_foreign_key(
            op.f("fk_records_erased_by_records"), "records", ["erased_by"], ["record_id"]
        )
        batch.create_index(op.f("ix_records_erased_by"), ["erased_by"], unique=False)
    op.create_table(
        "retention_runs",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("started_by", sa.String(length=256), nullable=False),
        sa.Column("expired", sa.Integer(), nullable=False),
        sa.Column("erased", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("not_ended", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "erased <= expired", name=op.f("ck_retention_runs_erased_at_most_expired")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_retention_runs")),
    )
    op.create_index(
        op.f("ix_retention_runs_started_at"), "retention_runs", ["started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_retention_runs_started_at"), table_name="retention_runs")
    op.drop_table("retention_runs")
    with op.batch_alter_table("records") as batch:
        batch.drop_index(op.f("ix_records_erased_by"))
        batch.drop_constraint(op.f("fk_records_erased_by_records"), type_="foreignkey")
        batch.drop_column("erased_by")
