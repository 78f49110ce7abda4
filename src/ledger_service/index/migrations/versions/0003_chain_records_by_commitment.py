"""On-chain format v3: the chain mirror knows records by commitment, not record id.

Record keys on chain are now ``\\x00rec\\x00<commitment>\\x00``, so ``chain_records`` is keyed
by commitment and has no ``record_id``; ``records.commitment`` gets an index for the joins
of restore and reconcile.

The mirror is derived data and there is no production chain in the old format, so this
migration drops and recreates ``chain_records`` and empties ``chain_batches`` and
``chain_sync``: the next ``ledgerctl index rebuild`` / ``reconcile`` replays the channel from
block 0. A downgrade does the same in reverse.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)


def _chain_records(key: sa.Column[Any], *extra: Any) -> None:
    op.create_table(
        "chain_records",
        key,
        *extra,
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_id", ID, nullable=False),
        sa.PrimaryKeyConstraint(key.name, name=op.f("pk_chain_records")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_chain_records_batch_id_leaf_index"), "chain_records", ["batch_id", "leaf_index"]
    )


def _forget_mirror() -> None:
    op.drop_index(op.f("ix_chain_records_batch_id_leaf_index"), table_name="chain_records")
    op.drop_table("chain_records")
    op.execute(sa.text("DELETE FROM chain_batches"))
    op.execute(sa.text("DELETE FROM chain_sync"))


def upgrade() -> None:
    _forget_mirror()
    _chain_records(
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "length(commitment) = 32", name=op.f("ck_chain_records_commitment_is_sha256")
        ),
    )
    op.create_index(op.f("ix_records_commitment"), "records", ["commitment"])


def downgrade() -> None:
    op.drop_index(op.f("ix_records_commitment"), table_name="records")
    _forget_mirror()
    _chain_records(
        sa.Column("record_id", ID, nullable=False),
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
    )
