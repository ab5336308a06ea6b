"""Property: a card's trending rank is the paper's place in trending `/top`, on SQL as in the fake.

The SQL store ranks one paper without ranking them all: it counts the papers whose share key
alone beats its score, reads those whose keys may reach it and scores only the doubtful ones.
Shares and votes spread over forty days make scores from thousands of points down to ones
that round to zero, where the key bounds cannot separate and every paper is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from core.cards import card_query
from core.models import Mention, PaperStats, VoteSnapshot
from core.ports import TopQuery
from core.ranking import RankingConfig
from core.storage.database import session_factory
from core.storage.repository import SqlPaperRepository
from tests.conftest import START
from tests.fakes import FixedClock, InMemoryPaperRepository
from tests.storage.conftest import wipe

PAPERS = tuple(f"2611.{i:05d}" for i in range(1, 11))
UNTRACKED = "2611.09999"
FORTY_DAYS = 40 * 24 * 60  # minutes

ages = st.integers(min_value=0, max_value=FORTY_DAYS).map(lambda m: timedelta(minutes=m))
shares = st.lists(
    st.tuples(
        st.sampled_from(PAPERS),
        st.sampled_from(("bluesky", "x")),
        st.sampled_from(("ann", "ben", "cat", "dan", "eve")),
        ages,
    ),
    max_size=30,
)
snapshots = st.lists(
    st.tuples(
        st.sampled_from(PAPERS),
        st.sampled_from(("hackernews", "huggingface")),
        ages,
        st.integers(min_value=0, max_value=3000),
    ),
    max_size=12,
)
configs = st.sampled_from(
    (
        RankingConfig(),
        RankingConfig(weights={"x": 0.5, "huggingface": 2.0}),
        RankingConfig(weights={"hackernews": 0.05, "huggingface": 0.05}),
    )
)


def _tie(s: PaperStats) -> tuple[float, int, datetime | None, datetime | None]:
    return (round(s.score, 6), s.networks, s.last_share_at, s.paper.published)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    # One migrated database for all examples: each example wipes it and builds a new store.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shared=shares, voted=snapshots, config=configs)
async def test_card_rank_is_the_place_in_trending_top(
    sqlite_engine: AsyncEngine,
    shared: list[tuple[str, str, str, timedelta]],
    voted: list[tuple[str, str, timedelta, int]],
    config: RankingConfig,
) -> None:
    await wipe(sqlite_engine)
    clock = FixedClock(START)
    oracle = InMemoryPaperRepository(config, clock)
    store = SqlPaperRepository(session_factory(sqlite_engine), config, clock)
    mentions = [
        Mention(source, f"post-{i}", author, START - age, "post", paper)
        for i, (paper, source, author, age) in enumerate(shared)
    ]
    votes = [
        VoteSnapshot(source, f"{source}-{paper}", paper, START - age, count)
        for paper, source, age, count in voted
    ]
    for repo in (oracle, store):
        await repo.add_mentions(mentions)
        await repo.add_snapshots(votes)

    query = TopQuery(limit=len(PAPERS))
    top = [s.paper.arxiv_id for s in await store.top(query, START)]
    expected = await oracle.top(query, START)
    for paper in (*PAPERS, UNTRACKED):
        facts = await store.card(card_query(paper, START), START)
        # Exactly the place in the store's own trending list, computed the slow way.
        assert facts.rank == (top.index(paper) + 1 if paper in top else None), paper
        assert await store.rank_of(paper, "trending", START) == facts.rank
        # And the fake puts a paper tied with it on every key at that place.
        found = await oracle.card(card_query(paper, START), START)
        assert (found.rank is None) == (facts.rank is None), paper
        if facts.rank is not None and facts.stats is not None:
            assert _tie(expected[facts.rank - 1]) == _tie(facts.stats), paper
