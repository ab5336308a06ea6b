"""narrow sharers account index: an account's sharers by key only

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Since follow sums (0008) no ranking reads sharers by account: only copying a newly followed
account's sharers does, a few hundred rows at a time. The account index keeps its two key
columns and drops the times and paper it covered, so it is half the size, and a batch that
moves a sharer's last share no longer moves its entry. Every import inserts a sharer into it
at a random place: at a million shares that cost about a fifth of the import's time.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WIDE = ["source", "author", "last_at", "first_at", "arxiv_id"]


def upgrade() -> None:
    op.drop_index("ix_sharers_account", table_name="sharers")
    op.create_index("ix_sharers_account", "sharers", ["source", "author"])


def downgrade() -> None:
    op.drop_index("ix_sharers_account", table_name="sharers")
    op.create_index("ix_sharers_account", "sharers", WIDE)
