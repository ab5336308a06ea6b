"""A scratch PostgreSQL database for one benchmark run, created and dropped on the named server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from core.storage.database import normalize_url


@dataclass(frozen=True)
class Scratch:
    """The scratch database's URL (for `create_engine`), its size in bytes, and a dropper."""

    url: str
    size: Callable[[], Awaitable[int]]
    drop: Callable[[], Awaitable[None]]


async def postgres_scratch(url: str, prefix: str) -> Scratch:
    """Create a database named `prefix` and a random suffix on the server of `url`."""
    import asyncpg  # type: ignore[import-untyped]

    base = make_url(normalize_url(url)).set(drivername="postgresql")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = base.render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def size() -> int:
        c = await asyncpg.connect(admin)
        try:
            return int(await c.fetchval("SELECT pg_database_size($1)", name))
        finally:
            await c.close()

    async def drop() -> None:
        c = await asyncpg.connect(admin)
        try:
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await c.close()

    scratch = base.set(database=name).render_as_string(hide_password=False)
    return Scratch(normalize_url(scratch), size, drop)
