"""Loans in the index: ``records.loan_id`` and ``records.loan_event``.

A loan is the set of ``financing_event`` records sharing ``payload.loan_id``; until now that
id lived only inside the record's content, so "the lineage of loan X" and "as of the loan's
decision" needed a scan. Intake now fills both columns for financing events (NULL for every
other kind), and ``(loan_id, recorded_at)`` is indexed. Like ``subject``, they stay when a
record's content is shredded, so a loan's lineage and decision time survive an erasure.

Existing financing events are filled from their content; a shredded one keeps NULL (its
loan id is gone with the content).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL_CHUNK = 1000


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("loan_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("loan_event", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_records_loan_id_recorded_at"), "records", ["loan_id", "recorded_at"])
    _fill_existing()


def _fill_existing() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT record_id, content FROM records "
            "WHERE kind = 'financing_event' AND content IS NOT NULL"
        )
    ).fetchall()
    update = sa.text(
        "UPDATE records SET loan_id = :loan_id, loan_event = :loan_event "
        "WHERE record_id = :record_id"
    )
    for start in range(0, len(rows), _FILL_CHUNK):
        params = []
        for record_id, content in rows[start : start + _FILL_CHUNK]:
            payload = json.loads(bytes(content))["payload"]
            loan = {"loan_id": payload["loan_id"], "loan_event": payload["event"]}
            params.append({"record_id": record_id, **loan})
        conn.execute(update, params)


def downgrade() -> None:
    op.drop_index(op.f("ix_records_loan_id_recorded_at"), table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("loan_event")
        batch.drop_column("loan_id")
