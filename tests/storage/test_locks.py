"""Named locks: in-process ones, and PostgreSQL advisory locks seen from two engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.locks import InProcessLocks, LockLost, Locks
from core.storage.database import create_engine, normalize_url
from core.storage.locks import APPLICATION_NAME, PostgresLocks, lock_key, locks_for
from tests.conftest import POSTGRES, TEST_DATABASE_URL

Engines = tuple[AsyncEngine, AsyncEngine]

# The PostgreSQL tests take the marks of the `postgres` store: skipped without
# TEST_DATABASE_URL, sockets allowed to its host only.
postgres = pytest.mark.parametrize("backend", [POSTGRES])


async def test_in_process_lock_is_taken_once_until_released() -> None:
    locks = InProcessLocks()
    async with locks.hold("source:x") as first:
        async with locks.hold("source:x") as second, locks.hold("source:y") as other:
            assert (first, second, other) == (True, False, True)
        assert locks.held("source:x")
    assert not locks.held("source:x")
    async with locks.hold("source:x") as again:
        assert again


async def test_in_process_lock_is_released_when_the_block_fails() -> None:
    locks = InProcessLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("source:x"):
            raise RuntimeError("poll failed")
    assert not locks.held("source:x")


def test_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    keys = {lock_key(f"source:{n}") for n in ("bluesky", "hackernews", "x", "reddit")}
    assert len(keys) == 4
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert lock_key("source:x") == lock_key("source:x")


async def test_sqlite_gets_in_process_locks() -> None:
    engine = create_engine(normalize_url("sqlite://"))
    try:
        assert isinstance(locks_for(engine), InProcessLocks)
        with pytest.raises(ValueError, match="PostgreSQL"):
            PostgresLocks(engine)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def engines(backend: str) -> AsyncIterator[Engines]:
    """Two engines on the test database, as two processes would have."""
    assert backend == "postgres"
    assert TEST_DATABASE_URL is not None
    url = normalize_url(TEST_DATABASE_URL)
    first, second = create_engine(url), create_engine(url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def _free(locks: Locks, name: str) -> bool:
    async with locks.hold(name) as held:
        return held


async def _drop_lock_connections(engine: AsyncEngine) -> int:
    """End every lock connection's session, as a network failure or a server restart would."""
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        return len(result.all())


@postgres
async def test_postgres_lock_held_by_one_engine_is_refused_to_another(engines: Engines) -> None:
    first, second = engines
    mine, theirs = PostgresLocks(first), PostgresLocks(second)
    assert isinstance(locks_for(first), PostgresLocks)
    async with mine.hold("source:hackernews") as held:
        assert held
        assert not await _free(theirs, "source:hackernews")
        assert await _free(theirs, "source:mastodon")  # other names stay free
    assert await _free(theirs, "source:hackernews")  # released on exit


@postgres
async def test_postgres_lock_is_released_when_the_block_fails(engines: Engines) -> None:
    first, second = engines
    with pytest.raises(RuntimeError):
        async with PostgresLocks(first).hold("source:x"):
            raise RuntimeError("poll failed")
    assert await _free(PostgresLocks(second), "source:x")


@postgres
async def test_postgres_lock_goes_with_its_connection(engines: Engines) -> None:
    first, second = engines
    holder = PostgresLocks(first, check_seconds=60)  # not noticed yet: the database decides
    theirs = PostgresLocks(second)
    async with holder.hold("source:bluesky") as held:
        assert held
        assert not await _free(theirs, "source:bluesky")
        assert await _drop_lock_connections(second) == 1
        assert await _free(theirs, "source:bluesky")


@postgres
async def test_postgres_lock_holder_stops_once_its_connection_drops(engines: Engines) -> None:
    first, second = engines
    holder = PostgresLocks(first, check_seconds=0.05)
    body_done = False

    async def hold_while_the_connection_drops() -> None:
        nonlocal body_done
        async with holder.hold("source:bluesky") as held:
            assert held
            await _drop_lock_connections(second)
            await asyncio.sleep(5)  # the watchdog cancels this long before
            body_done = True

    with pytest.raises(LockLost, match="source:bluesky"):
        await hold_while_the_connection_drops()
    assert not body_done
    assert await _free(PostgresLocks(second), "source:bluesky")


@postgres
async def test_postgres_lock_passes_on_the_blocks_own_timeout(engines: Engines) -> None:
    first, _ = engines

    async def time_out_while_holding() -> None:
        async with PostgresLocks(first, check_seconds=60).hold("source:x") as held:
            assert held
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)

    with pytest.raises(TimeoutError):
        await time_out_while_holding()
