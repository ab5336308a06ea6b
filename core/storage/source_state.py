"""`SqlSourceState`: each source's cursor and health record, and whether anything is stored."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import SourceHealth
from core.storage.ranking_reads import read_session, reading
from core.storage.tables import CursorRow, HealthRow, PaperRow

HEALTH = cast(Table, HealthRow.__table__)


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
            await session.merge(HealthRow(**asdict(health)))

    async def health(self) -> list[SourceHealth]:
        """Return every source's health record (a read: digests' footers and /healthz ask)."""
        async with reading(self._factory) as connection:
            # The table's columns are the record's fields.
            rows = await connection.execute(select(HEALTH).order_by(HEALTH.c.source))
            return [SourceHealth(**row._mapping) for row in rows]

    async def is_empty(self) -> bool:
        """Whether no paper has been stored yet (a read: `/top` asks it for its empty note)."""
        async with reading(self._factory) as connection:
            return (await connection.execute(select(PaperRow.arxiv_id).limit(1))).first() is None
