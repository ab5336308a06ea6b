"""`SqlIngest` (shares, votes and polls in) and `SqlPaperRepository`, every role on one database.

Each write stores its rows and their scores in one transaction (storage.scores); the sweep
(storage.sweep) keeps window counts current as time passes, so reads never write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import ImportReport, Mention, VoteSnapshot
from core.ports import Batch, Clock, SweepReport
from core.ranking import RankingConfig
from core.storage.follow_sums import rebuild_chats, refold_shares
from core.storage.paper_metadata import SqlPaperMetadata, save_papers
from core.storage.ranking_reads import SqlRankingReads
from core.storage.scores import (
    PAPERS,
    add_shares,
    lock_writers,
    refresh_votes,
    rescore,
    watermark,
)
from core.storage.sharers import SHARERS, insert_sharers
from core.storage.source_state import SqlSourceState
from core.storage.statistics import ImportStatistics
from core.storage.sweep import rescore_all, sweep
from core.storage.tables import CursorRow, MentionRow, SnapshotRow
from core.storage.types import utc
from core.storage.upsert import chunks, insert_for

MENTIONS = cast(Table, MentionRow.__table__)
SHARERS_KEY = (SHARERS.c.arxiv_id, SHARERS.c.source, SHARERS.c.author)
SNAPSHOTS = cast(Table, SnapshotRow.__table__)
SHARE = (MENTIONS.c.arxiv_id, MENTIONS.c.source, MENTIONS.c.author, MENTIONS.c.posted_at)
MENTION_COLUMNS = tuple(c.key for c in MENTIONS.c if c.key != "id")  # a Mention's fields


class SqlIngest:
    """Stores shares, vote snapshots and polls with their scores; sweeps and rescores."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], config: RankingConfig, clock: Clock
    ) -> None:
        self._factory = factory
        self._config = config
        self._clock = clock
        self._statistics = ImportStatistics(factory)
        # This process's score writes (polls, imports, the sweep's steps) take turns in order:
        # SQLite retries a writer that finds its lock taken after growing sleeps (up to 100 ms),
        # so a poll could miss every short gap between a long sweep's steps for seconds.
        self._turns = asyncio.Lock()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, in this process's turn."""
        async with self._turns, self._factory() as session, session.begin():
            yield session

    async def add_mentions(self, mentions: Sequence[Mention]) -> ImportReport:
        """Store shares idempotently with their papers' scores."""
        async with self._writing() as session:
            report = await self._add_mentions(session, mentions)
        await self._statistics.stored(report.mentions)
        return report

    async def _add_mentions(
        self, session: AsyncSession, mentions: Sequence[Mention]
    ) -> ImportReport:
        if not mentions:
            return ImportReport()
        now = self._clock.now()
        as_of = await watermark(session, now, self._config)
        # In paper order: the mentions' paper index takes a batch page by page.
        rows = sorted(
            ({c: getattr(m, c) for c in MENTION_COLUMNS} for m in mentions),
            key=lambda r: r["arxiv_id"],
        )
        # The rows stored are those above the largest id before: ids only grow, and no other
        # writer inserts meanwhile (SQLite's write lock, or the writers' lock). Found so, a plain
        # executemany stores them, twice as fast on SQLite as one with RETURNING; when they are
        # all the batch's rows, the batch's own values are the shares, not read back.
        await lock_writers(session)
        before = (await session.execute(select(func.max(MENTIONS.c.id)))).scalar()
        stmt = insert_for(session, MENTIONS).on_conflict_do_nothing()
        for part in chunks(rows, 5000):
            await session.execute(stmt, list(part))
        stored = true() if before is None else MENTIONS.c.id > before
        stored_shares = select(*SHARE).where(stored)
        count = select(func.count()).select_from(MENTIONS).where(stored)
        if (await session.execute(count)).scalar_one() == len(rows):
            shares = [(r["arxiv_id"], r["source"], r["author"], utc(r["posted_at"])) for r in rows]
        else:  # some were stored before, or one post came twice (its first row is stored)
            shares = [(a, s, u, t) for a, s, u, t in await session.execute(stored_shares)]
        await add_shares(session, shares, stored_shares, as_of, self._config)
        await refold_shares(session, {s[:3] for s in shares}, self._config)
        return ImportReport(mentions=len(shares), papers=len({s[0] for s in shares}))

    async def remove_mentions(self, keys: Sequence[tuple[str, str]]) -> int:
        """Forget shares deleted upstream and recompute their papers."""
        async with self._writing() as session:
            return await self._remove_mentions(session, keys)

    async def _remove_mentions(self, session: AsyncSession, keys: Sequence[tuple[str, str]]) -> int:
        as_of = await watermark(session, self._clock.now(), self._config)
        removed = 0
        gone: set[tuple[str, str, str]] = set()
        for source, post_id in keys:
            result = await session.execute(
                delete(MentionRow)
                .where(MentionRow.source == source, MentionRow.post_id == post_id)
                .returning(MentionRow.arxiv_id, MentionRow.source, MentionRow.author)
            )
            rows = [(arxiv_id, source, author) for arxiv_id, source, author in result]
            removed += len(rows)
            gone.update(rows)
        for sharer in sorted(gone):
            # Each sharer again from the shares that remain: one without any is gone.
            await session.execute(delete(SHARERS).where(*_is(SHARERS_KEY, sharer)))
            await insert_sharers(session, select(*SHARE).where(*_is(SHARE[:3], sharer)))
        await refold_shares(session, gone, self._config)
        papers = sorted({arxiv_id for arxiv_id, _, _ in gone})
        # The newest share may be the one deleted: take it again from what remains.
        newest = select(func.max(MENTIONS.c.posted_at)).where(
            MENTIONS.c.arxiv_id == PAPERS.c.arxiv_id
        )
        for part in chunks(papers):
            await session.execute(
                update(PAPERS)
                .where(PAPERS.c.arxiv_id.in_(part))
                .values(last_share_at=newest.scalar_subquery())
            )
        await rescore(session, papers, as_of, self._config)
        return removed

    async def papers_of_post(self, source: str, post_id: str) -> list[str]:
        """Return the papers a stored post shares."""
        async with self._factory() as session:
            rows = await session.execute(
                select(MentionRow.arxiv_id)
                .where(MentionRow.source == source, MentionRow.post_id == post_id)
                .order_by(MentionRow.arxiv_id)
            )
            return list(rows.scalars())

    async def add_snapshots(self, snapshots: Sequence[VoteSnapshot]) -> int:
        """Store vote snapshots idempotently with their papers' scores."""
        async with self._writing() as session:
            return await self._add_snapshots(session, snapshots)

    async def _add_snapshots(self, session: AsyncSession, snapshots: Sequence[VoteSnapshot]) -> int:
        if not snapshots:
            return 0
        now = self._clock.now()
        as_of = await watermark(session, now, self._config)
        rows = [{c.key: getattr(s, c.key) for c in SNAPSHOTS.c} for s in snapshots]
        voted: list[str] = []
        stmt = insert_for(session, SNAPSHOTS).on_conflict_do_nothing()
        for part in chunks(rows, 2000):
            result = await session.execute(stmt.returning(SNAPSHOTS.c.arxiv_id), list(part))
            voted.extend(result.scalars())
        await refresh_votes(session, voted, as_of, self._config)
        return len(voted)

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        """Store a poll's rows and advance its cursor in one transaction."""
        async with self._writing() as session:
            await save_papers(session, batch.papers, self._clock.now())
            report = await self._add_mentions(session, batch.mentions)
            if batch.removed:
                await self._remove_mentions(session, batch.removed)
            snapshots = await self._add_snapshots(session, batch.snapshots)
            if batch.cursor is not None:
                await session.merge(
                    CursorRow(source=source, cursor=batch.cursor, updated_at=self._clock.now())
                )
        return ImportReport(mentions=report.mentions, papers=report.papers, snapshots=snapshots)

    async def sweep(self, now: datetime) -> SweepReport:
        """Bring window counts up to `now` (and rescore first if the config changed)."""
        await self._statistics.settle()  # planned on the store as it is now
        report = await sweep(self._factory, now, self._config, turns=self._turns)
        if report.rescored:  # a new half-life: the follow lists' log-sums too
            await self._resum_follows()
        return report

    async def rescore(self) -> int:
        """Recompute every paper's scores with this config; return how many papers."""
        rescored = await rescore_all(self._factory, self._clock.now(), self._config)
        await self._resum_follows()
        return rescored

    async def _resum_follows(self) -> None:
        async with self._writing() as session:
            await rebuild_chats(session, None, self._config)


def _is(columns: Sequence[Any], values: Sequence[str]) -> list[ColumnElement[bool]]:
    """Each column equal to its value (by key, where a row value could be planned as a scan)."""
    return [column == value for column, value in zip(columns, values, strict=True)]


class SqlPaperRepository(SqlRankingReads, SqlIngest, SqlPaperMetadata, SqlSourceState):
    """Every storage role on one SQL database, for the processes that need them all."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], config: RankingConfig, clock: Clock
    ) -> None:
        SqlRankingReads.__init__(self, factory, config, clock)
        SqlIngest.__init__(self, factory, config, clock)
        SqlPaperMetadata.__init__(self, factory, clock)
        SqlSourceState.__init__(self, factory)
