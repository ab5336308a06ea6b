"""Property: the SQL store ranks exactly like the brute-force fake, in every window, as time passes.

The fake recomputes every score from raw rows; the SQL store keeps scores per paper, a trending
key written on insert and window counts that a sweep brings forward. Any drift in those shows up
here as a different order or score: trending at any moment, windows right after a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import WINDOWS, Mention, PaperStats, VoteSnapshot, Window
from core.ports import PaperRepository, TopQuery
from core.ranking import RankingConfig
from core.storage.database import session_factory
from core.storage.repository import SqlPaperRepository
from tests.conftest import START
from tests.fakes import FixedClock, InMemoryPaperRepository
from tests.storage.conftest import wipe

PAPERS = ("2611.00001", "2611.00002", "2611.00003", "2611.00004", "2611.00005")
# Shares and votes come from different sources here: a source with both is a known SQL bug
# (see test_top_counts_shares_and_votes_of_one_source_as_one_network).
SHARE_SOURCES = ("bluesky", "x")
VOTE_SOURCES = ("hackernews", "huggingface")
CONFIG = RankingConfig(weights={"x": 0.5, "huggingface": 2.0})
FORTY_DAYS = 40 * 24 * 60  # minutes

ages = st.integers(min_value=0, max_value=FORTY_DAYS).map(lambda m: timedelta(minutes=m))


@dataclass(frozen=True)
class Round:
    """Rows a poll delivers, with times relative to the clock when they arrive."""

    shares: tuple[tuple[str, str, str, str, timedelta], ...]
    snapshots: tuple[tuple[str, str, str, timedelta, int], ...]
    then: timedelta  # how long until the next round

    def mentions(self, now: datetime) -> list[Mention]:
        return [
            Mention(source, f"post-{post}", author, now - age, "post", paper)
            for paper, source, author, post, age in self.shares
        ]

    def votes(self, now: datetime) -> list[VoteSnapshot]:
        return [
            VoteSnapshot(source, item, paper, now - age, count)
            for paper, source, item, age, count in self.snapshots
        ]


# Gains of 1, 3 and 7 votes score whole points, like shares: they make the ties that
# tie-breaks decide.
votes = st.sampled_from((1, 3, 7)) | st.integers(min_value=0, max_value=300)

rounds = st.builds(
    Round,
    shares=st.lists(
        st.tuples(
            st.sampled_from(PAPERS),
            st.sampled_from(SHARE_SOURCES),
            st.sampled_from(("ann", "ben", "cat", "dan")),
            st.sampled_from(tuple(str(i) for i in range(12))),
            ages,
        ),
        max_size=14,
    ).map(tuple),
    snapshots=st.lists(
        st.tuples(
            st.sampled_from(PAPERS),
            st.sampled_from(VOTE_SOURCES),
            st.sampled_from(("item-1", "item-2")),
            ages,
            votes,
        ),
        max_size=8,
    ).map(tuple),
    then=st.integers(min_value=1, max_value=24 * 45).map(lambda h: timedelta(hours=h)),
)


def _tie(s: PaperStats) -> tuple[float, int, datetime | None, datetime | None]:
    return (round(s.score, 6), s.networks, s.last_share_at, s.paper.published)


def _counts(s: PaperStats) -> list[tuple[str, int, int]]:
    return [(c.source, c.sharers, c.votes) for c in s.sources]


def _same_ranking(expected: Sequence[PaperStats], found: Sequence[PaperStats]) -> None:
    """Same papers, scores and counts, in the same order up to papers tied on every key."""
    assert {s.paper.arxiv_id for s in found} == {s.paper.arxiv_id for s in expected}
    by_id = {s.paper.arxiv_id: s for s in found}
    for want in expected:
        got = by_id[want.paper.arxiv_id]
        assert abs(got.score - want.score) <= 1e-6, (want, got)
        assert _counts(got) == _counts(want), (want, got)
        assert got.last_share_at == want.last_share_at, (want, got)
    assert [_tie(s) for s in found] == [_tie(s) for s in expected]


async def _compare(
    oracle: PaperRepository, store: PaperRepository, now: datetime, windows: Sequence[Window]
) -> None:
    for window in windows:
        query = TopQuery(window=window, limit=len(PAPERS))
        _same_ranking(await oracle.top(query, now), await store.top(query, now))


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    # One migrated database for all examples: each example wipes it and builds a new store.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(rounds, min_size=1, max_size=2))
async def test_sql_store_ranks_like_the_fake_in_every_window(
    sqlite_engine: AsyncEngine, plan: list[Round]
) -> None:
    await wipe(sqlite_engine)
    clock = FixedClock(START)
    oracle = InMemoryPaperRepository(CONFIG, clock)
    store = SqlPaperRepository(session_factory(sqlite_engine), CONFIG, clock)
    for step in plan:
        for repo in (oracle, store):
            await repo.add_mentions(step.mentions(clock.now()))
            await repo.add_snapshots(step.votes(clock.now()))
        await _compare(oracle, store, clock.now(), WINDOWS)
        clock.advance(step.then)
        # Trending is exact at any moment; the windows once the sweep has caught up.
        await _compare(oracle, store, clock.now(), ["trending"])
        await store.sweep(clock.now())
        await _compare(oracle, store, clock.now(), WINDOWS)
