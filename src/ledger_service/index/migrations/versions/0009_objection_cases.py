"""Objection cases in the index: ``records.case_id``, ``case_step``, ``case_deadline``.

An ``objection`` record is one step of a case (征信业管理条例 Art. 25). Intake fills, for
objection records only (NULL for every other kind): ``case_id`` — the case's opening record
(the opening record's own id on the opening step), ``case_step`` — ``opened`` / ``corrected``
/ ``upheld`` / ``rejected``, and on the opening step ``case_deadline`` — the last day (China
time) of the answer period, fixed when the objection is recorded. "Is this record disputed
as of T" and "which cases are open / overdue" then need no content, and like ``subject`` the
columns stay when a record's content is shredded.

No existing record is an objection (the kind is new), so nothing is filled. The index cannot
be rebuilt from the chain (the chain holds commitments only), so no rebuild path changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("case_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("case_step", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("case_deadline", sa.Date(), nullable=True))
    op.create_index(op.f("ix_records_case_id_recorded_at"), "records", ["case_id", "recorded_at"])
    op.create_index(
        op.f("ix_records_case_step_case_deadline"), "records", ["case_step", "case_deadline"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_case_step_case_deadline"), table_name="records")
    op.drop_index(op.f("ix_records_case_id_recorded_at"), table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("case_deadline")
        batch.drop_column("case_step")
        batch.drop_column("case_id")
