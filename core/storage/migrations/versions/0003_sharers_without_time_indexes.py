"""sharers without time indexes: the mentions' indexes find sharers leaving a window

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sharers_paper_last", table_name="sharers")
    op.drop_index("ix_sharers_last", table_name="sharers")


def downgrade() -> None:
    op.create_index("ix_sharers_last", "sharers", ["last_at"], unique=False)
    op.create_index("ix_sharers_paper_last", "sharers", ["arxiv_id", "last_at"], unique=False)
