"""What every table's statements share: INSERT ... ON CONFLICT, IN-list chunks, a chat's rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ChatRef


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


def of_chat(table: Any, chat: ChatRef) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The rows of one chat in `table` (a table, or the class mapped to one)."""
    columns = inspect(table).columns
    return columns.platform == chat.platform, columns.chat_id == chat.chat_id
