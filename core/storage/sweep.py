"""The sweep: brings window counts from the watermark S to the present, in small steps.

A sharer leaves a window when their last share does, so the sharers leaving between S and a
later T are those whose last share lies in `[S - length, T - length)`: met through the mentions'
time index, they are subtracted from their paper's counts. A paper with a snapshot in that
range has its vote windows recomputed. Each step is one short transaction that moves S to T with
its subtractions, covering at most `rows` mentions per window, so a sweep after a day of quiet
never holds the write lock for long. On PostgreSQL a step locks the watermark row (inserts share
it), so no insert counts against an S that a step is moving; across replicas one sweeper runs
at a time (`core.locks`).

A change of weights or half-life (the stored signature differs) is applied first by `rescore_all`,
a paper chunk a transaction, while reads answer from the old scores.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import SweepReport
from core.ranking import RankingConfig
from core.signals import Signal, vote_signal
from core.storage.scores import (
    SIGNATURE,
    SPANS,
    WATERMARK,
    WINDOW_COLUMNS,
    SignalKey,
    read_signals,
    read_snapshots,
    rescore,
    store,
    watermark,
)
from core.storage.tables import MentionRow, MetaRow, PaperRow, SharerRow, SnapshotRow
from core.storage.upsert import chunks, insert_for

STEP_ROWS = 300  # mentions leaving each window per step: a few tens of milliseconds of writing
RESCORE_CHUNK = 200  # papers rescored per transaction
_TICK = timedelta(microseconds=1)


async def sweep(
    factory: async_sessionmaker[AsyncSession],
    now: datetime,
    config: RankingConfig,
    *,
    rows: int = STEP_ROWS,
) -> SweepReport:
    """Rescore if the config changed, then move S to `now` a step a transaction."""
    rescored = 0
    async with factory() as session:
        signature = await session.get(MetaRow, SIGNATURE)
        stale = signature is None or signature.value != config.signature
    if stale:
        rescored = await rescore_all(factory, now, config)
    steps = 0
    longest = 0.0
    done = False
    while not done:
        began = time.perf_counter()
        async with factory() as session, session.begin():
            done = await sweep_step(session, now, config, rows)
        longest = max(longest, time.perf_counter() - began)
        steps += 1
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
    session: AsyncSession, now: datetime, config: RankingConfig, rows: int = STEP_ROWS
) -> bool:
    """Move S towards `now` by at most `rows` leaving mentions a window; return if it got there."""
    start = await watermark(session, now, config, exclusive=True)
    if start >= now:
        return True
    end = await _step_end(session, start, now, rows)
    leaving = await _leaving(session, start, end)
    voted = await _voted(session, start, end)
    papers = sorted({p for p, _, _ in leaving} | voted)
    signals = await read_signals(session, papers)
    redo: set[str] = set()
    changed: set[tuple[str, SignalKey]] = set()
    for (arxiv_id, source, w), n in leaving.items():
        old = signals[arxiv_id].get((source, "share"))
        counts = [old.day, old.week, old.month] if old else [0.0, 0.0, 0.0]
        if old is None or counts[w] < n:
            redo.add(arxiv_id)  # the stored counts do not match the sharers: recompute
            continue
        counts[w] -= n
        day, week, month = counts
        signals[arxiv_id][(source, "share")] = Signal(
            source, "share", day, week, month, old.total, old.trend
        )
        changed.add((arxiv_id, (source, "share")))
    for (arxiv_id, source), series in (await read_snapshots(session, sorted(voted))).items():
        signals[arxiv_id][(source, "vote")] = vote_signal(source, series, end, config)
        changed.add((arxiv_id, (source, "vote")))
    kept = [p for p in papers if p not in redo]
    await store(session, kept, signals, config, None, changed, WINDOW_COLUMNS)
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


async def _leaving(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[tuple[str, str, int], int]:
    """Count, per paper, network and window, the sharers whose last share leaves it."""
    leaving: dict[tuple[str, str, int], int] = defaultdict(int)
    for w, length in enumerate(SPANS):
        rows = await session.execute(
            select(SharerRow.arxiv_id, SharerRow.source, SharerRow.author)
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
            .where(MentionRow.posted_at >= start - length, MentionRow.posted_at < end - length)
            # Two posts of one account at the same instant are one sharer.
            .distinct()
        )
        for arxiv_id, source, _author in rows:
            leaving[(arxiv_id, source, w)] += 1
    return leaving


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
