"""The PaperRepository contract, part 3: what a paper card, `/new` and `/search` show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import DailySeries, Discussion, Paper
from core.ports import CardFacts, CardQuery, PaperRepository
from tests.conftest import START
from tests.storage.builders import (
    A,
    B,
    C,
    D,
    E,
    counts,
    described,
    hours_ago,
    ids,
    share,
    votes,
)


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


# --- the whole card in one read -----------------------------------------------------------------


async def test_card_reads_what_the_single_reads_return(repo: PaperRepository) -> None:
    first = day(13)
    await repo.save_papers([described(A, "Title", published=day(1))])
    await repo.add_mentions(
        [
            share(A, "alice", engagement=9, at=first + timedelta(hours=3), post_id="alice-1"),
            share(A, "bob", engagement=4, at=hours_ago(30), post_id="bob-1"),
            share(A, "cy", engagement=1, post_id="cy-1"),
            share(A, "dee", source="x", post_id="dee-1"),
            share(A, "early", at=first - timedelta(hours=1), post_id="early-1"),
            *(share(B, f"b{i}") for i in range(12)),
            share(C, "carl"),
        ]
    )
    await repo.add_snapshots(
        [votes(A, 3, item="hn-1", at=hours_ago(6)), votes(A, 40, item="hn-1", comments=8)]
    )

    facts = await repo.card(CardQuery(A, first_day=first, days=14, posts=2), START)

    assert facts == CardFacts(
        stats=await repo.paper_stats(A, "trending", START),
        rank=await repo.rank_of(A, "trending", START),
        daily_shares=tuple(await repo.daily_shares(A, first, 14)),
        top_posts=tuple(await repo.top_posts(A, 2)),
        discussions=tuple(await repo.discussions(A, 2)),
    )
    assert facts.stats is not None
    assert facts.stats.paper == described(A, "Title", published=day(1))
    assert facts.rank == 2
    assert facts.daily_shares == (1,) + (0,) * 11 + (1, 2)
    assert [p.post_id for p in facts.top_posts] == ["alice-1", "bob-1"]
    assert facts.discussions == (
        Discussion("hackernews", "https://news.example.org/hn-1", "Story hn-1", 40, 8),
    )


async def test_card_splits_daily_shares_by_network_when_asked(repo: PaperRepository) -> None:
    first = day(24)  # three days: the 24th, 25th and 26th (START's day)
    await repo.add_mentions(
        [
            share(A, "alice", at=first + timedelta(hours=1), post_id="a1"),
            share(A, "alice", at=first + timedelta(hours=2), post_id="a2"),
            share(A, "bob", source="x", at=first + timedelta(days=1, hours=23), post_id="b1"),
            share(A, "cy", source="mastodon", at=START, post_id="c1"),
            share(A, "bob", source="x", at=START, post_id="b2"),
            share(A, "late", at=first + timedelta(days=3), post_id="late"),
            share(A, "early", at=first - timedelta(seconds=1), post_id="early"),
            share(B, "bea", source="x", at=START),
        ]
    )

    asked = await repo.card(CardQuery(A, first_day=first, days=3, by_network=True), START)
    plain = await repo.card(CardQuery(A, first_day=first, days=3), START)

    assert asked.by_network == (
        DailySeries("bluesky", (2, 0, 0)),
        DailySeries("mastodon", (0, 0, 1)),
        DailySeries("x", (0, 1, 1)),
    )
    assert tuple(await repo.daily_shares_by_network(A, first, 3)) == asked.by_network
    assert asked.daily_shares == plain.daily_shares == (2, 1, 2)
    assert plain.by_network == ()
    assert await repo.daily_shares_by_network(C, first, 3) == []


async def test_card_of_an_untracked_paper_is_empty(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice")])

    facts = await repo.card(CardQuery(B, first_day=day(24), days=3), START)

    assert facts == CardFacts(
        stats=None, rank=None, daily_shares=(0, 0, 0), top_posts=(), discussions=()
    )


async def test_card_of_a_paper_without_signal_has_no_rank(repo: PaperRepository) -> None:
    await repo.save_papers([described(A)])
    await repo.add_mentions([share(B, "bob")])

    facts = await repo.card(CardQuery(A, first_day=day(24), days=3), START)

    assert facts.stats is not None
    assert (facts.stats.score, facts.rank, facts.daily_shares) == (0.0, None, (0, 0, 0))


async def test_card_ranks_as_trending_top_with_votes_and_decay(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [share(A, f"a{i}", at=hours_ago(40)) for i in range(6)]
        + [share(B, f"b{i}", at=hours_ago(2)) for i in range(3)]
        + [share(C, "c", at=hours_ago(1))]
        + [share(D, f"d{i}", at=hours_ago(24 * 12)) for i in range(40)]
    )
    # E has no share at all: its votes alone place it.
    await repo.add_snapshots(
        [
            votes(E, 0, at=hours_ago(5)),
            votes(E, 200, at=hours_ago(1)),
            votes(C, 0, item="c-1", at=hours_ago(3)),
            votes(C, 6, item="c-1"),
        ]
    )
    order = await ids(repo, "trending")

    ranks = {
        p: (await repo.card(CardQuery(p, first_day=day(24), days=3), START)).rank for p in order
    }

    assert ranks == {p: i + 1 for i, p in enumerate(order)}
    assert len(order) == 5


async def test_card_rank_reaches_only_the_top_200(repo: PaperRepository) -> None:
    papers = [f"2612.{i:05d}" for i in range(201)]
    await repo.add_mentions(
        [share(p, "alice", at=START - timedelta(minutes=i)) for i, p in enumerate(papers)]
    )

    async def rank(arxiv_id: str) -> int | None:
        return (await repo.card(CardQuery(arxiv_id, first_day=day(24), days=3), START)).rank

    assert [await rank(papers[i]) for i in (0, 1, 199, 200)] == [1, 2, 200, None]
