"""`trending-arxiv db upgrade`, the release step, on a database at an earlier revision.

And what the other commands do with a database that is not at the newest revision, and
several processes migrating one empty PostgreSQL database at once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.main import main
from core.storage.database import create_engine, current_revision, revisions, upgrade
from tests.scratch import BACKENDS, empty_database

OUTDATED = "trending-arxiv: the database schema is outdated: run `trending-arxiv db upgrade`\n"


POSTGRES_ONLY = pytest.mark.parametrize("backend", BACKENDS[1:], indirect=True)
SQLITE_ONLY = pytest.mark.parametrize("backend", BACKENDS[:1], indirect=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def database_url(empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database, named by DATABASE_URL as a deploy names it; the CLI's own settings."""
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.setenv("SOURCES", "none")
    monkeypatch.setenv("ARXIV_API_URL", "http://127.0.0.1:9/api/query")  # never asked
    return empty_url


async def _at(url: str, revision: str, *statements: str) -> None:
    """Migrate the database to `revision` and run `statements` on it."""
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _read(url: str, query: str) -> tuple[str | None, list[tuple[object, ...]]]:
    """The database's revision and the rows of `query`."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = [tuple(r) for r in await connection.execute(text(query))]
        return await current_revision(engine), rows
    finally:
        await engine.dispose()


CURSOR = "INSERT INTO source_cursors (source, cursor) VALUES ('hackernews', 'page-7')"
CURSORS = "SELECT source, cursor FROM source_cursors"


@pytest.mark.parametrize("earlier", revisions()[:-1])
def test_db_upgrade_migrates_an_earlier_revision_keeping_its_rows(
    database_url: str, earlier: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_at(database_url, earlier, CURSOR))

    assert main(["db", "upgrade"]) == 0

    assert "The database schema is up to date." in capsys.readouterr().out
    revision, rows = asyncio.run(_read(database_url, CURSORS))
    assert revision == revisions()[-1]
    assert rows == [("hackernews", "page-7")]


def test_db_upgrade_twice_leaves_the_newest_schema_as_it_is(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_at(database_url, "head", CURSOR))

    assert main(["db", "upgrade"]) == 0

    assert asyncio.run(_read(database_url, CURSORS)) == (
        revisions()[-1],
        [("hackernews", "page-7")],
    )


@pytest.mark.parametrize("command", [["top"], ["sources"], ["import", "-"]])
@POSTGRES_ONLY
def test_other_commands_refuse_an_outdated_postgresql_with_one_line(
    database_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = revisions()[-2]
    asyncio.run(_at(database_url, earlier, CURSOR))

    assert main(command) == 1

    assert capsys.readouterr().err == OUTDATED
    assert asyncio.run(_read(database_url, CURSORS)) == (earlier, [("hackernews", "page-7")])


@SQLITE_ONLY
def test_other_commands_migrate_an_outdated_sqlite_file(database_url: str) -> None:
    # SQLite serves one process, which may as well migrate it.
    asyncio.run(_at(database_url, revisions()[-2], CURSOR))

    assert main(["top"]) == 0

    assert asyncio.run(_read(database_url, CURSORS))[0] == revisions()[-1]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["top"]])
def test_a_schema_from_a_newer_release_is_refused_and_left_alone(
    database_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # A rollback to an older release after a newer one migrated the database.
    asyncio.run(_at(database_url, "head", "UPDATE alembic_version SET version_num = '9999'"))

    assert main(command) == 1

    assert capsys.readouterr().err == (
        "trending-arxiv: the database schema is at revision 9999, which this version does not"
        " know: it was migrated by a newer release\n"
    )
    assert asyncio.run(_read(database_url, "SELECT 1"))[0] == "9999"


REPLICAS = 4


def _command() -> list[str]:
    script = Path(sys.executable).with_name("trending-arxiv")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


async def _release(url: str, cwd: Path) -> tuple[int | None, str]:
    """Run `trending-arxiv db upgrade` in a process of its own; its status and output."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "PYTHONPATH") if k in os.environ}
    process = await asyncio.create_subprocess_exec(
        *_command(), "db", "upgrade",
        env=env | {"DATABASE_URL": url, "SOURCES": "none"},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
    return process.returncode, output.decode(errors="replace")


@POSTGRES_ONLY
async def test_processes_migrating_one_empty_postgresql_together_all_succeed(
    empty_url: str, tmp_path: Path
) -> None:
    # Without a lock, all but one failed on PostgreSQL's catalog: IntegrityError on
    # pg_type_typname_nsp_index, as each created the same tables.
    results = await asyncio.gather(*(_release(empty_url, tmp_path) for _ in range(REPLICAS)))

    assert [code for code, _ in results] == [0] * REPLICAS, "\n".join(o for _, o in results)
    engine = create_engine(empty_url)
    try:
        assert await current_revision(engine) == revisions()[-1]
    finally:
        await engine.dispose()
