"""paper texts: abstracts and search text apart from the papers' rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

A paper's row is rewritten whenever its scores change (every batch of its shares, every sweep
that reaches it), and SQLite rewrites a row whole: with its abstract and search text, each row
took about a page. They move to `paper_texts`, keyed by paper, and the papers' rows shrink to
their header and scores.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TEXTS = ("abstract", "search_text")


def upgrade() -> None:
    op.create_table(
        "paper_texts",
        sa.Column("arxiv_id", sa.String(64), nullable=False),
        sa.Column("abstract", sa.Text()),
        sa.Column("search_text", sa.Text()),
        sa.PrimaryKeyConstraint("arxiv_id"),
    )
    op.execute(
        "INSERT INTO paper_texts (arxiv_id, abstract, search_text) "
        "SELECT arxiv_id, abstract, search_text FROM papers "
        "WHERE abstract IS NOT NULL OR search_text IS NOT NULL"
    )
    # SQLite (3.35 and later) and PostgreSQL drop an unindexed column in place: no table copy
    # that would have to rebuild the partial rank indexes.
    for column in _TEXTS:
        op.drop_column("papers", column)


def downgrade() -> None:
    for column in _TEXTS:
        op.add_column("papers", sa.Column(column, sa.Text()))
    for column in _TEXTS:
        op.execute(
            f"UPDATE papers SET {column} = "
            f"(SELECT t.{column} FROM paper_texts t WHERE t.arxiv_id = papers.arxiv_id)"
        )
    op.drop_table("paper_texts")
