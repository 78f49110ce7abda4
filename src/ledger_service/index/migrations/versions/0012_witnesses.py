"""Witnesses: their registered cosigner keys and the cosignatures they submitted
(index/log_models.py), and the API's ``witness`` role (index/api_models.py).

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger_service.index.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LABEL = sa.String(length=256)
ROLES_BEFORE = "role IN ('writer', 'verifier', 'auditor', 'admin')"
ROLES_AFTER = "role IN ('writer', 'verifier', 'auditor', 'admin', 'witness')"


def upgrade() -> None:
    op.create_table(
        "witness_keys",
        sa.Column("name", LABEL, nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("verifier_key", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", "key_id", name=op.f("pk_witness_keys")),
    )
    op.create_table(
        "log_cosignatures",
        sa.Column("origin", LABEL, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", LABEL, nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.String(length=512), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "origin", "size", "witness", "key_id", name=op.f("pk_log_cosignatures")
        ),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("ck_api_keys_role_is_known"), type_="check")
        batch.create_check_constraint(op.f("ck_api_keys_role_is_known"), ROLES_AFTER)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("ck_api_keys_role_is_known"), type_="check")
        batch.create_check_constraint(op.f("ck_api_keys_role_is_known"), ROLES_BEFORE)
    op.drop_table("log_cosignatures")
    op.drop_table("witness_keys")
