"""A migrated in-memory SQLite database that property tests share across their examples."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.database import create_engine, upgrade
from core.storage.tables import Base


@pytest_asyncio.fixture
async def sqlite_engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine("sqlite+aiosqlite://")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def wipe(engine: AsyncEngine) -> None:
    """Empty every table, so the next example starts from a fresh store."""
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
