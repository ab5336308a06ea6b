"""INSERT ... ON CONFLICT for the two dialects we run on (the one insert path of every table)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """Return the dialect's insert construct, which has `on_conflict_do_*`."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


CHUNK = 500  # values per IN clause: well under SQLite's bound-parameter limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Split a sequence into slices of at most `size` (IN clauses, executemany batches)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
