"""Anchored checkpoints: log_subtrees, checkpoint_anchors, chain_checkpoints.

``log_subtrees`` (perfect subtree roots for O(log N) proofs) and ``checkpoint_anchors`` (the
checkpointer's intents) are in index/log_models.py; ``chain_checkpoints`` (the mirror of the
anchored checkpoints) in index/chain_models.py. ``global_log_state`` is emptied: it is a
cache, and advancing it again from the mirror fills ``log_subtrees`` for the older leaves.

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger_service.index.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=128)
LABEL = sa.String(length=256)


def upgrade() -> None:
    op.create_table(
        "log_subtrees",
        sa.Column("origin", LABEL, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("node_index", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_tx_index", sa.Integer(), nullable=False),
        sa.Column("last_leaf_index", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(hash) = 32", name=op.f("ck_log_subtrees_hash_is_sha256")),
        sa.PrimaryKeyConstraint("origin", "level", "node_index", name=op.f("pk_log_subtrees")),
    )
    op.create_table(
        "checkpoint_anchors",
        sa.Column("tx_id", ID, nullable=False),
        sa.Column("origin", LABEL, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("prev_size", sa.BigInteger(), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('submitted', 'committed', 'failed')",
            name=op.f("ck_checkpoint_anchors_state_known"),
        ),
        sa.PrimaryKeyConstraint("tx_id", name=op.f("pk_checkpoint_anchors")),
    )
    op.create_index(
        op.f("ix_checkpoint_anchors_origin_state"), "checkpoint_anchors", ["origin", "state"]
    )
    op.create_table(
        "chain_checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("prev_size", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("tx_id", ID, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("creator_msp", LABEL, nullable=False),
        sa.Column("ts", sa.String(length=64), nullable=False),
        sa.CheckConstraint("length(root) = 32", name=op.f("ck_chain_checkpoints_root_is_sha256")),
        sa.CheckConstraint("prev_size < size", name=op.f("ck_chain_checkpoints_extends_previous")),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_chain_checkpoints")),
    )
    op.execute("DELETE FROM global_log_state")


def downgrade() -> None:
    op.drop_table("chain_checkpoints")
    op.drop_index(op.f("ix_checkpoint_anchors_origin_state"), table_name="checkpoint_anchors")
    op.drop_table("checkpoint_anchors")
    op.drop_table("log_subtrees")
    op.execute("DELETE FROM global_log_state")
