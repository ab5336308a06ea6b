"""The PaperRepository contract, part 2: tie-breaks, filters, paging and ranks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.ports import PaperRepository, TopQuery
from tests.conftest import START
from tests.storage.builders import (
    A,
    B,
    C,
    D,
    E,
    described,
    hours_ago,
    ids,
    share,
    votes,
)

SQL_STORES = ("sqlite", "postgres")


def day(n: int) -> datetime:
    return datetime(2026, 11, n, tzinfo=UTC)


# --- tie-breaks ---------------------------------------------------------------------------------


async def test_top_breaks_a_tie_by_more_networks(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice", at=hours_ago(5)), share(B, "bob"), share(B, "cy")])
    await repo.add_snapshots([votes(A, 1, at=hours_ago(5))])

    for window in ("day", "week", "month", "all"):
        assert await ids(repo, window) == [A, B], window


async def test_top_breaks_a_tie_by_the_newest_share(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [share(A, "alice", at=hours_ago(5)), share(B, "bob", at=hours_ago(30)), share(B, "bob")]
    )

    for window in ("week", "all"):
        assert await ids(repo, window) == [B, A], window


async def test_top_breaks_a_tie_by_the_newer_paper(repo: PaperRepository) -> None:
    await repo.save_papers([described(A, published=day(20)), described(B, published=day(24))])
    await repo.add_mentions([share(A, "alice", post_id="p1"), share(B, "alice", post_id="p1")])

    for window in ("trending", "day", "all"):
        assert await ids(repo, window) == [B, A], window


async def test_top_ranks_a_shared_paper_above_a_voted_one_on_a_tie(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.add_snapshots([votes(A, 1)])
    await repo.add_mentions([share(B, "bob", at=hours_ago(10))])

    assert await ids(repo, "all") == [B, A]


async def test_top_ranks_a_dated_paper_above_an_undated_one_on_a_tie(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.save_papers([described(B, published=day(1))])
    await repo.add_mentions([share(A, "alice", post_id="p1"), share(B, "alice", post_id="p1")])

    assert await ids(repo, "all") == [B, A]


async def test_top_counts_shares_and_votes_of_one_source_as_one_network(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.add_mentions(
        [share(A, "alice", source="mastodon", at=hours_ago(1)), share(B, "bob", at=hours_ago(5))]
    )
    await repo.add_snapshots(
        [votes(A, 1, source="mastodon", at=hours_ago(1)), votes(B, 1, at=hours_ago(5))]
    )

    found = await repo.top(TopQuery(window="all"), START)
    assert [(s.paper.arxiv_id, s.networks) for s in found] == [(B, 2), (A, 1)]


# --- filters ------------------------------------------------------------------------------------


async def _three_categorised_papers(repo: PaperRepository) -> None:
    await repo.save_papers(
        [
            described(A, categories=("cs.LG", "stat.ML")),
            described(B, categories=("cs.CL",)),
            described(C, categories=("math.AG",)),
        ]
    )
    await repo.add_mentions(
        [share(A, f"a{i}") for i in range(3)] + [share(B, f"b{i}") for i in range(2)]
    )
    await repo.add_mentions([share(C, "c"), share(D, "d")])


async def test_top_filters_by_any_category_of_a_paper(repo: PaperRepository) -> None:
    await _three_categorised_papers(repo)

    assert await ids(repo, category="cs.LG") == [A]
    assert await ids(repo, category="stat.ML") == [A]
    assert await ids(repo, "trending", category="cs.CL") == [B]
    assert await ids(repo, category="cs.L") == []
    assert await ids(repo, category="LG") == []


async def test_count_listed_counts_what_top_and_new_list_up_to_a_bound(
    repo: PaperRepository,
) -> None:
    await repo.save_papers(
        [
            described(A, categories=("cs.LG",), published=day(1)),
            described(B, categories=("cs.CL",), published=day(2)),
            described(C, categories=("math.AG",)),
        ]
    )
    await repo.add_mentions([share(p, "ann") for p in (A, B, C, D)])
    await repo.add_snapshots([votes(E, 3)])

    for window in ("trending", "day", "all"):
        query = TopQuery(window=window)
        assert await repo.count_listed(query, 100) == len(await ids(repo, window)) == 5, window
        assert await repo.count_listed(query, 2) == 2, window
    assert await repo.count_listed(TopQuery(category="cs"), 100) == 2
    assert await repo.count_listed(TopQuery(window="all", words=("paper",)), 100) == 3
    assert await repo.count_listed(None, 100) == 2  # /new: shared papers with a date
    assert await repo.count_listed(None, 1) == 1


async def test_top_filters_by_an_archive_alone(repo: PaperRepository) -> None:
    await _three_categorised_papers(repo)

    assert await ids(repo, category="cs") == [A, B]
    assert await ids(repo, "trending", category="math") == [C]
    assert await ids(repo, category="stat") == [A]
    assert await ids(repo, category="c") == []


async def test_top_category_filter_is_case_sensitive(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await _three_categorised_papers(repo)

    assert await ids(repo, category="CS.LG") == []


async def _papers_with_words(repo: PaperRepository) -> None:
    await repo.save_papers(
        [
            described(A, "Diffusion Policies for Robots", abstract="We train 100% of robots."),
            described(B, "Diffusion models", abstract="Images from noise, 1000 of them."),
            described(C, "Robots that fold laundry", abstract="A_B testing."),
        ]
    )
    await repo.add_mentions(
        [share(A, f"a{i}") for i in range(3)]
        + [share(B, f"b{i}") for i in range(2)]
        + [share(C, "c"), share(D, "d")]
    )


async def test_top_filters_by_every_word_in_title_or_abstract(repo: PaperRepository) -> None:
    await _papers_with_words(repo)

    assert await ids(repo, words=("diffusion",)) == [A, B]
    assert await ids(repo, words=("DIFFUSION", "robots")) == [A]
    assert await ids(repo, "trending", words=("diffusion", "noise")) == [B]
    assert await ids(repo, words=("robots",)) == [A, C]
    assert await ids(repo, words=("diffusion", "laundry")) == []


async def test_top_word_filter_takes_wildcards_literally(repo: PaperRepository) -> None:
    await _papers_with_words(repo)

    assert await ids(repo, words=("100%",)) == [A]
    assert await ids(repo, words=("a_b",)) == [C]
    assert await ids(repo, words=("%",)) == [A]


# --- paging and ranks ---------------------------------------------------------------------------


async def test_top_pages_with_offset_and_limit(repo: PaperRepository) -> None:
    papers = [A, B, C, D, E]
    await repo.add_mentions(
        [share(p, f"user-{n}") for i, p in enumerate(papers) for n in range(5 - i)]
    )

    for window in ("trending", "week", "all"):
        pages = [
            [s.paper.arxiv_id for s in await repo.top(TopQuery(window, 2, offset), START)]
            for offset in (0, 2, 4, 6)
        ]
        assert pages == [[A, B], [C, D], [E], []], window


async def test_rank_of_is_the_position_in_top(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [share(A, f"a{i}") for i in range(3)]
        + [share(B, f"b{i}", at=hours_ago(30)) for i in range(2)]
        + [share(C, "c")]
    )

    assert [await repo.rank_of(p, "all", START) for p in (A, B, C)] == [1, 2, 3]
    assert [await repo.rank_of(p, "trending", START) for p in (A, B, C)] == [1, 3, 2]
    assert [await repo.rank_of(p, "day", START) for p in (A, B, C)] == [1, None, 2]


async def test_rank_of_is_none_for_a_paper_without_signal(repo: PaperRepository) -> None:
    await repo.save_papers([described(A)])
    await repo.add_mentions([share(B, "bob")])

    for window in ("trending", "day", "week", "month", "all"):
        assert await repo.rank_of(A, window, START) is None
        assert await repo.rank_of("2611.99999", window, START) is None


async def test_rank_of_follows_the_tie_breaks_of_top(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.add_mentions([share(A, "alice", at=hours_ago(5)), share(B, "bob")])

    assert await ids(repo, "week") == [B, A]
    assert await repo.rank_of(A, "week", START) == 2


async def test_rank_of_trending_reaches_only_the_top_200(repo: PaperRepository) -> None:
    papers = [f"2612.{i:05d}" for i in range(201)]
    await repo.add_mentions(
        [share(p, "alice", at=START - timedelta(minutes=i)) for i, p in enumerate(papers)]
    )

    assert await repo.rank_of(papers[0], "trending", START) == 1
    assert await repo.rank_of(papers[199], "trending", START) == 200
    assert await repo.rank_of(papers[200], "trending", START) is None
