"""papers without first_seen_at: written for every new paper, never read

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

A paper's row is now made by the first write of its scores (an upsert, storage.scores), not by
an insert of its id and the moment it was first seen before them; nothing ever read that moment.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("papers", "first_seen_at")


def downgrade() -> None:
    op.add_column("papers", sa.Column("first_seen_at", sa.DateTime(timezone=True)))
