"""The schema. Alembic migrations in `migrations/` create exactly these tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, QueryableAttribute, mapped_column

from core.storage.types import UtcDateTime


class Base(DeclarativeBase):
    """Declarative base of every table."""


# The value above which a paper is ranked by a column. Most papers have no share in the day or
# the week and no votes: their entries in those rank indexes would be rewritten by every batch
# that names them and never read, so those indexes hold only ranked papers. A query uses such
# an index only when its WHERE holds the same literal term (a bound parameter is not enough):
# queries take the term from `ranked`.
RANKED_ABOVE = {
    "score_day": "0",
    "score_week": "0",
    "score_month": "0",
    "score_all": "0",
    "trend": "-1e308",
}


def ranked(column: QueryableAttribute[float]) -> ColumnElement[bool]:
    """`column` above the value that ranks a paper, written as the partial indexes have it."""
    return column > literal_column(RANKED_ABOVE[column.key])


def _partial(name: str, *columns: str) -> Index:
    where = sql_text(f"{columns[0]} > {RANKED_ABOVE[columns[0]]}")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


class PaperRow(Base):
    """A paper, its arXiv metadata (its long texts are in `paper_texts`) and its stored scores."""

    __tablename__ = "papers"

    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[str | None] = mapped_column(Text)  # JSON list
    categories: Mapped[str | None] = mapped_column(Text)  # " cs.LG stat.ML " for LIKE filters
    published: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int | None] = mapped_column(Integer)
    metadata_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    unknown_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_share_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Window scores as of the sweep's watermark; the trending key at any time (storage.scores).
    score_day: Mapped[float] = mapped_column(Float, default=0.0)
    score_week: Mapped[float] = mapped_column(Float, default=0.0)
    score_month: Mapped[float] = mapped_column(Float, default=0.0)
    score_all: Mapped[float] = mapped_column(Float, default=0.0)
    networks_day: Mapped[int] = mapped_column(Integer, default=0)
    networks_week: Mapped[int] = mapped_column(Integer, default=0)
    networks_month: Mapped[int] = mapped_column(Integer, default=0)
    networks_all: Mapped[int] = mapped_column(Integer, default=0)
    # The trending key (core.ranking): -1e308 stands for "nothing".
    trend: Mapped[float] = mapped_column(Float, default=-1e308)

    __table_args__ = (
        _partial("ix_papers_rank_day", "score_day", "networks_day", "last_share_at"),
        _partial("ix_papers_rank_week", "score_week", "networks_week", "last_share_at"),
        _partial("ix_papers_rank_month", "score_month", "networks_month", "last_share_at"),
        Index("ix_papers_rank_all", "score_all", "networks_all", "last_share_at"),
        _partial("ix_papers_trend", "trend", "networks_all", "last_share_at"),
        Index("ix_papers_published", "published"),
    )


class PaperTextRow(Base):
    """A paper's long texts: its abstract, and the lower-cased title and abstract that words match.

    Apart from `papers` so that its rows stay small: the sweep and every batch of shares rewrite
    a paper's row to update its scores, and SQLite rewrites a row whole (an abstract made each
    one about a page).
    """

    __tablename__ = "paper_texts"

    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    abstract: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str | None] = mapped_column(Text)


class MentionRow(Base):
    """A share: one post by one account linking one paper."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(512))
    arxiv_id: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(256))
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(8))
    version: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    engagement: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("source", "post_id", "arxiv_id", name="uq_mentions_post"),
        Index("ix_mentions_paper_time", "arxiv_id", "posted_at"),
        Index("ix_mentions_time", "posted_at"),
        # A paper's top posts in order (engagement, then the earliest) without a sort of them all.
        Index("ix_mentions_paper_engagement", "arxiv_id", sql_text("engagement DESC"), "posted_at"),
    )


class SharerRow(Base):
    """One account's shares of one paper on one network, folded: counts once."""

    __tablename__ = "sharers"

    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    author: Mapped[str] = mapped_column(String(256), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # No index on `last_at` alone: a sharer's last share is a mention, so sharers leaving a
    # window are found through the mentions' time index (storage.sweep). The one index here
    # finds an account's sharers when a chat starts following it (storage.follow_sums): only
    # its key, so a batch inserts half as much into it, and one moving a last share nothing.
    # Small rows under a composite key: on SQLite, one B-tree instead of a table and a key.
    __table_args__ = (
        Index("ix_sharers_account", "source", "author"),
        {"sqlite_with_rowid": False},
    )


class FollowRow(Base):
    """An account one chat follows (core.follows): its network's key and the name shown."""

    __tablename__ = "follows"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    shown: Mapped[str] = mapped_column(String(256))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # Which chats follow the author of a new share, by either name (storage.follow_sums).
    __table_args__ = (
        Index("ix_follows_key", "network", "key"),
        Index("ix_follows_shown", "network", "shown"),
    )


class FollowSharerRow(Base):
    """A sharer one chat follows: the chat's copy of the row in `sharers` (storage.follow_sums)."""

    __tablename__ = "follow_sharers"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    author: Mapped[str] = mapped_column(String(256), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = ({"sqlite_with_rowid": False},)


class FollowSumRow(Base):
    """The sharers one chat follows of one paper, summed over all time (storage.follow_sums).

    Per network (columns named after `core.models.SHARE_NETWORKS`): the sharers, and the
    trending log-sum of their first shares as `papers.trend` keeps it; over all networks the
    same two, which order a chat's papers; and the oldest and newest last share, which say
    whether every sharer is inside a window.
    """

    __tablename__ = "follow_sums"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sharers: Mapped[int] = mapped_column(Integer)
    trend: Mapped[float] = mapped_column(Float)
    oldest: Mapped[datetime] = mapped_column(UtcDateTime())
    newest: Mapped[datetime] = mapped_column(UtcDateTime())
    sharers_bluesky: Mapped[int] = mapped_column(Integer)
    trend_bluesky: Mapped[float] = mapped_column(Float)
    sharers_mastodon: Mapped[int] = mapped_column(Integer)
    trend_mastodon: Mapped[float] = mapped_column(Float)
    sharers_x: Mapped[int] = mapped_column(Integer)
    trend_x: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_follow_sums_trend", "platform", "chat_id", "trend", "arxiv_id"),
        Index("ix_follow_sums_sharers", "platform", "chat_id", "sharers", "arxiv_id"),
    )


class SnapshotRow(Base):
    """An aggregator item's votes and comments at one moment."""

    __tablename__ = "vote_snapshots"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    votes: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_snapshots_paper", "arxiv_id", "source", "item_id", "taken_at"),
        Index("ix_snapshots_time", "taken_at"),
    )


class SignalRow(Base):
    """One source's contribution to one paper: window counts as of the sweep (storage.scores)."""

    __tablename__ = "paper_signals"

    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "share" or "vote"
    day: Mapped[float] = mapped_column(Float, default=0.0)
    week: Mapped[float] = mapped_column(Float, default=0.0)
    month: Mapped[float] = mapped_column(Float, default=0.0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    trend: Mapped[float] = mapped_column(Float, default=-1e308)
    comments: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)  # see SharerRow


class CursorRow(Base):
    """Where a source stopped reading; advanced in the same transaction as its rows."""

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class HealthRow(Base):
    """A source's health record."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_success: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    items_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class MetaRow(Base):
    """Small key/value facts about the store (the sweep's watermark, the scores' config)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
