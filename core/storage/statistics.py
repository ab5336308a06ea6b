"""Keeping PostgreSQL's planner statistics in step with a bulk import.

An import fills the tables faster than autovacuum re-analyzes them (and a server may run with
autovacuum off): planned without statistics, each batch's lookups of its sharers and mentions
read far more rows than the batch names. The batches need only the tables' rough shape, so while
shares arrive ANALYZE runs each time the shares stored double. Reads need more: a sweep, which
ends every import and runs once a minute beside a bot, brings the statistics up to date once the
shares grew by a quarter (taken at 640,000 of a million shares, they left `/paper`'s p99 at
35 ms, where it is 6-8 ms with the whole store's). SQLite plans from its indexes and needs none.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.storage.upsert import is_postgres

FIRST_AFTER = 10_000  # shares stored before the first ANALYZE
GROWTH = 1.0  # then, as shares are stored, each time they double
SETTLED_GROWTH = 0.25  # and at a sweep, each time they grew by a quarter
TABLES = "papers, paper_signals, sharers, mentions"


class ImportStatistics:
    """Counts stored shares and runs ANALYZE on PostgreSQL as the store grows."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._analyzed = 0  # shares stored when the statistics were last brought up to date
        self._since = 0  # shares stored since
        self._postgres: bool | None = None  # known after the first look

    async def stored(self, shares: int) -> bool:
        """Note `shares` newly stored; return whether the statistics were refreshed."""
        self._since += shares
        return await self._refresh(GROWTH)

    async def settle(self) -> bool:
        """Refresh the statistics for reads if the shares grew by a quarter; return whether."""
        return await self._refresh(SETTLED_GROWTH)

    async def _refresh(self, growth: float) -> bool:
        if self._postgres is False or self._since < max(FIRST_AFTER, growth * self._analyzed):
            return False
        async with self._factory() as session:
            # Asked once: on SQLite every later batch returns above without a session.
            self._postgres = is_postgres(session)
            if not self._postgres:
                return False
            await session.execute(text(f"ANALYZE {TABLES}"))
            await session.commit()
        self._analyzed += self._since
        self._since = 0
        return True
