"""Shared fixtures: a fixed clock and the paper store on every backend we run on.

`repo` runs a test on the in-memory fake, on a fresh in-memory SQLite database built by the
Alembic migration, and on PostgreSQL when TEST_DATABASE_URL names a test database (for example
`postgresql://postgres@127.0.0.1:5432/test`). Only PostgreSQL tests may open TCP sockets, and only
to that server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports import PaperRepository
from core.ranking import RankingConfig
from core.storage.database import create_engine, normalize_url, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.storage.tables import Base
from core.subscriptions import SubscriptionStore
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def admin(url: str, *statements: str) -> None:
    """Run statements on the database `url` names, outside any transaction (CREATE DATABASE)."""
    base = make_url(normalize_url(url))
    connection = await asyncpg.connect(
        user=base.username,
        password=base.password,
        host=base.host,
        port=base.port or 5432,
        database=base.database,
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _run_admin(url: str, *statements: str) -> None:
    """`admin`, from outside an event loop (the session's set-up and tear-down)."""
    asyncio.run(admin(url, *statements))


def _private_database(url: str) -> tuple[str, str]:
    """Create a database of this test run's own beside the one named, and return its URL.

    Tests truncate and migrate their database; two runs sharing one (a developer's and CI's,
    or two terminals) would deadlock and wipe each other's rows.
    """
    name = f"{make_url(normalize_url(url)).database}_run_{os.getpid()}"
    _run_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    # Keep the URL's own scheme: some tests hand it to asyncpg, which takes no "+driver".
    private = make_url(url).set(database=name)
    return private.render_as_string(hide_password=False), name


_SHARED_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_PRIVATE_DATABASE: str | None = None
if _SHARED_DATABASE_URL:
    os.environ["TEST_DATABASE_URL"], _PRIVATE_DATABASE = _private_database(_SHARED_DATABASE_URL)
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop this run's own PostgreSQL database."""
    if _SHARED_DATABASE_URL and _PRIVATE_DATABASE:
        _run_admin(
            _SHARED_DATABASE_URL, f'DROP DATABASE IF EXISTS "{_PRIVATE_DATABASE}" WITH (FORCE)'
        )


RepoFactory = Callable[[RankingConfig], Awaitable[PaperRepository]]


def _postgres_hosts(url: str | None) -> list[str]:
    hosts = {"127.0.0.1", "::1"}
    if url:
        host = make_url(normalize_url(url)).host
        if host:
            hosts.add(host)
    return sorted(hosts)


POSTGRES = pytest.param(
    "postgres",
    id="postgres",
    marks=[
        pytest.mark.postgres,
        pytest.mark.allow_hosts(_postgres_hosts(TEST_DATABASE_URL)),
        pytest.mark.skipif(
            not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
        ),
    ],
)
STORES = [pytest.param("memory", id="memory"), pytest.param("sqlite", id="sqlite"), POSTGRES]


class PostgresSchema:
    """Builds the PostgreSQL schema once per session, through the migration."""

    def __init__(self) -> None:
        self.migrated = False

    async def reset(self, engine: AsyncEngine) -> None:
        if not self.migrated:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.drop_all)
                await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await upgrade(engine)
            self.migrated = True
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))


@pytest.fixture(scope="session")
def postgres_schema() -> PostgresSchema:
    return PostgresSchema()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """Which backend the test runs on: memory, sqlite or postgres."""
    name: str = request.param
    return name


@pytest_asyncio.fixture
async def store_engine(
    store: str, postgres_schema: PostgresSchema
) -> AsyncIterator[AsyncEngine | None]:
    """The database behind the SQL stores of a test: none on memory, else a fresh one.

    SQLite and PostgreSQL are built by the Alembic migrations, so the tests run on the schema a
    deployment gets.
    """
    engine: AsyncEngine | None = None
    if store == "sqlite":
        engine = create_engine(normalize_url("sqlite://"))
        await upgrade(engine)
    elif store == "postgres":
        assert TEST_DATABASE_URL is not None
        engine = create_engine(normalize_url(TEST_DATABASE_URL))
        await postgres_schema.reset(engine)
    yield engine
    if engine is not None:
        await engine.dispose()


@pytest.fixture
def make_repo(store_engine: AsyncEngine | None, clock: FixedClock) -> RepoFactory:
    """Build repositories with a given ranking config; SQL ones share one fresh database."""

    async def build(config: RankingConfig) -> PaperRepository:
        if store_engine is None:
            return InMemoryPaperRepository(config, clock)
        return SqlPaperRepository(session_factory(store_engine), config, clock)

    return build


@pytest_asyncio.fixture
async def repo(make_repo: RepoFactory) -> PaperRepository:
    return await make_repo(RankingConfig())


@pytest.fixture
def subscriptions(store_engine: AsyncEngine | None) -> SubscriptionStore:
    """The subscription store on the `store` backend (memory, sqlite, postgres)."""
    if store_engine is None:
        return InMemorySubscriptionStore()
    return SqlSubscriptionStore(session_factory(store_engine))


@pytest.fixture
def digest_papers(store_engine: AsyncEngine | None, clock: FixedClock) -> PaperRepository:
    """The paper repository on the same backend and database as `subscriptions`."""
    if store_engine is None:
        return InMemoryPaperRepository(RankingConfig(), clock)
    return SqlPaperRepository(session_factory(store_engine), RankingConfig(), clock)


# --- the Telegram Bot API emulator (tests/peers/telegram-emulator.sh), one per session -------

SCRIPT = Path(__file__).parent / "peers" / "telegram-emulator.sh"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """Start the emulator once per session on a free loopback port; stop it at the end.

    Without node or npm the tests are skipped, except under CI, where they must run.
    The first start installs the npm package into $TG_EMU_DIR (default /tmp/telegram-emulator).
    """
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = f"the Telegram Bot API emulator needs {' and '.join(missing)} on PATH"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = str(_free_port())
    started = subprocess.run(
        [str(SCRIPT), "start", port], capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"the Telegram emulator did not start:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", port], capture_output=True, timeout=60, check=False)
