"""`SqlSourceState`: each source's cursor and health record, and whether anything is stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import SourceHealth
from core.storage.ranking_reads import read_session, reading
from core.storage.tables import CursorRow, HealthRow, PaperRow


class SqlSourceState:
    """Source cursors and health records in one SQL database."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def get_cursor(self, source: str) -> str | None:
        """Return a source's stored cursor."""
        async with read_session(self._factory) as session:
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
        """Return every source's health record (a read: digests' footers and /healthz ask)."""
        async with reading(self._factory) as connection:
            rows = await connection.execute(
                select(
                    HealthRow.source,
                    HealthRow.last_success,
                    HealthRow.last_error,
                    HealthRow.last_error_at,
                    HealthRow.items_seen,
                    HealthRow.consecutive_failures,
                ).order_by(HealthRow.source)
            )
            return [SourceHealth(*row) for row in rows]

    async def is_empty(self) -> bool:
        """Whether no paper has been stored yet (a read: `/top` asks it for its empty note)."""
        async with reading(self._factory) as connection:
            return (await connection.execute(select(PaperRow.arxiv_id).limit(1))).first() is None
