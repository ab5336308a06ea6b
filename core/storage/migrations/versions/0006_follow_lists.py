"""follow lists: each chat's followed accounts, sharers by account, digests from follows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

A chat's follow list is new (`follows`); its ranking reads an account's sharers through a new
index on `sharers`, built here over the rows already stored. A subscription gains `following`
(its digest ranks the chat's follows' shares only): existing ones keep the global ranking.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("network", sa.String(32), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("shown", sa.String(256), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", "network", "key"),
    )
    op.create_index(
        "ix_sharers_account", "sharers", ["source", "author", "last_at", "first_at", "arxiv_id"]
    )
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(
            sa.Column("following", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("following")
    op.drop_index("ix_sharers_account", table_name="sharers")
    op.drop_table("follows")
