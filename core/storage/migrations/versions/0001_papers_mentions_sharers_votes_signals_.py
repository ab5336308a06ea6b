"""papers, mentions, sharers, votes, signals, cursors, health

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "mentions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=512), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=256), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("engagement", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "post_id", "arxiv_id", name="uq_mentions_post"),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_paper_time", ["arxiv_id", "posted_at"], unique=False)
        batch_op.create_index("ix_mentions_time", ["posted_at"], unique=False)
        batch_op.create_index(
            "ix_mentions_paper_engagement",
            ["arxiv_id", sa.text("engagement DESC"), "posted_at"],
            unique=False,
        )

    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "paper_signals",
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("week", sa.Float(), nullable=False),
        sa.Column("month", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("trend", sa.Float(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("arxiv_id", "source", "kind"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "papers",
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("authors", sa.Text(), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("categories", sa.Text(), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("metadata_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unknown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_share_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scores_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score_day", sa.Float(), nullable=False),
        sa.Column("score_week", sa.Float(), nullable=False),
        sa.Column("score_month", sa.Float(), nullable=False),
        sa.Column("score_all", sa.Float(), nullable=False),
        sa.Column("networks_day", sa.Integer(), nullable=False),
        sa.Column("networks_week", sa.Integer(), nullable=False),
        sa.Column("networks_month", sa.Integer(), nullable=False),
        sa.Column("networks_all", sa.Integer(), nullable=False),
        sa.Column("trend_shares", sa.Float(), nullable=False),
        sa.Column("trend_votes", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("arxiv_id"),
    )
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.create_index("ix_papers_published", ["published"], unique=False)
        batch_op.create_index(
            "ix_papers_rank_all", ["score_all", "networks_all", "last_share_at"], unique=False
        )
        batch_op.create_index(
            "ix_papers_rank_day", ["score_day", "networks_day", "last_share_at"], unique=False
        )
        batch_op.create_index(
            "ix_papers_rank_month", ["score_month", "networks_month", "last_share_at"], unique=False
        )
        batch_op.create_index(
            "ix_papers_rank_week", ["score_week", "networks_week", "last_share_at"], unique=False
        )
        batch_op.create_index("ix_papers_trend_shares", ["trend_shares"], unique=False)
        batch_op.create_index("ix_papers_trend_votes", ["trend_votes"], unique=False)

    op.create_table(
        "sharers",
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=256), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("arxiv_id", "source", "author"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("sharers", schema=None) as batch_op:
        batch_op.create_index("ix_sharers_last", ["last_at"], unique=False)
        batch_op.create_index("ix_sharers_paper_last", ["arxiv_id", "last_at"], unique=False)

    op.create_table(
        "source_cursors",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items_seen", sa.BigInteger(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "vote_snapshots",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=256), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "item_id", "arxiv_id", "taken_at"),
    )
    with op.batch_alter_table("vote_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_snapshots_paper", ["arxiv_id", "source", "item_id", "taken_at"], unique=False
        )
        batch_op.create_index("ix_snapshots_time", ["taken_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("vote_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshots_time")
        batch_op.drop_index("ix_snapshots_paper")

    op.drop_table("vote_snapshots")
    op.drop_table("source_health")
    op.drop_table("source_cursors")
    with op.batch_alter_table("sharers", schema=None) as batch_op:
        batch_op.drop_index("ix_sharers_paper_last")
        batch_op.drop_index("ix_sharers_last")

    op.drop_table("sharers")
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_index("ix_papers_trend_votes")
        batch_op.drop_index("ix_papers_trend_shares")
        batch_op.drop_index("ix_papers_rank_week")
        batch_op.drop_index("ix_papers_rank_month")
        batch_op.drop_index("ix_papers_rank_day")
        batch_op.drop_index("ix_papers_rank_all")
        batch_op.drop_index("ix_papers_published")

    op.drop_table("papers")
    op.drop_table("paper_signals")
    op.drop_table("meta")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_paper_engagement")
        batch_op.drop_index("ix_mentions_time")
        batch_op.drop_index("ix_mentions_paper_time")

    op.drop_table("mentions")
