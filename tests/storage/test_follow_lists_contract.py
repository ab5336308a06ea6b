"""The FollowLists contract on every store: the in-memory fake, SQLite, PostgreSQL (env var).

The fake ranks by brute force from the paper store's rows; the SQL store sums the followed
accounts' sharers in SQL. Both must list the same papers with the same counts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.follows import MAX_FOLLOWS, FollowListFull, FollowLists
from core.models import ChatRef, PaperStats
from core.ports import Account, PaperRepository, TopQuery
from core.ranking import RankingConfig
from core.storage.database import session_factory
from core.storage.follow_lists import SqlFollowLists
from tests.conftest import START
from tests.fake_follows import InMemoryFollowLists
from tests.fakes import InMemoryPaperRepository
from tests.storage.builders import A, B, C, D, described, hours_ago, share

GROUP = ChatRef("telegram", "-1001")
OTHER = ChatRef("discord", "42")
ALICE = Account("bluesky", "did:plc:alice", "alice.bsky.social")
BOB = Account("mastodon", "bob@sigmoid.social", "bob@sigmoid.social")
CAROL = Account("x", "carol", "carol")
DAN = Account("bluesky", "did:plc:dan", "dan.bsky.social")


@pytest.fixture
def follows(store_engine: AsyncEngine | None, repo: PaperRepository) -> FollowLists:
    if store_engine is None:
        assert isinstance(repo, InMemoryPaperRepository)
        return InMemoryFollowLists(repo, RankingConfig())
    return SqlFollowLists(session_factory(store_engine), RankingConfig())


def counted(stats: list[PaperStats]) -> list[tuple[str, dict[str, int]]]:
    return [(s.paper.arxiv_id, {c.source: c.sharers for c in s.sources}) for s in stats]


# --- the list -----------------------------------------------------------------------------------


async def test_add_returns_only_accounts_not_followed_yet(follows: FollowLists) -> None:
    assert await follows.add(GROUP, [ALICE, BOB], START) == [ALICE, BOB]

    assert await follows.add(GROUP, [BOB, CAROL, CAROL], START) == [CAROL]
    assert await follows.counts(GROUP) == {"bluesky": 1, "mastodon": 1, "x": 1}
    assert await follows.page(GROUP, 10, 0) == [ALICE, BOB, CAROL]
    assert await follows.page(GROUP, 2, 1) == [BOB, CAROL]
    assert await follows.counts(OTHER) == {}


async def test_a_list_over_the_limit_adds_nothing(follows: FollowLists) -> None:
    await follows.add(GROUP, [ALICE], START)
    many = [Account("x", f"user{i}", f"user{i}") for i in range(MAX_FOLLOWS)]

    with pytest.raises(FollowListFull):
        await follows.add(GROUP, many, START)

    assert await follows.counts(GROUP) == {"bluesky": 1}
    assert len(await follows.add(GROUP, many[:-1], START)) == MAX_FOLLOWS - 1


async def test_remove_by_handle_or_key_in_one_chat_only(follows: FollowLists) -> None:
    await follows.add(GROUP, [ALICE, BOB, CAROL], START)
    await follows.add(OTHER, [ALICE], START)

    removed = await follows.remove(
        GROUP, [("bluesky", "@Alice.bsky.social"), ("x", "CAROL"), ("x", "nobody")]
    )

    assert removed == [ALICE, CAROL]
    assert await follows.page(GROUP, 10, 0) == [BOB]
    assert await follows.remove(GROUP, [("mastodon", "@bob@sigmoid.social")]) == [BOB]
    assert await follows.page(OTHER, 10, 0) == [ALICE]
    assert await follows.remove(OTHER, [("bluesky", "did:plc:alice")]) == [ALICE]


async def test_clear_empties_one_chat(follows: FollowLists) -> None:
    await follows.add(GROUP, [ALICE, BOB], START)
    await follows.add(OTHER, [CAROL], START)

    assert await follows.clear(GROUP) == 2
    assert await follows.clear(GROUP) == 0
    assert await follows.counts(OTHER) == {"x": 1}


async def test_a_moved_chat_keeps_its_list(follows: FollowLists) -> None:
    supergroup = ChatRef("telegram", "-1009")
    await follows.add(GROUP, [ALICE, BOB], START)

    await follows.move(GROUP, supergroup)

    assert await follows.page(supergroup, 10, 0) == [ALICE, BOB]
    assert await follows.counts(GROUP) == {}


# --- ranking from the follows' shares -----------------------------------------------------------


async def test_top_counts_only_the_followed_accounts(
    follows: FollowLists, repo: PaperRepository
) -> None:
    # Globally B leads (four sharers); among the follows A does (two against one).
    await repo.add_mentions(
        [
            share(A, "did:plc:alice", at=hours_ago(2)),
            share(A, "bob@sigmoid.social", source="mastodon", at=hours_ago(3)),
            share(B, "carol", source="x", at=hours_ago(1)),
            *(share(B, f"stranger{i}", at=hours_ago(1)) for i in range(3)),
            share(C, "stranger0", at=hours_ago(1)),
        ]
    )
    await follows.add(GROUP, [ALICE, BOB, CAROL], START)

    for window in ("trending", "day", "week", "all"):
        found = await follows.top(GROUP, TopQuery(window=window), START)  # type: ignore[arg-type]
        assert counted(found) == [(A, {"bluesky": 1, "mastodon": 1}), (B, {"x": 1})], window
    assert await follows.top(OTHER, TopQuery(), START) == []


async def test_top_uses_the_windows_and_the_decay(
    follows: FollowLists, repo: PaperRepository
) -> None:
    await repo.add_mentions(
        [
            share(A, "did:plc:alice", at=hours_ago(30)),
            share(A, "did:plc:dan", at=hours_ago(40)),
            share(B, "did:plc:dan", at=hours_ago(2)),
            share(C, "did:plc:alice", at=hours_ago(24 * 10)),
        ]
    )
    await follows.add(GROUP, [ALICE, DAN], START)

    async def listed(window: str) -> list[str]:
        found = await follows.top(GROUP, TopQuery(window=window), START)  # type: ignore[arg-type]
        return [s.paper.arxiv_id for s in found]

    assert await listed("day") == [B]
    assert await listed("week") == [A, B]
    assert await listed("month") == [A, B, C]
    # Trending: one sharer 2 h ago outweighs two 30 and 40 h ago at a 24 h half-life.
    assert await listed("trending") == [B, A, C]
    [top] = await follows.top(GROUP, TopQuery(limit=1), START)
    assert top.score == pytest.approx(2 ** (-2 / 24))


async def test_top_keeps_filters_and_pages(follows: FollowLists, repo: PaperRepository) -> None:
    await repo.add_mentions(
        [
            share(paper, "did:plc:alice", at=hours_ago(hours))
            for paper, hours in ((A, 1), (B, 2), (C, 3), (D, 4))
        ]
    )
    await repo.save_papers(
        [
            described(A, "Diffusion for robots", categories=("cs.RO",)),
            described(B, "Graph learning", categories=("cs.LG",)),
            described(C, "Diffusion models", categories=("cs.LG", "stat.ML")),
        ]
    )
    await follows.add(GROUP, [ALICE], START)

    def ids(found: list[PaperStats]) -> list[str]:
        return [s.paper.arxiv_id for s in found]

    assert ids(await follows.top(GROUP, TopQuery(category="cs.LG"), START)) == [B, C]
    assert ids(await follows.top(GROUP, TopQuery(words=("diffusion",)), START)) == [A, C]
    assert ids(await follows.top(GROUP, TopQuery(limit=2, offset=1), START)) == [B, C]


async def test_a_bluesky_share_imported_by_handle_matches_the_follow(
    follows: FollowLists, repo: PaperRepository
) -> None:
    await repo.add_mentions(
        [share(A, "alice.bsky.social", at=hours_ago(1)), share(B, "did:plc:alice")]
    )
    await follows.add(GROUP, [ALICE], START)

    found = await follows.top(GROUP, TopQuery(window="day"), START)

    assert counted(found) == [(B, {"bluesky": 1}), (A, {"bluesky": 1})]


async def test_trending_leaves_out_sharers_older_than_its_horizon(
    follows: FollowLists, repo: PaperRepository
) -> None:
    await repo.add_mentions(
        [share(A, "did:plc:alice", at=START - timedelta(days=40)), share(B, "did:plc:alice")]
    )
    await follows.add(GROUP, [ALICE], START)

    trending = await follows.top(GROUP, TopQuery(), START)
    everything = await follows.top(GROUP, TopQuery(window="all"), START)

    assert [s.paper.arxiv_id for s in trending] == [B]
    assert [s.paper.arxiv_id for s in everything] == [B, A]
