"""Named locks that keep one piece of work to one process at a time (DESIGN.md section 7).

Several `trending-arxiv run` replicas share one database; each source is polled, and the
Bluesky stream consumed, by whichever replica holds the source's lock. Taking a lock never
waits: a replica that finds it held skips the work and tries again later.

    async with locks.hold("source:hackernews") as held:
        if held:
            ...  # only this process does it now

A lock can be lost while held (its database connection dropped, so the database let it go):
the body is then cancelled and `hold` raises `LockLost`, so the work stops instead of running
beside the process that takes the lock next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class LockLost(Exception):
    """A lock was lost while held; the work under it was cancelled."""

    def __init__(self, name: str) -> None:
        super().__init__(f"lost the lock {name!r}")
        self.name = name


class Locks(Protocol):
    """Non-blocking named locks."""

    def hold(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Try to take `name` without waiting; yield whether it was taken.

        The lock is released when the block exits. The block is entered either way, so that
        the caller decides what a lock held elsewhere means.

        Raises:
            LockLost: from the block's exit, when the lock was lost while held (the block was
                cancelled).
            Exception: the lock could not be asked for (e.g. the database is unreachable).
        """
        ...


class InProcessLocks:
    """Locks within one process: enough when only one process runs (SQLite, tests)."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    def held(self, name: str) -> bool:
        """Whether `name` is held now."""
        return name in self._held

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """Take `name` if it is free; yield whether it was taken. Never raises `LockLost`."""
        # Checked and taken with no await in between: nothing else runs in the loop meanwhile.
        if name in self._held:
            yield False
            return
        self._held.add(name)
        try:
            yield True
        finally:
            self._held.discard(name)
