"""Engines, sessions and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///trending-arxiv.sqlite3"
# How long a SQLite write waits for another writer's lock before it fails as "locked".
BUSY_TIMEOUT_SECONDS = 10.0
_MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUrlError(ValueError):
    """DATABASE_URL cannot be used; the message says why."""


def normalize_url(url: str) -> str:
    """Rewrite the URLs PaaS providers hand out into ones SQLAlchemy's async drivers take.

    `postgres://` and `postgresql://` become `postgresql+asyncpg://`; `sqlite://` becomes
    `sqlite+aiosqlite://`.
    """
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
        # One shared connection, or every session would see its own empty in-memory database.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
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


async def upgrade(engine: AsyncEngine) -> None:
    """Migrate the database to the newest schema (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_sync)


def _upgrade_sync(connection: Any) -> None:
    from alembic import command

    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the schema revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
