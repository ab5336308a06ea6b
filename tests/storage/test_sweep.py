"""The sweep: windows brought forward in small steps equal a brute-force count, inserts or not.

A sweep recounts a few papers a step; however small the steps, whatever inserts run beside it,
and whether it is stopped halfway or raced by another sweeper, the windows after it are what
the fake counts from raw rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.models import WINDOWS, Mention, VoteSnapshot
from core.ports import TopQuery
from core.ranking import RankingConfig
from core.storage import sweep as sweeping
from core.storage.database import create_engine, normalize_url, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from core.storage.sweep import sweep
from tests.conftest import POSTGRES, START
from tests.fakes import FixedClock, InMemoryPaperRepository
from tests.storage.builders import A, B, C, D, E, share, votes

CONFIG = RankingConfig(weights={"x": 0.5})


def _history() -> tuple[list[Mention], list[VoteSnapshot]]:
    """Shares and snapshots spread over six weeks, some accounts sharing twice."""
    mentions = [
        share(paper, f"{paper}-{n % 4}", at=START - timedelta(hours=7 * n), source=source)
        for n, paper in enumerate((A, B, C, D, E) * 30)
        for source in (("bluesky",) if n % 3 else ("bluesky", "x"))
    ]
    snapshots = [
        votes(paper, 10 * n, at=START - timedelta(hours=11 * n), item=f"{paper}-item")
        for n, paper in enumerate((A, C, E) * 20)
    ]
    return mentions, snapshots


async def _stores(
    engine: AsyncEngine, *, half: bool
) -> tuple[
    FixedClock,
    async_sessionmaker[AsyncSession],
    SqlPaperRepository,
    InMemoryPaperRepository,
    list[Mention],
]:
    """The store and the fake at START, given the history (every other share if `half`)."""
    clock = FixedClock(START)
    factory = session_factory(engine)
    sql = SqlPaperRepository(factory, CONFIG, clock)
    fake = InMemoryPaperRepository(CONFIG, clock)
    mentions, snapshots = _history()
    for repo in (sql, fake):
        await repo.add_mentions(mentions[::2] if half else mentions)
        await repo.add_snapshots(snapshots)
    return clock, factory, sql, fake, mentions


async def _windows(repo: object, now: object) -> dict[str, list[tuple[str, float]]]:
    found = {}
    for window in WINDOWS:
        stats = await repo.top(TopQuery(window=window, limit=10), now)  # type: ignore[attr-defined]
        found[window] = [(s.paper.arxiv_id, round(s.score, 6)) for s in stats]
    return found


@pytest.mark.parametrize("store", ["sqlite", POSTGRES])
async def test_a_sweep_in_tiny_steps_counts_like_the_fake(store_engine: AsyncEngine) -> None:
    clock, factory, sql, fake, _ = await _stores(store_engine, half=False)

    clock.advance(timedelta(days=3, hours=5))
    report = await sweep(factory, clock.now(), CONFIG, rows=1)

    assert report.steps >= 5  # a paper a step, five papers (one step would do it all)
    assert await _windows(sql, clock.now()) == await _windows(fake, clock.now())


@pytest_asyncio.fixture
async def file_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """SQLite in a file: connections of their own, so writers really run side by side."""
    engine = create_engine(normalize_url(f"sqlite:///{tmp_path / 'store.sqlite3'}"))
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_inserts_beside_a_sweep_are_counted_once_in_a_sqlite_file(
    file_engine: AsyncEngine,
) -> None:
    await test_inserts_beside_a_sweep_are_counted_once(file_engine)


@pytest.mark.parametrize("store", ["sqlite", POSTGRES])
async def test_inserts_beside_a_sweep_are_counted_once(store_engine: AsyncEngine) -> None:
    clock, factory, sql, fake, mentions = await _stores(store_engine, half=True)

    clock.advance(timedelta(days=2))
    late = [*mentions[1::2], share(B, "late", at=clock.now() - timedelta(hours=30))]
    await asyncio.gather(
        sweep(factory, clock.now(), CONFIG, rows=2),
        *(sql.add_mentions([m]) for m in late[:40]),
        sql.add_mentions(late[40:]),
    )
    await fake.add_mentions(late)
    await sql.sweep(clock.now())

    assert await _windows(sql, clock.now()) == await _windows(fake, clock.now())


@pytest.mark.parametrize("store", ["sqlite", POSTGRES])
async def test_a_sweep_stopped_halfway_is_finished_by_the_next(
    store_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, factory, sql, fake, mentions = await _stores(store_engine, half=True)
    steps = 0
    recount = sweeping._recount

    async def killed_after_two_steps(*args: object, **kwargs: object) -> bool:
        nonlocal steps
        steps += 1
        if steps > 2:
            raise ConnectionResetError("the process was killed")
        return await recount(*args, **kwargs)  # type: ignore[arg-type]

    clock.advance(timedelta(days=2))
    monkeypatch.setattr(sweeping, "_recount", killed_after_two_steps)
    with pytest.raises(ConnectionResetError):
        await sweep(factory, clock.now(), CONFIG, rows=1)
    monkeypatch.undo()
    # Written while the sweep is stopped halfway, then swept on from a later moment.
    late = [*mentions[1::2], share(B, "late", at=clock.now() - timedelta(hours=30))]
    for repo in (sql, fake):
        await repo.add_mentions(late)
    clock.advance(timedelta(hours=20))
    await sql.sweep(clock.now())

    assert await _windows(sql, clock.now()) == await _windows(fake, clock.now())


@pytest.mark.parametrize("store", ["sqlite", POSTGRES])
async def test_a_sweeper_overtaken_by_another_leaves_the_later_counts_alone(
    store_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, factory, sql, fake, _ = await _stores(store_engine, half=False)
    recount = sweeping._recount
    stalled, resume = asyncio.Event(), asyncio.Event()

    async def first_step_stalls(*args: object, **kwargs: object) -> bool:
        if not stalled.is_set():  # the first sweeper's first step, before it writes
            stalled.set()
            await resume.wait()
        return await recount(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweeping, "_recount", first_step_stalls)
    clock.advance(timedelta(days=1))
    slow = asyncio.create_task(sweep(factory, clock.now(), CONFIG, rows=1))
    await stalled.wait()
    clock.advance(timedelta(days=6))
    await sweep(factory, clock.now(), CONFIG, rows=1)  # takes up the slow one's sweep, then on
    resume.set()
    await slow

    assert await _windows(sql, clock.now()) == await _windows(fake, clock.now())
