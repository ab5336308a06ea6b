"""follow sums: each chat's followed sharers summed per paper, kept as shares arrive

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A follow list's ranking reads its chat's sums (`follow_sums`) instead of summing its sharers on
every `/top following`. The store writes them whenever a list or a followed account's shares
change; the lists already held are summed here, by the store's own code, with the half-life the
stored scores were made with. Two indexes on `follows` find the chats following a share's author.
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NETWORKS = ("bluesky", "mastodon", "x")


def upgrade() -> None:
    op.create_index("ix_follows_key", "follows", ["network", "key"])
    op.create_index("ix_follows_shown", "follows", ["network", "shown"])
    per_network = [
        column
        for network in NETWORKS
        for column in (
            sa.Column(f"sharers_{network}", sa.Integer(), nullable=False),
            sa.Column(f"trend_{network}", sa.Float(), nullable=False),
        )
    ]
    op.create_table(
        "follow_sums",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("arxiv_id", sa.String(64), nullable=False),
        sa.Column("sharers", sa.Integer(), nullable=False),
        sa.Column("trend", sa.Float(), nullable=False),
        sa.Column("oldest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("newest", sa.DateTime(timezone=True), nullable=False),
        *per_network,
        sa.PrimaryKeyConstraint("platform", "chat_id", "arxiv_id"),
    )
    # With the id, as the ranking's order has it: read backwards, the first rows are the page.
    for name, column in (("trend", "trend"), ("sharers", "sharers")):
        op.create_index(
            f"ix_follow_sums_{name}", "follow_sums", ["platform", "chat_id", column, "arxiv_id"]
        )
    op.create_table(
        "follow_sharers",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("arxiv_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", "arxiv_id", "source", "author"),
        sqlite_with_rowid=False,
    )
    _sum_held_lists()


def downgrade() -> None:
    op.drop_table("follow_sharers")
    op.drop_table("follow_sums")
    op.drop_index("ix_follows_shown", table_name="follows")
    op.drop_index("ix_follows_key", table_name="follows")


def _sum_held_lists() -> None:
    """Sum the lists already held, through the store's code on this migration's connection."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM follows")).scalar_one() == 0:
        return
    from core.ranking import RankingConfig
    from core.storage.follow_sums import rebuild_chats_sync

    signature = bind.execute(
        sa.text("SELECT value FROM meta WHERE key = 'scores_signature'")
    ).scalar_one_or_none()
    config = RankingConfig()
    if signature and signature.startswith("h="):
        seconds = float(signature[2:].split(";")[0])
        config = RankingConfig(weights=config.weights, half_life=timedelta(seconds=seconds))
    rebuild_chats_sync(bind, config)
