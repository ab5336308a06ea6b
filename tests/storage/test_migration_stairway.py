"""Every revision's data survives the upgrade to the newest schema (a "stairway" test).

For every revision in the migrations' history, on SQLite and PostgreSQL: migrate an empty
database up to that revision, write the rows an installation at that revision held with plain
SQL (papers, shares, sharers, signals, vote snapshots, cursors, health, subscriptions,
deliveries, sent papers), upgrade to the newest revision, and read everything back through
the real stores. What they answer must equal what a database that was at the newest revision
all along answers after the same story (`tell_*`), through the same code: ranks, scores, cards,
cursors, subscriptions, the digests sent and due, and what the next share does to the ranks.
Where a downgrade exists, the round trip down to the revision and up again keeps the rows too.

Adding a migration:
- If it changes no columns (an index, a constraint), add nothing: its revision holds the rows
  of the revision before it.
- Otherwise add one seeding step to SEEDS, keyed by its revision: the same rows written as the
  new schema holds them (in tests/storage/stairway_rows.py: copy the previous rows and change
  what the migration changes). A new table needs its rows there too (the test checks that every
  table has an entry), and a new `tell_*` part of the story if the stores write it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import ChatRef, Mention, Paper, SourceHealth, VoteSnapshot
from core.ports import Account, Batch, TopQuery
from core.ranking import RankingConfig
from core.storage.database import (
    create_engine,
    current_revision,
    downgrade,
    revisions,
    session_factory,
    upgrade,
)
from core.storage.follow_lists import SqlFollowLists
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.storage.types import sqlite_text
from core.subscriptions import NewDelivery, Subscription
from tests.fakes import FixedClock
from tests.scratch import BACKENDS, empty_database
from tests.storage.stairway_rows import (
    DIGEST_ROWS,
    DIGEST_ROWS_0006,
    FOLLOW_ROWS,
    FOLLOW_ROWS_0008,
    SIGNAL_ROWS,
    SIGNAL_ROWS_0005,
    SIGNAL_ROWS_0007,
    SIGNAL_ROWS_0010,
    Rows,
)


def _t(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


# --- the story: what the stores were asked to do, at NOW ---------------------------------------

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
A, B, C = "2401.00001", "2401.00002", "2401.00003"
H = timedelta(hours=1)
PAPERS = (
    Paper(A, "Attention Sinks", ("Ann Lee", "Bo Chen"), "Sinks keep long contexts stable.",
          ("cs.LG", "cs.CL"), NOW - 48 * H, NOW - 48 * H, 2),
    Paper(B, "Sparse Experts", ("Cy Diaz",), "Mixtures for tabular data.", ("stat.ML",),
          NOW - 72 * H, NOW - 72 * H, 1),
)  # fmt: skip
BLUESKY = (
    Mention("bluesky", "at://alice/1", "alice.bsky.social", NOW - 1 * H, "post", A, 2,
            "https://arxiv.org/abs/2401.00001v2", "Sinks!", 3),
    Mention("bluesky", "at://bob/1", "bob.bsky.social", NOW - 2 * H, "repost", A),
    Mention("bluesky", "at://dave/1", "dave.bsky.social", NOW - 5 * H, "post", B),
)  # fmt: skip
OTHERS = (
    Mention("mastodon", "https://m.example/@carol/1", "carol@m.example", NOW - 3 * H, "post", A),
    Mention("x", "1860000000000000001", "erin", NOW - 30 * H, "quote", B),
    Mention("mastodon", "https://m.example/@frank/1", "frank@m.example", NOW - 240 * H, "post", C),
)
HN = "https://news.ycombinator.com/item?id=41000001"
VOTES = (
    VoteSnapshot("hackernews", "41000001", B, NOW - 20 * H, 10, 2, HN, "Sparse Experts"),
    VoteSnapshot("hackernews", "41000001", B, NOW - 2 * H, 60, 14, HN, "Sparse Experts"),
)
HEALTH = (
    SourceHealth("hackernews", NOW - 2 * H, None, None, 2, 0),
    SourceHealth("x", NOW - 30 * H, "HTTP 429 from api.x.com", NOW - 1 * H, 1, 2),
)
GROUP = ChatRef("telegram", "-1001234")
SERVER = ChatRef("discord", "987654321")
SUBSCRIPTIONS = (
    Subscription(GROUP, time(7, 30), "Europe/Berlin", 5, ("cs.LG",), (), True, NOW - 96 * H),
    Subscription(SERVER, time(9, 0), "UTC", 3, (), ("experts",), True, NOW - 96 * H),
)
TODAY = date(2026, 11, 26)


async def tell_signals(repo: SqlPaperRepository, *_others: object) -> None:
    await repo.commit_batch("bluesky", Batch(mentions=BLUESKY, cursor="1764158400000000"))
    await repo.add_mentions(OTHERS)
    await repo.commit_batch("hackernews", Batch(snapshots=VOTES, cursor="1764154800"))
    await repo.save_papers(PAPERS)
    for health in HEALTH:
        await repo.record_health(health)


async def tell_digests(
    _repo: SqlPaperRepository, subscriptions: SqlSubscriptionStore, *_others: object
) -> None:
    for subscription in SUBSCRIPTIONS:
        await subscriptions.subscribe(subscription)
    # The group's digest went out this morning with paper A; the server's is still due.
    await subscriptions.enqueue([NewDelivery(GROUP, TODAY, NOW - 4.5 * H, "pending")])
    [sent] = await subscriptions.claim(10, NOW - 4 * H, 300)
    await subscriptions.finish(sent.id, "sent", _t("2026-11-26 08:00:02"), message_id="77",
                               papers=(A,))  # fmt: skip
    await subscriptions.enqueue([NewDelivery(SERVER, TODAY, NOW - 3 * H, "pending")])


async def tell_follows(
    _repo: SqlPaperRepository, _subscriptions: SqlSubscriptionStore, follows: SqlFollowLists
) -> None:
    # Alice is followed by DID and her shares name her handle; Carol by `user@instance`.
    alice = Account("bluesky", "did:plc:alice", "alice.bsky.social")
    carol = Account("mastodon", "carol@m.example", "carol@m.example")
    await follows.add(GROUP, [alice, carol], NOW)


Story = Callable[[SqlPaperRepository, SqlSubscriptionStore, SqlFollowLists], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Seed:
    """The rows an installation held at a revision, and the parts of the story they tell."""

    rows: Rows
    story: tuple[Story, ...]


# One seeding step per revision whose columns changed; see the module's docstring.
SEEDS: dict[str, Seed] = {
    "0001": Seed(SIGNAL_ROWS, (tell_signals,)),
    "0002": Seed(SIGNAL_ROWS | DIGEST_ROWS, (tell_signals, tell_digests)),
    "0005": Seed(SIGNAL_ROWS_0005 | DIGEST_ROWS, (tell_signals, tell_digests)),
    "0006": Seed(
        SIGNAL_ROWS_0005 | DIGEST_ROWS_0006 | FOLLOW_ROWS,
        (tell_signals, tell_digests, tell_follows),
    ),
    "0007": Seed(
        SIGNAL_ROWS_0007 | DIGEST_ROWS_0006 | FOLLOW_ROWS,
        (tell_signals, tell_digests, tell_follows),
    ),
    "0008": Seed(
        SIGNAL_ROWS_0007 | DIGEST_ROWS_0006 | FOLLOW_ROWS_0008,
        (tell_signals, tell_digests, tell_follows),
    ),
    "0010": Seed(
        SIGNAL_ROWS_0010 | DIGEST_ROWS_0006 | FOLLOW_ROWS_0008,
        (tell_signals, tell_digests, tell_follows),
    ),
}


def seed_at(revision: str) -> Seed:
    """The seeding step of `revision`: its own, or the one of the newest revision before it."""
    history = revisions()
    steps = [r for r in history[: history.index(revision) + 1] if r in SEEDS]
    return SEEDS[steps[-1]]


async def write(engine: AsyncEngine, rows: Rows) -> None:
    """Insert the rows with plain SQL, in the order given (ids come from that order)."""
    sqlite = engine.dialect.name == "sqlite"

    def bound(value: object) -> object:
        # SQLite keeps times as the text SQLAlchemy writes; PostgreSQL takes the values.
        if sqlite and isinstance(value, datetime):
            return sqlite_text(value)
        if sqlite and isinstance(value, date):
            return value.isoformat()
        return value

    async with engine.begin() as connection:
        for table, table_rows in rows.items():
            for row in table_rows:
                columns = ", ".join(row)
                values = ", ".join(f":{c}" for c in row)
                statement = text(f"INSERT INTO {table} ({columns}) VALUES ({values})")
                await connection.execute(statement, {c: bound(v) for c, v in row.items()})


def stores(engine: AsyncEngine) -> tuple[SqlPaperRepository, SqlSubscriptionStore, SqlFollowLists]:
    factory = session_factory(engine)
    return (
        SqlPaperRepository(factory, RankingConfig(), FixedClock(NOW)),
        SqlSubscriptionStore(factory),
        SqlFollowLists(factory, RankingConfig()),
    )


async def observe(engine: AsyncEngine) -> dict[str, object]:
    """What the stores answer about the story, then what a new share and a send do."""
    repo, subscriptions, follows = stores(engine)
    # What `trending-arxiv db upgrade` does after migrating: scores the migration left to
    # recompute (0005 drops the old trending keys) are recomputed before anyone reads them.
    await repo.sweep(NOW)
    seen: dict[str, object] = {}
    for window in ("trending", "day", "week", "month", "all"):
        seen[f"top {window}"] = await repo.top(TopQuery(window=window), NOW)  # type: ignore[arg-type]
    seen["top cs.LG"] = await repo.top(TopQuery(category="cs.LG"), NOW)
    seen["search"] = await repo.search(["experts"], 10, NOW)
    seen["new"] = await repo.newest(10, 0)
    for paper in (A, B, C):
        seen[f"paper {paper}"] = await repo.get_paper(paper)
        seen[f"rank {paper}"] = await repo.rank_of(paper, "trending", NOW)
        seen[f"posts {paper}"] = await repo.top_posts(paper, 5)
        seen[f"days {paper}"] = await repo.daily_shares(paper, NOW - 13 * 24 * H, 14)
    seen["discussions"] = await repo.discussions(B, 5)
    seen["cursors"] = [await repo.get_cursor(s) for s in ("bluesky", "hackernews", "x")]
    seen["health"] = sorted(await repo.health(), key=lambda h: h.source)
    seen["subscriptions"] = sorted(await subscriptions.active(), key=lambda s: s.chat.platform)
    seen["last delivery"] = [await subscriptions.last_delivery(c) for c in (GROUP, SERVER)]
    seen["sent this week"] = await subscriptions.recently_sent(GROUP, NOW - 7 * 24 * H)
    seen["due now"] = await subscriptions.claim(10, NOW, 300)
    seen["follows"] = await follows.page(GROUP, 10, 0)
    seen["top following"] = await follows.top(GROUP, TopQuery(window="week"), NOW)
    # The stored scores go on from where they were: a new share moves C up.
    await repo.add_mentions([Mention("bluesky", "at://gus/1", "gus.bsky.social", NOW, "post", C)])
    seen["top after a share"] = await repo.top(TopQuery(window="trending"), NOW)
    seen["/top all"] = [s.paper.arxiv_id for s in await repo.top(TopQuery(window="all"), NOW)]
    return seen


async def expected(url: str, seed: Seed) -> dict[str, object]:
    """What a database at the newest revision all along answers after the same story."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        for part in seed.story:
            await part(*stores(engine))
        return await observe(engine)
    finally:
        await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


@pytest.fixture(params=BACKENDS)
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases on one backend: the one migrated, and the one at head all along."""
    with (
        empty_database(request.param, tmp_path) as first,
        empty_database(request.param, tmp_path) as second,
    ):
        yield first, second


@pytest.mark.parametrize("revision", revisions())
async def test_rows_of_every_revision_survive_the_upgrade_to_the_newest(
    two_databases: tuple[str, str], revision: str
) -> None:
    url, reference = two_databases
    seed = seed_at(revision)
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
        assert set(seed.rows) == await tables(engine), "a table without seeded rows"
        await write(engine, seed.rows)

        await upgrade(engine)

        assert await current_revision(engine) == revisions()[-1]
        found = await observe(engine)
    finally:
        await engine.dispose()
    assert found == await expected(reference, seed)
    # B's two sharers and 60 Hacker News points, then A's three sharers, then C's two.
    assert found["/top all"] == [B, A, C]


@pytest.mark.parametrize("revision", revisions()[:-1])
async def test_downgrade_to_every_revision_and_back_keeps_its_rows(
    two_databases: tuple[str, str], revision: str
) -> None:
    url, reference = two_databases
    seed = seed_at(revision)
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
        await write(engine, seed.rows)
        await upgrade(engine)

        await downgrade(engine, revision)
        assert await current_revision(engine) == revision
        assert set(seed.rows) == await tables(engine)
        await upgrade(engine)

        found = await observe(engine)
    finally:
        await engine.dispose()
    assert found == await expected(reference, seed)


def test_every_seeding_step_is_a_revision_and_the_first_has_one() -> None:
    assert set(SEEDS) <= set(revisions())
    assert revisions()[0] in SEEDS
