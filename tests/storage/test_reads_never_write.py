"""Reads never write: `/top`, `/new`, `/paper`, `/search` answer from stored scores as they are.

So they answer while another process holds SQLite's write lock, while the disk is full, and
for a PostgreSQL role that may only SELECT; and as time passes, only the sweep moves windows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.cards import card_query
from core.models import ChatRef, SourceHealth
from core.ports import TopQuery
from core.ranking import RankingConfig
from core.storage.database import create_engine, normalize_url, session_factory, upgrade
from core.storage.ranking_reads import reading
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.subscriptions import Subscription
from tests.conftest import POSTGRES, START, TEST_DATABASE_URL, admin
from tests.fakes import FixedClock
from tests.storage.builders import A, B, C, described, hours_ago, share, votes

READS = ("top", "top week", "paper", "new", "search")


async def _fill(repo: SqlPaperRepository) -> None:
    await repo.save_papers([described(A, "Attention", published=START), described(B, "Norms")])
    await repo.add_mentions(
        [share(A, "ann"), share(A, "bob", source="x"), share(B, "cy", at=hours_ago(30))]
    )
    await repo.add_snapshots([votes(C, 12)])
    await repo.record_health(SourceHealth("hackernews", consecutive_failures=3))


async def _read_everything(repo: SqlPaperRepository, now: Any) -> dict[str, Any]:
    """What a user asking each read command gets, as comparable values."""
    return {
        "top": [s.paper.arxiv_id for s in await repo.top(TopQuery(), now)],
        "top week": [s.paper.arxiv_id for s in await repo.top(TopQuery(window="week"), now)],
        "paper": await repo.card(card_query(A, now), now),
        "new": [s.paper.arxiv_id for s in await repo.newest(10, 0)],
        "search": [s.paper.arxiv_id for s in await repo.search(["attention"], 5, now)],
        # What `/top`'s empty note and a digest's footer read.
        "empty": await repo.is_empty(),
        "health": await repo.health(),
    }


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return str(tmp_path / "store.sqlite3")


@pytest_asyncio.fixture
async def file_engine(sqlite_file: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(normalize_url(f"sqlite:///{sqlite_file}"))
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _record_statements(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return statements


async def test_reads_issue_only_selects_however_time_has_passed(file_engine: AsyncEngine) -> None:
    clock = FixedClock(START)
    repo = SqlPaperRepository(session_factory(file_engine), RankingConfig(), clock)
    await _fill(repo)
    statements = _record_statements(file_engine)

    for later in (timedelta(0), timedelta(minutes=1), timedelta(days=2)):
        await _read_everything(repo, clock.advance(later))

    assert statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements), [
        s for s in statements if not s.lstrip().upper().startswith("SELECT")
    ]


async def test_windows_move_with_the_sweep_not_with_reads(file_engine: AsyncEngine) -> None:
    clock = FixedClock(START)
    repo = SqlPaperRepository(session_factory(file_engine), RankingConfig(), clock)
    await repo.add_mentions([share(A, "ann", at=hours_ago(23)), share(B, "bob")])
    clock.advance(timedelta(hours=2))  # A's share is 25 h old

    # Until a sweep, the day window is as of the last one; trending is exact at any moment.
    assert [s.paper.arxiv_id for s in await repo.top(TopQuery(window="day"), clock.now())] == [
        B,
        A,
    ]
    report = await repo.sweep(clock.now())
    assert report.steps >= 1
    assert [s.paper.arxiv_id for s in await repo.top(TopQuery(window="day"), clock.now())] == [B]


async def test_reads_answer_while_another_process_holds_the_write_lock(
    file_engine: AsyncEngine, sqlite_file: str
) -> None:
    clock = FixedClock(START)
    repo = SqlPaperRepository(session_factory(file_engine), RankingConfig(), clock)
    await _fill(repo)
    expected = await _read_everything(repo, clock.advance(timedelta(hours=3)))

    other = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, held by another process
        other.execute("UPDATE papers SET title = 'elsewhere' WHERE arxiv_id = ?", (C,))
        assert await _read_everything(repo, clock.now()) == expected
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_reads_answer_when_the_disk_is_full(file_engine: AsyncEngine) -> None:
    clock = FixedClock(START)
    repo = SqlPaperRepository(session_factory(file_engine), RankingConfig(), clock)
    await _fill(repo)
    expected = await _read_everything(repo, clock.advance(timedelta(hours=3)))

    def full(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(file_engine.sync_engine, "before_cursor_execute", full)
    with pytest.raises(OperationalError, match="disk is full"):
        await repo.add_mentions([share(B, "dee")])  # a write fails, and says why
    assert await _read_everything(repo, clock.now()) == expected


@pytest.mark.parametrize("store", [POSTGRES])
async def test_a_role_that_may_only_select_serves_every_read(store: str) -> None:
    assert TEST_DATABASE_URL is not None
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_select_only"
    await admin(
        TEST_DATABASE_URL,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
        "DROP ROLE IF EXISTS ranking_reader",
        "CREATE ROLE ranking_reader LOGIN",
    )
    url = base.set(database=name).render_as_string(hide_password=False)
    owner = create_engine(normalize_url(url))
    reader_url = make_url(url).set(username="ranking_reader", password=None)
    reader_engine = create_engine(normalize_url(reader_url.render_as_string(hide_password=False)))
    clock = FixedClock(START)
    try:
        await upgrade(owner)
        writer = SqlPaperRepository(session_factory(owner), RankingConfig(), clock)
        await _fill(writer)
        expected = await _read_everything(writer, clock.now())
        async with owner.begin() as connection:
            await connection.execute(
                text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ranking_reader")
            )
        reader = SqlPaperRepository(session_factory(reader_engine), RankingConfig(), clock)

        assert await _read_everything(reader, clock.now()) == expected
        with pytest.raises(DBAPIError, match="permission denied"):
            await reader.add_mentions([share(B, "dee")])  # the role really cannot write
    finally:
        await reader_engine.dispose()
        await owner.dispose()
        await admin(
            TEST_DATABASE_URL,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            "DROP ROLE IF EXISTS ranking_reader",
        )


@pytest.mark.parametrize("store", [POSTGRES])
async def test_reads_run_in_read_only_transactions_on_postgresql(
    store_engine: AsyncEngine,
) -> None:
    factory = session_factory(store_engine)
    async with reading(factory) as connection:
        assert (await connection.execute(text("SHOW transaction_read_only"))).scalar() == "on"
    async with factory() as session:  # and the pooled connection is not left read-only
        assert (await session.execute(text("SHOW transaction_read_only"))).scalar() == "off"


@pytest.mark.parametrize("store", ["sqlite", POSTGRES])
async def test_digest_cursor_and_metadata_reads_run_read_only(store_engine: AsyncEngine) -> None:
    factory = session_factory(store_engine)
    repo = SqlPaperRepository(factory, RankingConfig(), FixedClock(START))
    subscriptions = SqlSubscriptionStore(factory)
    chat = ChatRef("telegram", "42")
    await _fill(repo)
    subscription = Subscription(chat, categories=("cs.LG",), created_at=START)
    await subscriptions.subscribe(subscription)
    seen: list[tuple[str, bool]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, *_: Any
    ) -> None:
        seen.append((statement, bool(context.execution_options.get("postgresql_readonly"))))

    event.listen(store_engine.sync_engine, "before_cursor_execute", record)
    try:
        assert [s.chat for s in await subscriptions.active()] == [chat]
        assert await subscriptions.get(chat) == subscription
        assert await subscriptions.recently_sent_to([chat], START) == {chat: set()}
        assert await subscriptions.last_delivery(chat) is None
        assert await repo.get_cursor("bluesky") is None
        assert await repo.missing_metadata(5) == [C]  # the voted paper arXiv has not described
    finally:
        event.remove(store_engine.sync_engine, "before_cursor_execute", record)

    assert seen
    assert [statement for statement, read_only in seen if not read_only] == []
