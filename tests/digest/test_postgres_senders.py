"""Two senders on PostgreSQL share one queue: `FOR UPDATE SKIP LOCKED` splits it without doubles.

Runs only with TEST_DATABASE_URL. Each sender has its own engine, so its own connection pool, as
two `run` replicas would.
"""

from __future__ import annotations

import asyncio
import time as timer
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest
import pytest_asyncio
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.digest import dispatch_due_digests
from core.models import ChatRef
from core.ports import PaperRepository
from core.ranking import RankingConfig
from core.sending import SendReport, send_due_deliveries, send_pending_deliveries
from core.storage.database import normalize_url, session_factory
from core.storage.subscription_repository import SqlSubscriptionStore
from core.storage.subscription_tables import SubscriptionRow
from core.subscriptions import SubscriptionStore
from tests.conftest import POSTGRES, TEST_DATABASE_URL, PostgresSchema
from tests.digest.support import (
    FAR_FUTURE,
    LEASE,
    chat,
    shared_papers,
    subscription,
)
from tests.fakes import FixedClock, InMemoryPaperRepository, RecordingSink

pytestmark = [
    pytest.mark.parametrize("store", [POSTGRES]),
]

NOW = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
CHATS = 1000


def engine_for_tests() -> AsyncEngine:
    """An engine like `create_engine`'s, minus the fsync per commit this test has no use for."""
    assert TEST_DATABASE_URL is not None
    return create_async_engine(
        normalize_url(TEST_DATABASE_URL),
        pool_pre_ping=True,
        connect_args={"server_settings": {"synchronous_commit": "off"}},
    )


@pytest_asyncio.fixture
async def engines(
    store: str, postgres_schema: PostgresSchema
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = engine_for_tests(), engine_for_tests()
    await postgres_schema.reset(first)
    yield first, second
    await first.dispose()
    await second.dispose()


async def subscribe_in_bulk(engine: AsyncEngine, rooms: list[ChatRef]) -> None:
    """Subscribe every room at 07:30 UTC in one statement (a thousand `subscribe` calls take
    longer than the sending this test is about)."""
    rows = [
        {
            "platform": room.platform,
            "chat_id": room.chat_id,
            "minute_of_day": 7 * 60 + 30,
            "timezone": "UTC",
            "size": 10,
            "categories": "",
            "words": "",
            "active": True,
            "created_at": NOW,
        }
        for room in rooms
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(SubscriptionRow), rows)


async def send_until_done(
    store: SubscriptionStore, papers: PaperRepository, sink: RecordingSink
) -> int:
    """One sender's loop: small batches until a claim finds nothing; returns its rounds."""
    rounds = 0
    while await send_pending_deliveries(store, papers, {"telegram": sink}, NOW, batch=20) != (
        SendReport()
    ):
        rounds += 1
    return rounds


async def test_two_senders_on_separate_pools_send_each_digest_exactly_once(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    one, two = (SqlSubscriptionStore(session_factory(e)) for e in engines)
    rooms = [chat(f"-{100_000 + n}") for n in range(CHATS)]
    await subscribe_in_bulk(engines[0], rooms)
    assert await one.get(rooms[0]) == subscription(rooms[0], time(7, 30), created_at=NOW)
    assert await dispatch_due_digests(one, NOW) == CHATS
    papers = InMemoryPaperRepository(RankingConfig(), FixedClock(NOW))
    await shared_papers(papers, 5, at=NOW)
    first, second = RecordingSink("telegram"), RecordingSink("telegram")
    started = timer.monotonic()

    rounds = await asyncio.gather(
        send_until_done(one, papers, first), send_until_done(two, papers, second)
    )

    took = timer.monotonic() - started
    print(f"two senders sent {CHATS} digests in {took:.1f} s, in {rounds} rounds")
    assert Counter(first.chats + second.chats) == dict.fromkeys(rooms, 1)
    assert first.sent, f"the second sender did all the work: rounds {rounds}"
    assert second.sent, f"the first sender did all the work: rounds {rounds}"
    assert await two.claim(CHATS, FAR_FUTURE, LEASE) == []
    for room in (rooms[0], rooms[-1]):
        last = await two.last_delivery(room)
        assert last is not None
        assert (last.status, last.attempts) == ("sent", 1)


async def test_two_runs_that_claim_as_they_go_send_each_digest_exactly_once(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    one, two = (SqlSubscriptionStore(session_factory(e)) for e in engines)
    rooms = [chat(f"-{200_000 + n}") for n in range(CHATS)]
    await subscribe_in_bulk(engines[0], rooms)
    assert await dispatch_due_digests(one, NOW) == CHATS
    papers = InMemoryPaperRepository(RankingConfig(), FixedClock(NOW))
    await shared_papers(papers, 5, at=NOW)
    first, second = RecordingSink("telegram"), RecordingSink("telegram")
    clock = FixedClock(NOW)

    reports = await asyncio.gather(
        send_due_deliveries(one, papers, {"telegram": first}, clock, batch=20),
        send_due_deliveries(two, papers, {"telegram": second}, clock, batch=20),
    )

    assert sum(r.sent for r in reports) == CHATS
    assert Counter(first.chats + second.chats) == dict.fromkeys(rooms, 1)
    assert first.sent, f"the second run did all the work: {reports}"
    assert second.sent, f"the first run did all the work: {reports}"
    assert await two.claim(CHATS, FAR_FUTURE, LEASE) == []
