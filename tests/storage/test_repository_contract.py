"""The PaperRepository contract, part 1: shares, votes, windows and decay.

Every test here and in the other `test_repository_contract_*` modules runs on the in-memory
fake, on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (the `repo` fixture). Each states
what a user of `/top`, `/paper` or `/new` would notice. A bug one store has is marked
`xfail(strict=True)` on that store only, so fixing it turns the suite red until the mark goes.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from core.models import ImportReport
from core.ports import PaperRepository, TopQuery
from core.ranking import RankingConfig
from tests.conftest import START, RepoFactory
from tests.fakes import FixedClock
from tests.storage.builders import (
    A,
    B,
    C,
    D,
    approx,
    counts,
    hours_ago,
    ids,
    ranked,
    share,
    votes,
)

# --- shares -------------------------------------------------------------------------------------


async def test_add_mentions_twice_changes_nothing(repo: PaperRepository) -> None:
    mentions = [share(A, "alice"), share(A, "bob"), share(B, "bob")]

    first = await repo.add_mentions(mentions)
    before = await ranked(repo)
    again = await repo.add_mentions(mentions)

    assert first == ImportReport(mentions=3, papers=2)
    assert again == ImportReport()
    assert await ranked(repo) == before == approx([(A, 2.0), (B, 1.0)])


async def test_a_batch_of_known_and_new_shares_counts_only_the_new(
    repo: PaperRepository,
) -> None:
    known = [share(A, "alice"), share(B, "bob")]
    await repo.add_mentions(known)
    carol = share(B, "carol")
    # Known shares first and last, and one new share sent twice in the batch.
    report = await repo.add_mentions([known[0], carol, share(A, "dan"), carol, known[1]])

    assert report == ImportReport(mentions=2, papers=2)
    assert sorted(await ranked(repo)) == approx([(A, 2.0), (B, 2.0)])


async def test_top_counts_a_repost_for_the_reposter(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [
            share(A, "alice", kind="post"),
            share(A, "bob", kind="repost"),
            share(A, "cy", kind="quote"),
        ]
    )

    assert await ranked(repo) == approx([(A, 3.0)])


async def test_top_counts_one_account_posting_five_times_once(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice", at=hours_ago(h)) for h in range(5)])

    [stats] = await repo.top(TopQuery(window="all"), START)
    assert (stats.score, stats.sharers) == (1.0, 1)


async def test_add_mentions_credits_every_paper_a_post_links(repo: PaperRepository) -> None:
    report = await repo.add_mentions(
        [share(A, "alice", post_id="p1"), share(B, "alice", post_id="p1")]
    )

    assert report == ImportReport(mentions=2, papers=2)
    assert sorted(await ranked(repo)) == approx([(A, 1.0), (B, 1.0)])


async def test_top_counts_unique_sharers_per_network(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [
            share(A, "alice", source="bluesky"),
            share(A, "alice", source="mastodon"),
            share(A, "bob", source="mastodon"),
            share(A, "bob", source="mastodon", at=hours_ago(1)),
        ]
    )

    [stats] = await repo.top(TopQuery(window="all"), START)
    assert stats.score == 3.0
    assert counts(stats) == {"mastodon": (2, 0), "bluesky": (1, 0)}
    assert stats.networks == 2


# --- votes --------------------------------------------------------------------------------------


async def test_top_counts_votes_gained_since_the_last_snapshot_before_the_window(
    repo: PaperRepository,
) -> None:
    await repo.add_snapshots(
        [
            votes(A, 10, at=hours_ago(72)),
            votes(A, 25, at=hours_ago(30)),
            votes(A, 40, at=hours_ago(2)),
        ]
    )

    assert await ranked(repo, "day") == approx([(A, math.log2(1 + 15))])  # 40 - 25
    # The first snapshot inside a window counts fully: no baseline before the week opened.
    assert await ranked(repo, "week") == approx([(A, math.log2(1 + 40))])


async def test_top_counts_an_item_first_seen_inside_the_window_fully(repo: PaperRepository) -> None:
    await repo.add_snapshots([votes(A, 15, at=hours_ago(3))])

    [stats] = await repo.top(TopQuery(window="day"), START)
    assert stats.score == pytest.approx(4.0)
    assert counts(stats) == {"hackernews": (0, 15)}


async def test_top_adds_the_items_of_one_source_before_compressing(repo: PaperRepository) -> None:
    await repo.add_snapshots([votes(A, 3, item="story-1"), votes(A, 4, item="story-2")])

    assert await ranked(repo) == approx([(A, 3.0)])  # log2(1 + 3 + 4)


async def test_top_compresses_votes_logarithmically(repo: PaperRepository) -> None:
    await repo.add_snapshots([votes(A, 1023), votes(B, 7), votes(C, 1)])
    await repo.add_mentions([share(D, "alice"), share(D, "bob")])

    assert await ranked(repo) == approx([(A, 10.0), (B, 3.0), (D, 2.0), (C, 1.0)])


async def test_add_snapshots_twice_changes_nothing(repo: PaperRepository) -> None:
    snapshots = [votes(A, 5, at=hours_ago(5)), votes(A, 9, at=hours_ago(1))]

    assert await repo.add_snapshots(snapshots) == 2
    assert await repo.add_snapshots(snapshots) == 0
    assert await ranked(repo, "day") == approx([(A, math.log2(10))])


async def test_top_ignores_votes_lost_since_the_window_opened(repo: PaperRepository) -> None:
    await repo.add_snapshots([votes(A, 20, at=hours_ago(48)), votes(A, 12, at=hours_ago(1))])
    await repo.add_mentions([share(B, "alice")])

    assert await ranked(repo, "day") == approx([(B, 1.0)])


async def test_top_applies_per_source_weights(make_repo: RepoFactory) -> None:
    repo = await make_repo(RankingConfig(weights={"x": 3.0, "hackernews": 0.5}))
    await repo.add_mentions([share(A, "alice", source="x"), share(B, "bob"), share(B, "cy")])
    await repo.add_snapshots([votes(C, 255)])

    assert await ranked(repo) == approx([(C, 4.0), (A, 3.0), (B, 2.0)])
    assert await ranked(repo, "trending") == approx([(C, 4.0), (A, 3.0), (B, 2.0)])


# --- windows and decay --------------------------------------------------------------------------


async def test_top_windows_let_shares_go_as_time_passes(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_mentions([share(A, "alice", at=hours_ago(23)), share(B, "bob")])

    async def windows() -> dict[str, list[str]]:
        now = clock.now()
        return {w: sorted(await ids(repo, w, now)) for w in ("day", "week", "month", "all")}

    assert await windows() == {"day": [A, B], "week": [A, B], "month": [A, B], "all": [A, B]}
    clock.advance(timedelta(hours=2))  # A is 25 h old
    await repo.sweep(clock.now())
    assert await windows() == {"day": [B], "week": [A, B], "month": [A, B], "all": [A, B]}
    clock.advance(timedelta(days=6))  # A is 7 days and 1 h old, B 6 days and 2 h
    await repo.sweep(clock.now())
    assert await windows() == {"day": [], "week": [B], "month": [A, B], "all": [A, B]}
    clock.advance(timedelta(days=23))  # A is 30 days and 1 h old
    await repo.sweep(clock.now())
    assert await windows() == {"day": [], "week": [], "month": [B], "all": [A, B]}
    clock.advance(timedelta(days=1))
    await repo.sweep(clock.now())
    assert await windows() == {"day": [], "week": [], "month": [], "all": [A, B]}


async def test_top_day_window_holds_a_share_exactly_one_day_old(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_mentions([share(A, "alice", at=START - timedelta(days=1))])

    assert await ids(repo, "day", clock.now()) == [A]
    clock.advance(timedelta(minutes=2))
    await repo.sweep(clock.now())
    assert await ids(repo, "day", clock.now()) == []


async def test_top_windows_count_a_sharer_by_their_latest_share(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_mentions(
        [share(A, "alice", at=hours_ago(50)), share(A, "alice", at=hours_ago(3))]
    )

    assert await ranked(repo, "day") == approx([(A, 1.0)])
    clock.advance(timedelta(hours=22))
    await repo.sweep(clock.now())
    assert await ranked(repo, "day", clock.now()) == []


async def test_top_window_votes_move_as_snapshots_leave(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_snapshots([votes(A, 8, at=hours_ago(20)), votes(A, 15, at=hours_ago(2))])

    assert await ranked(repo, "day") == approx([(A, 4.0)])  # everything counts: log2(1 + 15)
    clock.advance(timedelta(hours=6))  # the 8-vote snapshot is now the baseline
    await repo.sweep(clock.now())
    assert await ranked(repo, "day", clock.now()) == approx([(A, 3.0)])  # log2(1 + 7)
    clock.advance(timedelta(hours=20))
    await repo.sweep(clock.now())
    assert await ranked(repo, "day", clock.now()) == []


async def test_top_trending_halves_a_share_a_day_old(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "alice"), share(B, "bob", at=hours_ago(24))])
    await repo.add_snapshots([votes(C, 6, at=hours_ago(24))])

    # Six votes gained a day ago: log2(1 + 6) points, halved.
    assert await ranked(repo, "trending") == approx([(C, math.log2(7) / 2), (A, 1.0), (B, 0.5)])


async def test_top_trending_decays_each_sharer_from_their_first_share(
    repo: PaperRepository,
) -> None:
    await repo.add_mentions([share(A, "alice", at=hours_ago(48)), share(A, "alice")])

    assert await ranked(repo, "trending") == approx([(A, 0.25)])


async def test_top_trending_order_changes_as_time_passes(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_mentions(
        [share(A, f"old-{i}", at=hours_ago(48)) for i in range(3)] + [share(B, "new")]
    )

    assert await ranked(repo, "trending") == approx([(B, 1.0), (A, 0.75)])
    clock.advance(timedelta(hours=24))
    await repo.add_mentions([share(A, "late", at=clock.now())])
    assert await ranked(repo, "trending", clock.now()) == approx([(A, 1.375), (B, 0.5)])


async def test_top_trending_uses_the_half_life_from_config(make_repo: RepoFactory) -> None:
    repo = await make_repo(RankingConfig(half_life=timedelta(hours=6)))
    await repo.add_mentions([share(A, "alice", at=hours_ago(12))])

    assert await ranked(repo, "trending") == approx([(A, 0.25)])
