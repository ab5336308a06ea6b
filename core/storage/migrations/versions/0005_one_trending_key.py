"""one trending key by forward decay; window counts as of the sweep's watermark

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

The two trending keys (shares, votes) become one, in which vote gains count as decayed
log2(1 + gain) terms. The key cannot be computed here without the configured weights: the
scores' signature is dropped, so `trending-arxiv db upgrade` (and the first sweep of any
process) rescores every paper from its rows before it is used. The window counts were stored
as of `scores_as_of`, which becomes the sweep's watermark.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WHERE = sa.text("trend > -1e308")


def upgrade() -> None:
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.delete().where(meta.c.key == "scores_signature"))
    op.execute(meta.update().where(meta.c.key == "scores_as_of").values(key="swept_until"))
    connection = op.get_bind()
    watermark = connection.execute(
        sa.select(meta.c.value).where(meta.c.key == "swept_until")
    ).first()
    if watermark is None:
        # Never read since stored: each paper's scores were as of its own `scores_at`, and the
        # rescore computes every window as of the newest of them.
        papers = sa.table("papers", sa.column("scores_at", sa.DateTime(timezone=True)))
        newest = connection.execute(sa.select(sa.func.max(papers.c.scores_at))).scalar()
        if newest is not None:
            if isinstance(newest, str):  # SQLite hands back its text
                newest = datetime.fromisoformat(newest)
            moment = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
            op.execute(meta.insert().values(key="swept_until", value=moment.isoformat()))
    with op.batch_alter_table("papers") as batch_op:
        batch_op.drop_index("ix_papers_trend_votes")
        batch_op.drop_index("ix_papers_trend_shares")
        batch_op.add_column(
            sa.Column("trend", sa.Float(), nullable=False, server_default=sa.text("-1e308"))
        )
        batch_op.drop_column("trend_shares")
        batch_op.drop_column("trend_votes")
        batch_op.drop_column("scores_at")
    op.create_index(
        "ix_papers_trend",
        "papers",
        ["trend", "networks_all", "last_share_at"],
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_papers_trend", table_name="papers")
    with op.batch_alter_table("papers") as batch_op:
        batch_op.drop_column("trend")
        batch_op.add_column(sa.Column("scores_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("trend_shares", sa.Float(), nullable=False, server_default=sa.text("-1e308"))
        )
        batch_op.add_column(
            sa.Column("trend_votes", sa.Float(), nullable=False, server_default=sa.text("-1e308"))
        )
        batch_op.create_index("ix_papers_trend_shares", ["trend_shares"], unique=False)
        voted = sa.text("trend_votes > -1e308")
        batch_op.create_index(
            "ix_papers_trend_votes", ["trend_votes"], sqlite_where=voted, postgresql_where=voted
        )
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "swept_until").values(key="scores_as_of"))
