"""Empty databases of a test's own: a SQLite file, or a PostgreSQL database created and dropped.

Migration tests need a database that no migration has touched yet; the shared PostgreSQL test
database of tests/conftest.py is migrated once per run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.storage.database import normalize_url
from tests.conftest import TEST_DATABASE_URL, _postgres_hosts

# Marks of a test that needs a PostgreSQL server of its own databases.
ON_POSTGRES = (
    pytest.mark.postgres,
    pytest.mark.allow_hosts(_postgres_hosts(TEST_DATABASE_URL)),
    pytest.mark.skipif(
        not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
    ),
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=ON_POSTGRES),
]


async def _admin(statement: str) -> None:
    assert TEST_DATABASE_URL is not None
    base = make_url(normalize_url(TEST_DATABASE_URL)).set(drivername="postgresql")
    connection = await asyncpg.connect(base.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """Yield the (normalised) URL of an empty database on `backend`; drop it afterwards.

    Call it outside a running event loop (a plain fixture or test): it runs its own.
    """
    if backend == "sqlite":
        yield normalize_url(f"sqlite:///{folder / f'empty-{uuid.uuid4().hex[:8]}.sqlite3'}")
        return
    assert TEST_DATABASE_URL is not None
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_empty_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield normalize_url(base.set(database=name).render_as_string(hide_password=False))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
