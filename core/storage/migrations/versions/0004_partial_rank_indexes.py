"""partial rank indexes: only papers ranked in the day, week, month or by votes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As core.storage.tables declares them, written out: a migration keeps the schema it made.
_INDEXES = (
    ("ix_papers_rank_day", ["score_day", "networks_day", "last_share_at"], "score_day > 0"),
    ("ix_papers_rank_week", ["score_week", "networks_week", "last_share_at"], "score_week > 0"),
    ("ix_papers_rank_month", ["score_month", "networks_month", "last_share_at"], "score_month > 0"),
    ("ix_papers_trend_votes", ["trend_votes"], "trend_votes > -1e308"),
)


def upgrade() -> None:
    for name, columns, where in _INDEXES:
        op.drop_index(name, table_name="papers")
        predicate = sa.text(where)
        op.create_index(name, "papers", columns, sqlite_where=predicate, postgresql_where=predicate)


def downgrade() -> None:
    for name, columns, _where in _INDEXES:
        op.drop_index(name, table_name="papers")
        op.create_index(name, "papers", columns)
