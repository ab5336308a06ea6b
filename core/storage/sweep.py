"""The sweep: brings window counts from the watermark S to the present, in small steps.

A sharer leaves a window when their last share does, so the sharers leaving between S and a
later T are those whose last share lies in `[S - length, T - length)`: met through the mentions'
time index, they are counted per paper and network and subtracted from the signal rows in one
statement a window. The papers whose counts changed get their window scores in one statement
too (`store_share_windows`); those with vote signals, and those with a snapshot in the range
(their vote windows are recomputed from snapshots), through `stored_scores` in Python.

Each step is one transaction that moves S to T with its subtractions. It covers as many
leaving mentions as the previous step's pace says fit in `STEP_SECONDS`, so a sweep after a
day of quiet holds the write lock in short turns while readers and inserts go on. What a step
costs is mostly rewriting the `papers` rows it touches (wide rows, three rank indexes), once a
step however many of their sharers leave in it: fewer, larger steps write less in all.
On PostgreSQL a step locks the watermark row (inserts share it), so no insert counts against an
S that a step is moving; across replicas one sweeper runs at a time (`core.locks`).

A change of weights or half-life (the stored signature differs) is applied first by `rescore_all`,
a paper chunk a transaction, while reads answer from the old scores.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import and_, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import SweepReport
from core.ranking import RankingConfig
from core.signals import vote_signal
from core.storage.scores import (
    COUNT_COLUMNS,
    SIGNALS,
    SIGNATURE,
    SPANS,
    WATERMARK,
    WINDOW_COLUMNS,
    SignalKey,
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
FIRST_STEP_ROWS = 1000  # mentions leaving each window in the first step; later ones aim at time
MIN_STEP_ROWS = 300  # however slow the machine, a step is not all overhead
RESCORE_CHUNK = 200  # papers rescored per transaction
_TICK = timedelta(microseconds=1)


async def sweep(
    factory: async_sessionmaker[AsyncSession],
    now: datetime,
    config: RankingConfig,
    *,
    rows: int | None = None,
) -> SweepReport:
    """Rescore if the config changed, then move S to `now` a step a transaction.

    Each step covers as many leaving mentions as the last one's pace says fit in
    `STEP_SECONDS`, or exactly `rows` when given.
    """
    rescored = 0
    async with factory() as session:
        signature = await session.get(MetaRow, SIGNATURE)
        stale = signature is None or signature.value != config.signature
    if stale:
        rescored = await rescore_all(factory, now, config)
    steps = 0
    longest = 0.0
    done = False
    size = rows or FIRST_STEP_ROWS
    while not done:
        began = time.perf_counter()
        async with factory() as session, session.begin():
            done = await sweep_step(session, now, config, size)
        took = time.perf_counter() - began
        longest = max(longest, took)
        steps += 1
        if rows is None:  # at most double, so one quick step does not make the next a long one
            size = max(size // 2, min(2 * size, int(size * STEP_SECONDS / max(took, 1e-3))))
            size = max(size, MIN_STEP_ROWS)
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


async def sweep_step(
    session: AsyncSession, now: datetime, config: RankingConfig, rows: int = FIRST_STEP_ROWS
) -> bool:
    """Move S towards `now` by at most `rows` leaving mentions a window; return if it got there."""
    start = await watermark(session, now, config, exclusive=True)
    if start >= now:
        return True
    end = await _step_end(session, start, now, rows)
    left: set[str] = set()
    redo: set[str] = set()
    for column, length in zip(COUNT_COLUMNS, SPANS, strict=True):
        counts = await _subtract_leaving(session, column, start - length, end - length)
        for arxiv_id, count in counts:
            left.add(arxiv_id)
            if count < 0:
                redo.add(arxiv_id)  # the stored counts do not match the sharers: recompute
    voted = await _voted(session, start, end)
    # Vote points are log-compressed: papers with vote signals are scored in Python.
    written = await store_share_windows(session, sorted(left - voted - redo), config)
    papers = sorted((left | voted) - written - redo)
    signals = await read_signals(session, papers)
    changed: set[tuple[str, SignalKey]] = set()
    for (arxiv_id, source), series in (await read_snapshots(session, sorted(voted - redo))).items():
        signals[arxiv_id][(source, "vote")] = vote_signal(source, series, end, config)
        changed.add((arxiv_id, (source, "vote")))
    await store(session, papers, signals, config, None, changed, WINDOW_COLUMNS)
    await rescore(session, sorted(redo), end, config)
    await session.execute(
        update(MetaRow).where(MetaRow.key == WATERMARK).values(value=end.isoformat())
    )
    return end >= now


async def _step_end(session: AsyncSession, start: datetime, now: datetime, rows: int) -> datetime:
    """The furthest T <= now such that each window loses at most `rows` mentions' worth."""
    end = now
    for length in SPANS:
        nth = await session.execute(
            select(MentionRow.posted_at)
            .where(MentionRow.posted_at >= start - length, MentionRow.posted_at < now - length)
            .order_by(MentionRow.posted_at)
            .offset(rows)
            .limit(1)
        )
        found = nth.scalar_one_or_none()
        if found is not None:
            end = min(end, found + length)
    # Progress even when more than `rows` shares share one instant.
    return max(end, start + _TICK)


async def _subtract_leaving(
    session: AsyncSession, column: str, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    """Subtract from `column` the sharers whose last share lies in `[since, until)`.

    Returns each changed share row's paper and new count.
    """
    leaving = (
        select(
            SharerRow.arxiv_id,
            SharerRow.source,
            # Two posts of one account at the same instant are one sharer.
            func.count(distinct(SharerRow.author)).label("n"),
        )
        .select_from(MentionRow)
        .join(
            SharerRow,
            and_(
                SharerRow.arxiv_id == MentionRow.arxiv_id,
                SharerRow.source == MentionRow.source,
                SharerRow.author == MentionRow.author,
                SharerRow.last_at == MentionRow.posted_at,
            ),
        )
        .where(MentionRow.posted_at >= since, MentionRow.posted_at < until)
        .group_by(SharerRow.arxiv_id, SharerRow.source)
        .subquery()
    )
    counted = SIGNALS.c[column]
    rows = await session.execute(
        update(SIGNALS)
        .where(
            SIGNALS.c.arxiv_id == leaving.c.arxiv_id,
            SIGNALS.c.source == leaving.c.source,
            SIGNALS.c.kind == "share",
        )
        .values({column: counted - leaving.c.n})
        .returning(SIGNALS.c.arxiv_id, counted)
    )
    return [(arxiv_id, int(count)) for arxiv_id, count in rows]


async def _voted(session: AsyncSession, start: datetime, end: datetime) -> set[str]:
    """Papers with a snapshot leaving a window: their vote gains there change."""
    papers: set[str] = set()
    for length in SPANS:
        rows = await session.execute(
            select(SnapshotRow.arxiv_id)
            .where(SnapshotRow.taken_at >= start - length, SnapshotRow.taken_at < end - length)
            .distinct()
        )
        papers.update(rows.scalars())
    return papers
