"""INSERT ... ON CONFLICT for the two dialects we run on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from core.storage.types import UtcDateTime, sqlite_text

SQLITE_PARAMS = 30_000  # bound values a statement; SQLite >= 3.32 allows 32,766


def insert_for(session: AsyncSession, table: Any) -> Any:
    """Return a dialect insert construct that supports `on_conflict_do_*`."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


async def insert_new(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert rows, skipping those whose key is taken; return `returning` of the inserted ones.

    On SQLite the rows go out as multi-row VALUES written by hand: SQLAlchemy's per-row
    parameter handling costs more than SQLite's own work at tens of thousands of rows a batch.
    Returned values come back as the driver gives them (SQLite: dates as text), so ask only for
    columns without conversions.
    """
    if not rows:
        return []
    if is_postgres(session):
        stmt = postgresql.insert(table).on_conflict_do_nothing()
        returned = stmt.returning(*(table.c[c] for c in returning))
        named = [dict(zip(columns, r, strict=True)) for r in rows]
        result = await session.execute(returned, named)
        return [tuple(r) for r in result]
    # Scalar column defaults fill the columns the rows leave out, as SQLAlchemy would.
    defaults = {k: v for k, v in _scalar_defaults(table).items() if k not in columns}
    if defaults:
        columns = (*columns, *defaults)
        rows = [(*row, *defaults.values()) for row in rows]
    dates = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UtcDateTime)]
    width = len(columns)
    group = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    # A table with rowids needs no RETURNING: when every row went in (an import, mostly) the
    # keys are the rows' own, and otherwise the new rows are the last rowids handed out.
    by_rowid = table.dialect_kwargs.get("sqlite_with_rowid", True)
    tail = " ON CONFLICT DO NOTHING"
    if not by_rowid:
        tail += f" RETURNING {', '.join(returning)}"
    keyed = [list(columns).index(c) for c in returning]
    key_of: Any = itemgetter(*keyed) if len(keyed) > 1 else lambda row: (row[keyed[0]],)
    connection = await session.connection()
    found: list[tuple[Any, ...]] = []
    step = SQLITE_PARAMS // width
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        params: list[Any] = []
        for row in part:
            values = list(row)
            for i in dates:
                values[i] = sqlite_text(values[i])
            params.extend(values)
        sql = head + ", ".join([group] * len(part)) + tail
        result = await connection.exec_driver_sql(sql, tuple(params))
        if not by_rowid:
            found.extend(tuple(r) for r in result)
        elif result.rowcount == len(part):
            found.extend(map(key_of, part))
        elif result.rowcount > 0:
            # We hold the write lock: the rows this statement added have the newest rowids.
            last = result.lastrowid
            back = await connection.exec_driver_sql(
                f"SELECT {', '.join(returning)} FROM {table.name}"
                " WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                (last - result.rowcount, last),
            )
            found.extend(tuple(r) for r in back)
    return found


async def execute_many(
    session: AsyncSession, stmt: UpdateBase, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run `stmt` once per row, as one executemany.

    On SQLite the statement is compiled once and the rows handed to the driver as tuples,
    skipping SQLAlchemy's per-row parameter processing: dates become SQLite's text, and scalar
    column defaults fill the columns a row leaves out, as SQLAlchemy would.
    """
    if not rows:
        return
    if is_postgres(session):
        await session.execute(stmt, list(rows))
        return
    connection = await session.connection()
    compiled: Any = stmt.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    names: list[str] = list(compiled.positiontup)
    if any(n not in rows[0] for n in names):
        defaults = _scalar_defaults(stmt.table)
        rows = [{**defaults, **row} for row in rows]
    dates = [i for i, n in enumerate(names) if isinstance(compiled.binds[n].type, UtcDateTime)]
    take = itemgetter(*names, names[0])  # always a tuple, even for one name
    params: list[Any] = []
    if not dates:
        params = [take(row)[:-1] for row in rows]
    else:
        for row in rows:
            values = list(take(row))
            for i in dates:
                values[i] = sqlite_text(values[i])
            params.append(tuple(values[:-1]))
    await connection.exec_driver_sql(compiled.string, params)


def _scalar_defaults(table: Any) -> dict[str, Any]:
    if not isinstance(table, Table):
        return {}
    return {
        c.key: c.default.arg
        for c in table.c
        if c.default is not None and getattr(c.default, "is_scalar", False)
    }
