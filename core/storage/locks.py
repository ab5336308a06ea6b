"""`PostgresLocks`: the `core.locks.Locks` port on PostgreSQL session advisory locks.

Each held lock has a connection of its own, opened to take it and closed when the block exits.
PostgreSQL releases a session's advisory locks when the session ends, so a process that dies,
or whose connection drops, frees its locks without anyone cleaning up. The connections come
from a separate engine without a pool: a connection that still held a lock (its unlock failed)
is closed, never handed to other work that would keep the lock alive.

While a lock is held, a watchdog asks its connection `SELECT 1` every `check_seconds`. When
that fails the lock may already belong to another replica, so the block is cancelled and
`hold` raises `core.locks.LockLost`. Between the drop and its detection two holders can overlap
for up to `check_seconds`; what runs under these locks is idempotent, so that costs only work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core.locks import InProcessLocks, LockLost, Locks

logger = logging.getLogger(__name__)

APPLICATION_NAME = "trending-arxiv lock"  # what pg_stat_activity shows for lock connections
_NAMESPACE = "trending-arxiv:"  # other applications sharing the database use other keys
_TRY = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_PING = text("SELECT 1")
_CHECK_TIMEOUT = 10.0  # seconds a check may take before the lock counts as lost
_CONNECT_TIMEOUT = 10.0  # seconds opening a lock's connection may take


def lock_key(name: str) -> int:
    """The advisory lock key (a signed 64-bit integer) for a lock name; stable across runs."""
    digest = hashlib.blake2b((_NAMESPACE + name).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def locks_for(engine: AsyncEngine) -> Locks:
    """The locks for a database: advisory locks on PostgreSQL, in-process ones on SQLite.

    SQLite serves one process, so in-process locks are all it needs.
    """
    if engine.dialect.name == "postgresql":
        return PostgresLocks(engine)
    return InProcessLocks()


class PostgresLocks:
    """Non-blocking named locks shared by every process using one PostgreSQL database."""

    def __init__(self, engine: AsyncEngine, *, check_seconds: float = 30.0) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("PostgresLocks needs a PostgreSQL engine; see locks_for")
        self._engine = create_async_engine(
            engine.url,
            poolclass=NullPool,
            # No transaction stays open while a lock is held for hours, which an
            # idle_in_transaction_session_timeout would end.
            isolation_level="AUTOCOMMIT",
            connect_args={
                "timeout": _CONNECT_TIMEOUT,
                "server_settings": {"application_name": APPLICATION_NAME},
            },
        )
        self._check_seconds = check_seconds

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """Try to take `name` without waiting; yield whether it was taken.

        Raises:
            LockLost: the lock's connection failed while held; the block was cancelled.
            sqlalchemy.exc.SQLAlchemyError, OSError: the lock could not be asked for.
        """
        key = lock_key(name)
        async with self._engine.connect() as connection:
            taken = bool((await connection.execute(_TRY, {"key": key})).scalar())
            if not taken:
                yield False
                return
            watch: asyncio.Task[None] | None = None
            try:
                # A deadline that only the watchdog sets: asyncio.timeout does the cancelling
                # and tells its own cancellation apart from any other.
                async with asyncio.timeout(None) as deadline:
                    watch = asyncio.create_task(self._watch(connection, deadline, name))
                    yield True
            except TimeoutError:
                if deadline.expired():
                    raise LockLost(name) from None
                raise
            finally:
                if watch is not None:
                    watch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch
                # A failed unlock is harmless: the connection is closed next, and the lock
                # goes with its session.
                with contextlib.suppress(Exception):
                    await connection.execute(_UNLOCK, {"key": key})

    async def _watch(
        self, connection: AsyncConnection, deadline: asyncio.Timeout, name: str
    ) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                async with asyncio.timeout(_CHECK_TIMEOUT):
                    await connection.execute(_PING)
            except Exception as exc:
                logger.warning(
                    "lost the connection holding lock %s (%s); stopping its work",
                    name,
                    type(exc).__name__,
                )
                deadline.reschedule(asyncio.get_running_loop().time())
                return
