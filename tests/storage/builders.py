"""Small builders for shares, vote snapshots and papers, so tests state only what matters."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from core.models import Mention, MentionKind, Paper, PaperStats, VoteSnapshot, Window
from core.ports import PaperRepository, TopQuery
from tests.conftest import START

A, B, C, D, E = (f"2611.0000{i}" for i in range(1, 6))

_posts = itertools.count(1)


def hours_ago(hours: float, now: datetime = START) -> datetime:
    return now - timedelta(hours=hours)


def share(
    arxiv_id: str,
    author: str,
    *,
    at: datetime = START,
    source: str = "bluesky",
    post_id: str | None = None,
    kind: MentionKind = "post",
    engagement: int = 0,
) -> Mention:
    return Mention(
        source=source,
        post_id=post_id or f"post-{next(_posts)}",
        author=author,
        posted_at=at,
        kind=kind,
        arxiv_id=arxiv_id,
        url=f"https://example.org/{author}",
        text=f"look at arXiv:{arxiv_id}",
        engagement=engagement,
    )


def votes(
    arxiv_id: str,
    count: int,
    *,
    at: datetime = START,
    source: str = "hackernews",
    item: str = "item-1",
    comments: int = 0,
) -> VoteSnapshot:
    return VoteSnapshot(
        source=source,
        item_id=item,
        arxiv_id=arxiv_id,
        taken_at=at,
        votes=count,
        comments=comments,
        url=f"https://news.example.org/{item}",
        title=f"Story {item}",
    )


def described(
    arxiv_id: str,
    title: str = "A paper",
    *,
    abstract: str | None = None,
    categories: tuple[str, ...] = (),
    published: datetime | None = None,
) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        authors=("Ada Lovelace", "Alan Turing"),
        abstract=abstract,
        categories=categories,
        published=published,
        version=1,
    )


async def ranked(
    repo: PaperRepository,
    window: Window = "all",
    now: datetime = START,
    *,
    category: str | None = None,
    words: tuple[str, ...] = (),
) -> list[tuple[str, float]]:
    """Return the ranking as (id, score) pairs, the way a user reads `/top`."""
    query = TopQuery(window=window, limit=1000, category=category, words=words)
    return [(s.paper.arxiv_id, s.score) for s in await repo.top(query, now)]


async def ids(
    repo: PaperRepository,
    window: Window = "all",
    now: datetime = START,
    *,
    category: str | None = None,
    words: tuple[str, ...] = (),
) -> list[str]:
    pairs = await ranked(repo, window, now, category=category, words=words)
    return [arxiv_id for arxiv_id, _ in pairs]


def approx(pairs: list[tuple[str, float]]) -> list[tuple[str, object]]:
    return [(arxiv_id, pytest.approx(score, rel=1e-9, abs=1e-12)) for arxiv_id, score in pairs]


def counts(stats: PaperStats) -> dict[str, tuple[int, int]]:
    """Per-source (sharers, votes) of a paper, as a card shows them."""
    return {c.source: (c.sharers, c.votes) for c in stats.sources}
