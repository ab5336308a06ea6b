"""The sweep: brings window counts from the watermark S to a target T, a few papers at a time.

A sweep first records T (`meta.sweeping_to`); from then on every write counts as of T
(`scores.watermark`). It then reads, without the write lock, which papers can change between S
and T: those with a share or a vote snapshot in `[S - length, T - length)` of some window. It
recounts their windows as of T from their sharers, in steps of a few papers a transaction, and
ends by moving S to T. So each paper is written once a sweep however many of its sharers leave,
and a step holds the write lock only for its own papers.

Why recount rather than subtract what left: a write that arrives mid-sweep counts as of T, so a
paper not yet swept may already hold T's counts for some sharers; a recount as of T is right
whatever it held, where a subtraction would take those sharers out twice. A paper no sweep
visits has nothing leaving between S and T, so its counts as of S are its counts as of T.
For the same reason a sweep stopped halfway (a crash, a deploy) is simply run again to T.

A step costs mostly the rewrite of its papers' rows (wide rows, three rank indexes); it takes as
many papers as the previous step's pace says fit in `STEP_SECONDS`. On PostgreSQL one sweeper
runs at a time across replicas (`core.locks`) and steps take the writers' lock as inserts do.

A change of weights or half-life (the stored signature differs) is applied first by `rescore_all`,
a paper chunk a transaction, while reads answer from the old scores.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import SweepReport
from core.ranking import RankingConfig
from core.signals import vote_signal
from core.storage.scores import (
    COUNT_COLUMNS,
    META,
    SIGNALS,
    SIGNATURE,
    SPANS,
    TARGET,
    WATERMARK,
    WINDOW_COLUMNS,
    SignalKey,
    lock_writers,
    read_signals,
    read_snapshots,
    rescore,
    store,
    store_share_windows,
    watermark,
)
from core.storage.tables import MentionRow, MetaRow, PaperRow, SharerRow, SnapshotRow
from core.storage.upsert import chunks, insert_for

STEP_SECONDS = 0.06  # what a step aims to hold the write lock for: well under 100 ms
FIRST_STEP_PAPERS = 200  # papers in the first step; later ones aim at time
MIN_STEP_PAPERS = 20  # however slow the machine, a step is not all overhead
MAX_STEP_PAPERS = 2000  # however fast, a step's IN list stays far below SQLite's parameter limit
RESCORE_CHUNK = 200  # papers rescored per transaction


async def sweep(
    factory: async_sessionmaker[AsyncSession],
    now: datetime,
    config: RankingConfig,
    *,
    rows: int | None = None,
    turns: asyncio.Lock | None = None,
) -> SweepReport:
    """Rescore if the config changed, then bring the windows to `now`.

    Each step recounts as many papers as the last one's pace says fit in `STEP_SECONDS`, or
    exactly `rows` papers when given, in a turn of `turns` (the process's writers') if given.
    A sweep left halfway is finished first.
    """
    rescored = 0
    async with factory() as session:
        signature = await session.get(MetaRow, SIGNATURE)
        stale = signature is None or signature.value != config.signature
    if stale:
        rescored = await rescore_all(factory, now, config)
    steps = 0
    longest = 0.0
    size = rows or FIRST_STEP_PAPERS
    while (span := await _begin(factory, now, config)) is not None:
        start, end = span
        papers, voted = await _changing(factory, start, end)
        done = 0
        while done < len(papers):
            part = papers[done : done + size]
            async with turns or contextlib.nullcontext():
                began = time.perf_counter()
                async with factory() as session, session.begin():
                    current = await _recount(session, part, voted, end, config)
                took = time.perf_counter() - began
            longest = max(longest, took)
            steps += 1
            done += len(part)
            if not current:  # another sweeper finished T and went on: the rest is theirs
                return SweepReport(steps, rescored, longest)
            if rows is None:  # at most double, so one quick step does not make the next long
                size = max(size // 2, min(2 * size, int(size * STEP_SECONDS / max(took, 1e-3))))
                size = min(max(size, MIN_STEP_PAPERS), MAX_STEP_PAPERS)
        await _finish(factory, end, config)
        steps += 2  # the transactions that set T and moved S
    return SweepReport(steps, rescored, longest)


async def rescore_all(
    factory: async_sessionmaker[AsyncSession], now: datetime, config: RankingConfig
) -> int:
    """Recompute every paper with `config`, a chunk a transaction; then store its signature."""
    async with factory() as session:
        ids = list(
            (await session.execute(select(PaperRow.arxiv_id).order_by("arxiv_id"))).scalars()
        )
    for part in chunks(ids, RESCORE_CHUNK):
        async with factory() as session, session.begin():
            as_of = await watermark(session, now, config, exclusive=True)
            await rescore(session, part, as_of, config)
    async with factory() as session, session.begin():
        row = {"key": SIGNATURE, "value": config.signature}
        stmt = insert_for(session, MetaRow.__table__)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": row["value"]}), row
        )
    return len(ids)


async def _begin(
    factory: async_sessionmaker[AsyncSession], now: datetime, config: RankingConfig
) -> tuple[datetime, datetime] | None:
    """Return the sweep to run, (S, T): one left halfway, else a new one to `now` (recorded).

    None when S is already at `now`. From the commit on, writes count as of T.
    """
    async with factory() as session, session.begin():
        await watermark(session, now, config, exclusive=True)  # locks S's row, makes it if new
        start, target = await _marks(session)
        if target is not None:
            return start, target
        if start >= now:
            return None
        await session.execute(insert_for(session, META).values(key=TARGET, value=now.isoformat()))
        return start, now


async def _marks(session: AsyncSession) -> tuple[datetime, datetime | None]:
    """S and, while a sweep runs, its target T."""
    found = select(MetaRow.key, MetaRow.value).where(MetaRow.key.in_([WATERMARK, TARGET]))
    marks = {key: datetime.fromisoformat(value) for key, value in await session.execute(found)}
    return marks[WATERMARK], marks.get(TARGET)


async def _changing(
    factory: async_sessionmaker[AsyncSession], start: datetime, end: datetime
) -> tuple[list[str], set[str]]:
    """The papers whose windows can change from S to T, in id order; and those by a snapshot.

    Read without the write lock. A share (or snapshot) in `[S - length, T - length)` may leave
    the window of that length; a paper with none there keeps its counts.
    """
    async with factory() as session:
        snapped = _leaving(SnapshotRow.arxiv_id, SnapshotRow.taken_at, start, end)
        voted = set((await session.execute(snapped)).scalars())
        shared = _leaving(MentionRow.arxiv_id, MentionRow.posted_at, start, end)
        papers = set((await session.execute(shared)).scalars())
    return sorted(papers | voted), voted


def _leaving(arxiv_id: Any, at: Any, start: datetime, end: datetime) -> Any:
    """The papers with a row `at` a time in `[S - length, T - length)` of some window."""
    return union(*(select(arxiv_id).where(at >= start - n, at < end - n) for n in SPANS))


async def _recount(
    session: AsyncSession,
    papers: Sequence[str],
    voted: set[str],
    end: datetime,
    config: RankingConfig,
) -> bool:
    """Recount the windows of `papers` as of T = `end`; False if T is no longer the target.

    A share row's window count is its sharers whose last share is inside the window. Papers
    with vote signals are scored in Python (vote points are log-compressed); those with a
    snapshot leaving (`voted`) get their vote windows recomputed from their snapshots.
    """
    if await watermark(session, end, config) != end:  # takes the write lock (SQLite)
        return False
    await lock_writers(session)
    sharers = (
        select(
            SharerRow.arxiv_id,
            SharerRow.source,
            *(
                func.count(case((SharerRow.last_at >= end - length, 1))).label(column)
                for column, length in zip(COUNT_COLUMNS, SPANS, strict=True)
            ),
        )
        .where(SharerRow.arxiv_id.in_(papers))
        .group_by(SharerRow.arxiv_id, SharerRow.source)
        .subquery()
    )
    rows = await session.execute(
        update(SIGNALS)
        .where(
            # Bound on both sides: PostgreSQL does not carry the ids across the join, and
            # would read every signal row to join them.
            SIGNALS.c.arxiv_id.in_(papers),
            SIGNALS.c.arxiv_id == sharers.c.arxiv_id,
            SIGNALS.c.source == sharers.c.source,
            SIGNALS.c.kind == "share",
            or_(*(SIGNALS.c[column] != sharers.c[column] for column in COUNT_COLUMNS)),
        )
        .values({column: sharers.c[column] for column in COUNT_COLUMNS})
        .returning(SIGNALS.c.arxiv_id)
    )
    moved = set(rows.scalars())
    snapped = voted.intersection(papers)
    written = await store_share_windows(session, sorted(moved - snapped), config)
    rest = sorted((moved | snapped) - written)
    signals = await read_signals(session, rest)
    changed: set[tuple[str, SignalKey]] = set()
    for (arxiv_id, source), series in (await read_snapshots(session, sorted(snapped))).items():
        signals[arxiv_id][(source, "vote")] = vote_signal(source, series, end, config)
        changed.add((arxiv_id, (source, "vote")))
    await store(session, rest, signals, config, None, changed, WINDOW_COLUMNS)
    return True


async def _finish(
    factory: async_sessionmaker[AsyncSession], end: datetime, config: RankingConfig
) -> None:
    """Move S to T, unless another sweeper already did."""
    async with factory() as session, session.begin():
        await watermark(session, end, config, exclusive=True)
        if (await _marks(session))[1] != end:
            return
        await session.execute(
            update(MetaRow).where(MetaRow.key == WATERMARK).values(value=end.isoformat())
        )
        await session.execute(delete(MetaRow).where(MetaRow.key == TARGET))
