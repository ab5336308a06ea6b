"""The PaperRepository contract, part 3: what a paper card, `/new` and `/search` show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import Discussion, Paper
from core.ports import PaperRepository
from tests.conftest import START
from tests.storage.builders import A, B, C, D, E, counts, described, hours_ago, share, votes


def xfail_on(
    request: pytest.FixtureRequest, store: str, stores: tuple[str, ...], reason: str
) -> None:
    if store in stores:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def day(n: int) -> datetime:
    return datetime(2026, 11, n, tzinfo=UTC)


async def test_paper_stats_shows_counts_per_source(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice"), share(A, "bob"), share(A, "bob", source="x")])
    await repo.add_snapshots([votes(A, 15, at=hours_ago(2), comments=4)])

    stats = await repo.paper_stats(A, "day", START)

    assert stats is not None
    assert counts(stats) == {"bluesky": (2, 0), "x": (1, 0), "hackernews": (0, 15)}
    assert stats.score == pytest.approx(2 + 1 + 4)
    assert stats.last_share_at == START


async def test_paper_stats_is_none_for_an_untracked_paper(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice")])

    assert await repo.paper_stats(B, "all", START) is None


async def test_paper_stats_of_a_paper_without_signal_scores_nothing(repo: PaperRepository) -> None:
    await repo.save_papers([described(A)])

    stats = await repo.paper_stats(A, "trending", START)

    assert stats is not None
    assert (stats.paper, stats.score, stats.sources) == (described(A), 0.0, ())


async def test_daily_shares_counts_posts_per_day(repo: PaperRepository) -> None:
    first = day(13)
    await repo.add_mentions(
        [
            share(A, "early", at=first - timedelta(seconds=1)),
            share(A, "alice", at=first),
            share(A, "bob", at=first + timedelta(days=1, hours=5)),
            share(A, "cy", at=first + timedelta(days=1, hours=23)),
            share(A, "dee", at=START),
            share(A, "late", at=first + timedelta(days=14)),
            share(B, "alice", at=first),
        ]
    )

    assert await repo.daily_shares(A, first, 14) == [1, 2] + [0] * 11 + [1]
    assert await repo.daily_shares(C, first, 3) == [0, 0, 0]


async def test_top_posts_puts_the_most_engaging_first_one_per_account(
    repo: PaperRepository,
) -> None:
    await repo.add_mentions(
        [
            share(A, "alice", engagement=50, at=hours_ago(3), post_id="alice-1"),
            share(A, "alice", engagement=70, at=hours_ago(2), post_id="alice-2"),
            share(A, "bob", engagement=20, at=hours_ago(1), post_id="bob-1"),
            share(A, "cy", engagement=20, at=hours_ago(5), post_id="cy-1"),
            share(A, "dee", engagement=0, post_id="dee-1"),
            share(B, "eve", engagement=999, post_id="eve-1"),
        ]
    )

    posts = await repo.top_posts(A, 3)

    assert [p.post_id for p in posts] == ["alice-2", "cy-1", "bob-1"]
    assert posts[0] == share(A, "alice", engagement=70, at=hours_ago(2), post_id="alice-2")


async def test_top_posts_fills_the_limit_when_one_account_posts_a_lot(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.add_mentions(
        [share(A, "alice", engagement=100 + i, post_id=f"alice-{i}") for i in range(12)]
        + [share(A, "bob", engagement=1, post_id="bob-1")]
    )

    assert [p.post_id for p in await repo.top_posts(A, 2)] == ["alice-11", "bob-1"]


async def test_discussions_show_each_items_latest_counts_most_voted_first(
    repo: PaperRepository,
) -> None:
    await repo.add_snapshots(
        [
            votes(A, 10, item="hn-1", at=hours_ago(5), comments=1),
            votes(A, 42, item="hn-1", at=hours_ago(1), comments=7),
            votes(A, 5, item="hn-2"),
            votes(A, 30, item="r-1", source="reddit", comments=3),
            votes(B, 500, item="hn-3"),
        ]
    )

    assert await repo.discussions(A, 2) == [
        Discussion("hackernews", "https://news.example.org/hn-1", "Story hn-1", 42, 7),
        Discussion("reddit", "https://news.example.org/r-1", "Story r-1", 30, 3),
    ]
    assert await repo.discussions(C, 2) == []


async def test_newest_lists_shared_dated_papers_newest_first(repo: PaperRepository) -> None:
    await repo.save_papers(
        [
            described(A, published=day(20)),
            described(B, published=day(25)),
            described(C, published=day(22)),
            described(E, published=day(10)),
        ]
    )
    await repo.add_mentions([share(A, "alice"), share(B, "bob"), share(D, "dee")])
    await repo.add_snapshots([votes(E, 3)])

    assert [s.paper.arxiv_id for s in await repo.newest(10, 0)] == [B, A, E]
    assert [s.paper.arxiv_id for s in await repo.newest(2, 0)] == [B, A]
    page = await repo.newest(2, 2)
    assert [(s.paper.arxiv_id, s.score) for s in page] == [(E, 2.0)]


async def test_search_finds_papers_holding_every_word_best_first(repo: PaperRepository) -> None:
    await repo.save_papers(
        [
            described(A, "Diffusion for robots"),
            described(B, "Robots that fold laundry", abstract="With DIFFUSION."),
            described(C, "Diffusion alone"),
            described(D, "Unshared robots and diffusion"),
        ]
    )
    await repo.add_mentions([share(A, "a1"), share(A, "a2"), share(B, "b"), share(C, "c")])
    await repo.add_mentions([share(E, "e")])

    found = await repo.search(["robots", "Diffusion"], 10, START)

    assert [(s.paper.arxiv_id, s.score) for s in found] == [(A, 2.0), (B, 1.0), (D, 0.0)]
    assert [s.paper.arxiv_id for s in await repo.search(["ROBOTS"], 1, START)] == [A]
    assert await repo.search(["submarine"], 10, START) == []


async def test_categories_lists_the_most_common_first(repo: PaperRepository) -> None:
    await repo.save_papers(
        [
            described(A, categories=("cs.LG", "stat.ML")),
            described(B, categories=("cs.LG",)),
            described(C, categories=("cs.CL", "cs.LG")),
            described(D, categories=("stat.ML",)),
            described(E),
        ]
    )

    assert await repo.categories() == ["cs.LG", "stat.ML", "cs.CL"]


async def test_get_paper_returns_what_arxiv_said(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice")])
    assert await repo.get_paper(A) == Paper(A)

    paper = described(A, "Title", abstract="Text", categories=("cs.LG",), published=day(2))
    await repo.save_papers([paper])

    assert await repo.get_paper(A) == paper
    assert await repo.get_paper(B) is None
