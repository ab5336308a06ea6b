"""How long another writer waits for the store's write lock while something runs beside it.

A thread with its own connection asks for the lock every few milliseconds and gives it back at
once: on SQLite the database's write lock (`BEGIN IMMEDIATE`), on PostgreSQL the writers' lock
every score write takes (`core.storage.scores.lock_writers`). The longest wait is the longest
time the lock was held, to within the probe's period. Being its own connection in its own
thread, it sees what another process would; the in-process turns of `SqlIngest` are not in it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from types import TracebackType

from sqlalchemy.engine import make_url

from core.storage.scores import WRITERS_LOCK

PERIOD = 0.005  # seconds between two asks
RETRY = 0.0005  # seconds between two tries of one ask, on SQLite


class LockProbe:
    """Use as a context manager around what may hold the lock; then read `waits`."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-probe", daemon=True)
        self.waits: list[float] = []

    def __enter__(self) -> LockProbe:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        if self._url.get_backend_name() == "sqlite":
            self._sqlite()
        else:
            asyncio.run(self._postgres())

    def _sqlite(self) -> None:
        # Asked again every RETRY rather than through SQLite's busy handler, whose sleeps grow
        # to 100 ms: it would miss the short gaps between a sweep's steps and count several.
        connection = sqlite3.connect(self._url.database or "", timeout=0, isolation_level=None)
        try:
            while not self._stop.wait(PERIOD):
                start = time.perf_counter()
                while not _began(connection):
                    time.sleep(RETRY)
                self.waits.append(time.perf_counter() - start)
                connection.execute("ROLLBACK")
        finally:
            connection.close()

    async def _postgres(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        plain = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        try:
            while not self._stop.is_set():
                async with connection.transaction():
                    start = time.perf_counter()
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITERS_LOCK)
                    self.waits.append(time.perf_counter() - start)
                await asyncio.sleep(PERIOD)
        finally:
            await connection.close()


def _began(connection: sqlite3.Connection) -> bool:
    """Take SQLite's write lock if it is free."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    return True
