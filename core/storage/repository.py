"""`SqlPaperRepository`: the engine's store on SQLite or PostgreSQL.

Scores are kept per paper (see core.signals.stored_scores) and refreshed whenever a paper gains a
share or a vote, and for every paper whose shares leave a window as time passes, so `/top` is one
index lookup instead of a scan of all mentions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, cast

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import ImportReport, Mention, Paper, SourceHealth, VoteSnapshot
from core.ports import Batch, Clock
from core.ranking import RankingConfig
from core.storage.fold import fold_shares
from core.storage.queries import PAPER_BY_ID, QueryMixin, paper_from_row
from core.storage.refresh import PAPERS, chunks, refresh_papers
from core.storage.statistics import ImportStatistics
from core.storage.tables import (
    CursorRow,
    HealthRow,
    MentionRow,
    MetaRow,
    PaperRow,
    SharerRow,
    SnapshotRow,
)
from core.storage.upsert import execute_many, insert_for, insert_new

UNKNOWN_RETRY = timedelta(days=1)  # ask arXiv again about an id it did not know
MENTIONS = cast(Table, MentionRow.__table__)


class SqlPaperRepository(QueryMixin):
    """Papers, shares, votes, cursors and health in one SQL database."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], config: RankingConfig, clock: Clock
    ) -> None:
        self._factory = factory
        self._config = config
        self._clock = clock
        self._checked_at: datetime | None = None
        self._refresh_lock = asyncio.Lock()
        self._categories: tuple[float, list[str]] | None = None
        self._vote_sources: frozenset[str] | None = None
        self._statistics = ImportStatistics(factory)

    async def add_mentions(self, mentions: Sequence[Mention]) -> ImportReport:
        """Store shares idempotently and refresh the scores of the papers they name."""
        async with self._factory() as session, session.begin():
            report = await self._add_mentions(session, mentions)
        await self._statistics.stored(report.mentions)
        return report

    async def _add_mentions(
        self, session: AsyncSession, mentions: Sequence[Mention]
    ) -> ImportReport:
        if not mentions:
            return ImportReport()
        now = self._clock.now()  # fold_shares adds the rows of papers first met
        keys = await insert_new(
            session,
            MENTIONS,
            MENTION_COLUMNS,
            # In paper order, so the mentions' paper indexes take a batch page by page rather
            # than all over the file (a tenth less time for an import).
            sorted(map(_MENTION_VALUES, mentions), key=_BY_PAPER),
            ("source", "post_id", "arxiv_id"),
        )
        new: Sequence[Mention] = mentions  # every share went in (an import, mostly)
        if len(keys) < len(mentions):
            given = {(m.source, m.post_id, m.arxiv_id): m for m in reversed(mentions)}
            new = [given[key] for key in keys]  # the first of duplicates is the one stored
        shares = ((m.arxiv_id, m.source, m.author, m.posted_at) for m in new)
        papers = await fold_shares(session, shares, now, self._config)
        return ImportReport(mentions=len(new), papers=len(papers))

    async def _ensure_papers(self, session: AsyncSession, ids: set[str], now: datetime) -> None:
        # A paper without rows has the same (zero) scores at any time: they are current at `now`.
        rows = [{"arxiv_id": i, "first_seen_at": now, "scores_at": now} for i in sorted(ids)]
        await execute_many(session, insert_for(session, PAPERS).on_conflict_do_nothing(), rows)

    async def remove_mentions(self, keys: Sequence[tuple[str, str]]) -> int:
        """Forget shares deleted upstream and refold their sharers."""
        async with self._factory() as session, session.begin():
            return await self._remove_mentions(session, keys)

    async def _remove_mentions(self, session: AsyncSession, keys: Sequence[tuple[str, str]]) -> int:
        gone: list[Any] = []
        for source, post_id in keys:
            result = await session.execute(
                delete(MentionRow)
                .where(MentionRow.source == source, MentionRow.post_id == post_id)
                .returning(MentionRow.arxiv_id, MentionRow.source, MentionRow.author)
            )
            gone.extend(result.all())
        for arxiv_id, source, author in set(map(tuple, gone)):
            await self._refold_sharer(session, arxiv_id, source, author)
        papers = {g[0] for g in gone}
        for arxiv_id in papers:
            # The newest share may be the one deleted: take it again from what remains.
            newest = select(func.max(MentionRow.posted_at)).where(MentionRow.arxiv_id == arxiv_id)
            await session.execute(
                update(PaperRow)
                .where(PaperRow.arxiv_id == arxiv_id)
                .values(last_share_at=newest.scalar_subquery())
            )
        await refresh_papers(session, papers, self._clock.now(), self._config)
        return len(gone)

    async def _refold_sharer(
        self, session: AsyncSession, arxiv_id: str, source: str, author: str
    ) -> None:
        where = (
            SharerRow.arxiv_id == arxiv_id,
            SharerRow.source == source,
            SharerRow.author == author,
        )
        await session.execute(delete(SharerRow).where(*where))
        span = (
            await session.execute(
                select(func.min(MentionRow.posted_at), func.max(MentionRow.posted_at)).where(
                    MentionRow.arxiv_id == arxiv_id,
                    MentionRow.source == source,
                    MentionRow.author == author,
                )
            )
        ).one()
        if span[0] is not None:
            session.add(
                SharerRow(
                    arxiv_id=arxiv_id,
                    source=source,
                    author=author,
                    first_at=span[0],
                    last_at=span[1],
                )
            )
            await session.flush()

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
        """Store vote snapshots idempotently and refresh their papers' scores."""
        async with self._factory() as session, session.begin():
            return await self._add_snapshots(session, snapshots)

    async def _add_snapshots(self, session: AsyncSession, snapshots: Sequence[VoteSnapshot]) -> int:
        if not snapshots:
            return 0
        now = self._clock.now()
        await self._ensure_papers(session, {s.arxiv_id for s in snapshots}, now)
        rows = [
            {
                "source": s.source,
                "item_id": s.item_id,
                "arxiv_id": s.arxiv_id,
                "taken_at": s.taken_at,
                "votes": s.votes,
                "comments": s.comments,
                "url": s.url,
                "title": s.title,
            }
            for s in snapshots
        ]
        added = 0
        for part in _slices(rows, 2000):
            stmt = insert_for(session, SnapshotRow).on_conflict_do_nothing()
            result = await session.execute(stmt.returning(SnapshotRow.arxiv_id), part)
            added += len(result.all())
        self._vote_sources = None
        await fold_shares(session, (), now, self._config, {s.arxiv_id for s in snapshots})
        return added

    async def save_papers(self, papers: Sequence[Paper]) -> None:
        """Insert or update papers' metadata; a paper without a title keeps what we had."""
        async with self._factory() as session, session.begin():
            await self._save_papers(session, papers)

    async def _save_papers(self, session: AsyncSession, papers: Sequence[Paper]) -> None:
        described = [p for p in papers if p.has_metadata]
        if not described:
            return
        now = self._clock.now()
        await self._ensure_papers(session, {p.arxiv_id for p in described}, now)
        # A listing may not know what the API told us (a cross-list has no date): never blank
        # a known field. Rows with different keys are grouped into one executemany each.
        rows = [
            {k: v for k, v in _paper_values(p, now).items() if v is not None or k == "unknown_at"}
            for p in described
        ]
        await session.execute(update(PaperRow), rows)

    async def get_paper(self, arxiv_id: str) -> Paper | None:
        """Return a tracked paper, with or without metadata."""
        async with self._factory() as session:
            # A Core read of a built statement: `/paper` asks first, and an ORM load of the row
            # costs as much again as the card's reads after it.
            connection = await session.connection()
            row = (await connection.execute(PAPER_BY_ID, {"arxiv_id": arxiv_id})).first()
            return None if row is None else paper_from_row(row)

    async def missing_metadata(self, limit: int) -> list[str]:
        """Return ids arXiv has not described yet, most shared first."""
        retry = self._clock.now() - UNKNOWN_RETRY
        async with self._factory() as session:
            rows = await session.execute(
                select(PaperRow.arxiv_id)
                .where(PaperRow.title.is_(None))
                .where(or_(PaperRow.unknown_at.is_(None), PaperRow.unknown_at < retry))
                .order_by(PaperRow.score_all.desc(), PaperRow.arxiv_id)
                .limit(limit)
            )
            return list(rows.scalars())

    async def mark_unknown(self, arxiv_ids: Sequence[str], now: datetime) -> None:
        """Remember ids arXiv did not know."""
        async with self._factory() as session, session.begin():
            for part in chunks(list(arxiv_ids)):
                await session.execute(
                    update(PaperRow).where(PaperRow.arxiv_id.in_(part)).values(unknown_at=now)
                )

    async def get_cursor(self, source: str) -> str | None:
        """Return a source's stored cursor."""
        async with self._factory() as session:
            row = await session.get(CursorRow, source)
            return None if row is None else row.cursor

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        """Store a poll's rows and advance its cursor in one transaction."""
        async with self._factory() as session, session.begin():
            await self._save_papers(session, batch.papers)
            report = await self._add_mentions(session, batch.mentions)
            if batch.removed:
                await self._remove_mentions(session, batch.removed)
            snapshots = await self._add_snapshots(session, batch.snapshots)
            if batch.cursor is not None:
                await session.merge(
                    CursorRow(source=source, cursor=batch.cursor, updated_at=self._clock.now())
                )
        return ImportReport(mentions=report.mentions, papers=report.papers, snapshots=snapshots)

    async def record_health(self, health: SourceHealth) -> None:
        """Store a source's health record."""
        async with self._factory() as session, session.begin():
            await session.merge(
                HealthRow(
                    source=health.source,
                    last_success=health.last_success,
                    last_error=health.last_error,
                    last_error_at=health.last_error_at,
                    items_seen=health.items_seen,
                    consecutive_failures=health.consecutive_failures,
                )
            )

    async def health(self) -> list[SourceHealth]:
        """Return every source's health record."""
        async with self._factory() as session:
            rows = await session.execute(select(HealthRow).order_by(HealthRow.source))
            return [
                SourceHealth(
                    source=r.source,
                    last_success=r.last_success,
                    last_error=r.last_error,
                    last_error_at=r.last_error_at,
                    items_seen=r.items_seen,
                    consecutive_failures=r.consecutive_failures,
                )
                for r in rows.scalars()
            ]

    async def is_empty(self) -> bool:
        """Whether no paper has been stored yet."""
        async with self._factory() as session:
            return (await session.execute(select(PaperRow.arxiv_id).limit(1))).first() is None

    async def get_meta(self, key: str) -> str | None:
        """Return a stored fact about the store."""
        async with self._factory() as session:
            row = await session.get(MetaRow, key)
            return None if row is None else row.value


def _slices(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


MENTION_COLUMNS = (
    "source",
    "post_id",
    "arxiv_id",
    "author",
    "posted_at",
    "kind",
    "version",
    "url",
    "text",
    "engagement",
)


_BY_PAPER = itemgetter(MENTION_COLUMNS.index("arxiv_id"))
# A mention's values in MENTION_COLUMNS order (its fields have the columns' names).
_MENTION_VALUES = attrgetter(*MENTION_COLUMNS)


def _paper_values(p: Paper, now: datetime) -> dict[str, Any]:
    return {
        "arxiv_id": p.arxiv_id,
        "title": p.title,
        "authors": json.dumps(list(p.authors), ensure_ascii=False) if p.authors else None,
        "abstract": p.abstract,
        "categories": " " + " ".join(p.categories) + " " if p.categories else None,
        "published": p.published,
        "updated": p.updated,
        "version": p.version,
        "search_text": f"{p.title} {p.abstract or ''}".lower(),
        "metadata_at": now,
        "unknown_at": None,
    }
