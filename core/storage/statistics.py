"""Keeping PostgreSQL's planner statistics in step with a bulk import.

An import fills the tables faster than autovacuum re-analyzes them (and a server may run with
autovacuum off): planned with the statistics of near-empty tables, each batch's lookups of its
papers read every paper and signal row. SQLite plans from its indexes and needs none of this.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.storage.upsert import is_postgres

FIRST_AFTER = 10_000  # shares stored before the first ANALYZE
GROWTH = 0.25  # then each time the shares stored grow by a quarter
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
        if self._postgres is False or self._since < max(FIRST_AFTER, GROWTH * self._analyzed):
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
