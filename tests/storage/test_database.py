"""Database URLs, migrations and the SQLite file the console chat runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports import Batch, TopQuery
from core.ranking import RankingConfig
from core.storage import statistics as statistics_module
from core.storage.database import (
    DatabaseUrlError,
    create_engine,
    current_revision,
    normalize_url,
    session_factory,
    upgrade,
)
from core.storage.repository import SqlPaperRepository
from core.storage.statistics import FIRST_AFTER, ImportStatistics
from core.storage.tables import Base
from tests.conftest import START, STORES, TEST_DATABASE_URL, PostgresSchema
from tests.fakes import FixedClock
from tests.storage.builders import A, B, share


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://bot:secret@db.example:5432/papers",
            "postgresql+asyncpg://bot:secret@db.example:5432/papers",
        ),
        ("postgresql://bot@127.0.0.1/papers", "postgresql+asyncpg://bot@127.0.0.1/papers"),
        ("postgresql+asyncpg://bot@127.0.0.1/papers", "postgresql+asyncpg://bot@127.0.0.1/papers"),
        ("postgresql+psycopg2://bot@127.0.0.1/papers", "postgresql+asyncpg://bot@127.0.0.1/papers"),
        ("sqlite:///trending.sqlite3", "sqlite+aiosqlite:///trending.sqlite3"),
        ("sqlite:////var/data/trending.sqlite3", "sqlite+aiosqlite:////var/data/trending.sqlite3"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("  postgres://bot@db/papers\n", "postgresql+asyncpg://bot@db/papers"),
    ],
)
def test_normalize_url_rewrites_what_paas_providers_hand_out(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize(
    "junk", ["junk", "", "localhost:5432/papers", "mysql://db/papers", "http://example.org"]
)
def test_normalize_url_rejects_what_it_cannot_use(junk: str) -> None:
    with pytest.raises(DatabaseUrlError, match="DATABASE_URL"):
        normalize_url(junk)


@pytest_asyncio.fixture(params=STORES[1:])
async def engine(
    request: pytest.FixtureRequest, postgres_schema: PostgresSchema
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        made = create_engine(normalize_url("sqlite://"))
        await upgrade(made)
    else:
        assert TEST_DATABASE_URL is not None
        made = create_engine(normalize_url(TEST_DATABASE_URL))
        await postgres_schema.reset(made)
    yield made
    await made.dispose()


async def test_upgrade_twice_keeps_the_schema_and_the_rows(engine: AsyncEngine) -> None:
    repo = SqlPaperRepository(session_factory(engine), RankingConfig(), FixedClock(START))
    await repo.add_mentions([share(A, "alice")])
    revision = await current_revision(engine)

    await upgrade(engine)
    await upgrade(engine)

    assert revision is not None
    assert await current_revision(engine) == revision
    [stats] = await repo.top(TopQuery(window="all"), START)
    assert (stats.paper.arxiv_id, stats.score) == (A, 1.0)


async def test_sqlite_file_database_keeps_rows_across_engines(tmp_path: Path) -> None:
    url = normalize_url(f"sqlite:///{tmp_path / 'trending.sqlite3'}")
    clock = FixedClock(START)
    first = create_engine(url)
    await upgrade(first)
    writer = SqlPaperRepository(session_factory(first), RankingConfig(), clock)
    await writer.commit_batch(
        "bluesky", Batch(mentions=(share(A, "alice"), share(A, "bob"), share(B, "cy")), cursor="c7")
    )
    await first.dispose()

    second = create_engine(url)
    try:
        await upgrade(second)
        reader = SqlPaperRepository(session_factory(second), RankingConfig(), clock)
        found = await reader.top(TopQuery(window="trending"), START)
        assert [(s.paper.arxiv_id, s.score) for s in found] == [(A, 2.0), (B, 1.0)]
        assert await reader.get_cursor("bluesky") == "c7"
    finally:
        await second.dispose()


async def test_a_growing_import_refreshes_postgresql_statistics(engine: AsyncEngine) -> None:
    # Planned with the statistics of near-empty tables, PostgreSQL read every paper for each
    # batch's lookups: 200,000 shares imported at two thirds of the speed.
    statistics = ImportStatistics(session_factory(engine))
    before = await analyzed(engine)

    assert not await statistics.stored(FIRST_AFTER - 1)
    refreshed = await statistics.stored(1)

    assert refreshed == is_pg(engine)
    assert await analyzed(engine) == before + is_pg(engine)
    assert not await statistics.stored(FIRST_AFTER - 1)  # not again before it grows


async def test_batches_analyze_as_the_shares_double_and_a_sweep_as_they_grow_by_a_quarter(
    engine: AsyncEngine,
) -> None:
    statistics = ImportStatistics(session_factory(engine))
    before = await analyzed(engine)
    assert await statistics.stored(4 * FIRST_AFTER) == is_pg(engine)

    assert not await statistics.stored(3 * FIRST_AFTER)  # three quarters more: batches wait
    assert await analyzed(engine) == before + is_pg(engine)
    assert await statistics.settle() == is_pg(engine)  # reads do not
    assert await analyzed(engine) == before + 2 * is_pg(engine)
    assert not await statistics.settle()  # nothing stored since


async def test_an_imports_closing_sweep_leaves_statistics_of_the_whole_store(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics_module, "FIRST_AFTER", 4)
    repo = SqlPaperRepository(session_factory(engine), RankingConfig(), FixedClock(START))
    before = await analyzed(engine)
    await repo.add_mentions([share(A, f"u{i}") for i in range(8)])  # analyzed at 8
    await repo.add_mentions([share(B, f"u{i}") for i in range(6)])  # 14: not yet double

    assert await analyzed(engine) == before + is_pg(engine)
    await repo.sweep(START)

    assert await analyzed(engine) == before + 2 * is_pg(engine)
    found = await repo.top(TopQuery(window="trending"), START)
    assert [s.paper.arxiv_id for s in found] == [A, B]


async def analyzed(engine: AsyncEngine) -> int:
    """How many times `papers` was analyzed by hand (0 on SQLite, which keeps no count)."""
    if not is_pg(engine):
        return 0
    count = text(
        "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'papers'"
        " AND schemaname = current_schema()"
    )
    async with engine.connect() as conn:
        return int((await conn.execute(count)).scalar_one())


def is_pg(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def test_migrations_build_the_schema_the_tables_declare(engine: AsyncEngine) -> None:
    # A migration that forgets an index, or a table change without its migration, shows here.
    sqlite = engine.dialect.name == "sqlite"

    def comparable(item: Any, name: str | None, kind: str, reflected: bool, _other: Any) -> bool:
        # SQLite's reflection cannot read an index on an expression (`engagement DESC`) back.
        return not (sqlite and kind == "index" and name == "ix_mentions_paper_engagement")

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"include_object": comparable})
        return list(compare_metadata(context, Base.metadata))

    def partial(connection: Connection) -> dict[str, str]:
        # Autogenerate does not compare an index's WHERE: read which indexes have one.
        found = {}
        for index in inspect(connection).get_indexes("papers"):
            options = index.get("dialect_options", {})
            where = options.get("sqlite_where", options.get("postgresql_where"))
            if where is not None:
                found[str(index["name"])] = str(where)
        return found

    async with engine.connect() as connection:
        found = await connection.run_sync(differences)
        reflected = await connection.run_sync(partial)

    assert found == []
    declared = {
        str(i.name): str(i.dialect_options[engine.dialect.name]["where"])
        for i in Base.metadata.tables["papers"].indexes
        if i.dialect_options[engine.dialect.name]["where"] is not None
    }
    assert (
        set(reflected)
        == set(declared)
        == {
            "ix_papers_rank_day",
            "ix_papers_rank_week",
            "ix_papers_rank_month",
            "ix_papers_trend",
        }
    )
    if sqlite:  # kept as written; PostgreSQL rewrites it (`(score_day > (0)::double precision)`)
        assert reflected == declared
