"""Engines, sessions and migrations."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from core.storage.locks import lock_key

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///trending-arxiv.sqlite3"
# How long a SQLite write waits for another writer's lock before it fails as "locked".
BUSY_TIMEOUT_SECONDS = 10.0
_MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUrlError(ValueError):
    """DATABASE_URL cannot be used; the message says why."""


def normalize_url(url: str) -> str:
    """Rewrite the URLs PaaS providers hand out into ones SQLAlchemy's async drivers take."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise DatabaseUrlError(f"DATABASE_URL {url!r} is not a URL like postgresql://host/db")
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise DatabaseUrlError(
        f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite or postgres"
    )


def create_engine(url: str) -> AsyncEngine:
    """Create an async engine for a normalised URL, with SQLite tuned for one writer."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {}
    if parsed.database in (None, "", ":memory:"):
        # One connection, or every session would see its own empty in-memory database; a
        # session waits for it, so transactions take turns as they do on a file's write lock.
        kwargs = {
            "poolclass": AsyncAdaptedQueuePool,
            "pool_size": 1,
            "max_overflow": 0,
            "connect_args": {"check_same_thread": False},
        }
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the console read while a poller writes; NORMAL is durable enough with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    # LIKE is case-insensitive by default in SQLite, not in PostgreSQL: `cs.lg` is no category.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    # A batch of shares touches thousands of index pages spread over the file: keep them cached
    # (the default is 2 MiB), and checkpoint less often, so a page rewritten by many commits is
    # copied back once (the default is every 1,000 pages).
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # A follow list's trending decays its terms in SQL (storage.follow_lists); SQLite built
    # without its math functions gets Python's pow.
    try:
        cursor.execute("SELECT pow(2.0, 1.0)")
    except sqlite3.OperationalError:
        dbapi_connection.create_function("pow", 2, math.pow, deterministic=True)
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Return the factory for one-unit-of-work sessions."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    """Return the Alembic configuration for our migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Every process migrating one PostgreSQL database queues on this advisory lock.
MIGRATION_LOCK = "migrations"
_LOCK_MIGRATIONS = text("SELECT pg_advisory_xact_lock(:key)")


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to `revision` (the newest schema by default), keeping its rows.

    Idempotent, and safe when several processes migrate one PostgreSQL database at once: the
    migration is one transaction (PostgreSQL's DDL is transactional) that first takes an
    advisory lock, so the others wait, then read the revision the first one committed and find
    nothing left to do. Without the lock, replicas starting together on an empty database each
    created the tables, and all but one failed on PostgreSQL's catalog (pg_type) unique index.
    """
    await _migrate(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database back to `revision`, as the migrations' downgrades can."""
    await _migrate(engine, "downgrade", revision)


async def _migrate(engine: AsyncEngine, direction: str, revision: str) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Released with the transaction: at commit, or at the drop of a dead process.
            await connection.execute(_LOCK_MIGRATIONS, {"key": lock_key(MIGRATION_LOCK)})
        await connection.run_sync(_migrate_sync, direction, revision)


def _migrate_sync(connection: Any, direction: str, revision: str) -> None:
    from alembic import command

    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    # Alembic reads the stored revision here, after the lock is held: what a process that
    # migrated meanwhile committed is what this one starts from.
    getattr(command, direction)(config, revision)


def revisions() -> list[str]:
    """Every schema revision, oldest first; the last is the newest (head)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(DEFAULT_DATABASE_URL))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the schema revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
