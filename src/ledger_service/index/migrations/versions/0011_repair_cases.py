"""Credit-repair cases: repair_steps and repair_affected (index/repair_models.py).

Revision 0011 follows 0008 directly: the objection and expiry branches add 0009 and 0010 from
0008 in parallel, and the merge re-chains them. Repairs accepted before this revision are not
back-filled into cases (the tables start empty; docs/regulation.md).

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger_service.index.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)


def upgrade() -> None:
    op.create_table(
        "repair_steps",
        sa.Column("record_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("subject", ID, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("score_change_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.record_id"], name=op.f("fk_repair_steps_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["records.record_id"], name=op.f("fk_repair_steps_case_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["score_change_id"],
            ["records.record_id"],
            name=op.f("fk_repair_steps_score_change_id_records"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_repair_steps")),
    )
    op.create_index(
        op.f("ix_repair_steps_case_id_status_recorded_at"),
        "repair_steps",
        ["case_id", "status", "recorded_at"],
    )
    op.create_index(
        op.f("ix_repair_steps_status_recorded_at"), "repair_steps", ["status", "recorded_at"]
    )
    op.create_index(
        op.f("ix_repair_steps_subject_recorded_at"), "repair_steps", ["subject", "recorded_at"]
    )
    op.create_table(
        "repair_affected",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["records.record_id"], name=op.f("fk_repair_affected_case_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.record_id"],
            name=op.f("fk_repair_affected_record_id_records"),
        ),
        sa.PrimaryKeyConstraint("case_id", "record_id", name=op.f("pk_repair_affected")),
    )
    op.create_index(
        op.f("ix_repair_affected_record_id_case_id"), "repair_affected", ["record_id", "case_id"]
    )


def downgrade() -> None:
    op.drop_table("repair_affected")
    op.drop_table("repair_steps")
