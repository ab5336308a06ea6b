"""`SqlSourceState`: each source's cursor and health record, and whether anything is stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import SourceHealth
from core.storage.tables import CursorRow, HealthRow, PaperRow


class SqlSourceState:
    """Source cursors and health records in one SQL database."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def get_cursor(self, source: str) -> str | None:
        """Return a source's stored cursor."""
        async with self._factory() as session:
            row = await session.get(CursorRow, source)
            return None if row is None else row.cursor

    async def record_health(self, health: SourceHealth) -> None:
        """Store a source's health record."""
        async with self._factory() as session, session.begin():
            await session.merge(
                HealthRow(
                    source=health.source,
                    last_success=health.last_success,
                    last_error=health.last_error,
                    last_error_at=health.last_error_at,
                    items_seen=health.items_seen,
                    consecutive_failures=health.consecutive_failures,
                )
            )

    async def health(self) -> list[SourceHealth]:
        """Return every source's health record."""
        async with self._factory() as session:
            rows = await session.execute(select(HealthRow).order_by(HealthRow.source))
            return [
                SourceHealth(
                    source=r.source,
                    last_success=r.last_success,
                    last_error=r.last_error,
                    last_error_at=r.last_error_at,
                    items_seen=r.items_seen,
                    consecutive_failures=r.consecutive_failures,
                )
                for r in rows.scalars()
            ]

    async def is_empty(self) -> bool:
        """Whether no paper has been stored yet."""
        async with self._factory() as session:
            return (await session.execute(select(PaperRow.arxiv_id).limit(1))).first() is None
