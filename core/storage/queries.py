"""Read side of `SqlPaperRepository`: ranked lists, paper stats, the 2016 page and search."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Paper, PaperStats, Window
from core.ports import Clock, TopQuery
from core.ranking import RankingConfig
from core.signals import Signal, paper_stats
from core.storage.freshness import ensure_fresh
from core.storage.paper_reads import CardMixin
from core.storage.refresh import chunks, from_db, with_signals
from core.storage.tables import PaperRow, SignalRow, ranked
from core.storage.trending import filtered

_CARD: tuple[Any, ...] = (
    PaperRow.arxiv_id,
    PaperRow.title,
    PaperRow.authors,
    PaperRow.abstract,
    PaperRow.categories,
    PaperRow.published,
    PaperRow.updated,
    PaperRow.version,
    PaperRow.last_share_at,
)
_RANK = (PaperRow.arxiv_id, PaperRow.published, PaperRow.last_share_at)
PAPER_BY_ID = select(*_CARD).where(PaperRow.arxiv_id == bindparam("arxiv_id"))
_SCORE = {
    "day": (PaperRow.score_day, PaperRow.networks_day),
    "week": (PaperRow.score_week, PaperRow.networks_week),
    "month": (PaperRow.score_month, PaperRow.networks_month),
    "all": (PaperRow.score_all, PaperRow.networks_all),
}


# Ties after score and networks: the newest share, then the newer paper, then the id (as
# core.ranking.tie_key). A missing value sorts last on every database (PostgreSQL would put
# NULL first in a descending order).
_FLOOR_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = func.coalesce(PaperRow.last_share_at, _FLOOR_TIME)
_PUBLISHED = func.coalesce(PaperRow.published, _FLOOR_TIME)
TIE_BREAKS = (
    PaperRow.last_share_at.desc().nulls_last(),
    PaperRow.published.desc().nulls_last(),
    PaperRow.arxiv_id.desc(),
)


def _before(keys: tuple[Any, ...], values: tuple[Any, ...]) -> Any:
    """Rows that sort strictly before `values` in descending order of `keys`."""
    head, *rest = keys
    first, *others = values
    if not rest:
        return head > first
    return or_(head > first, and_(head == first, _before(tuple(rest), tuple(others))))


CATEGORIES_TTL = 300.0  # seconds


class QueryMixin(CardMixin):
    """Queries that read stored scores; never a scan of all mentions."""

    _factory: async_sessionmaker[AsyncSession]
    _config: RankingConfig
    _clock: Clock
    _checked_at: datetime | None
    _refresh_lock: asyncio.Lock
    _categories: tuple[float, list[str]] | None
    _vote_sources: frozenset[str] | None

    async def _fresh(self, session: AsyncSession, now: datetime) -> None:
        """Bring window counts up to `now` when they are more than a minute old."""
        if self._recently_checked(now):
            return
        # Concurrent queries (a digest round builds several at once) refresh only once.
        async with self._refresh_lock:
            if self._recently_checked(now):
                return
            await ensure_fresh(session, now, self._config)
            await session.commit()
            self._checked_at = now

    def _recently_checked(self, now: datetime) -> bool:
        checked = self._checked_at
        return checked is not None and timedelta(0) <= now - checked < timedelta(minutes=1)

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Return papers ranked in the query's window, best first."""
        async with self._factory() as session:
            await self._fresh(session, now)
            if query.window == "trending":
                best = await self._trending(session, query, now, query.offset + query.limit)
                return best[query.offset : query.offset + query.limit]
            score, networks = _SCORE[query.window]
            stmt = filtered(select(PaperRow.arxiv_id).where(ranked(score)), query)
            stmt = stmt.order_by(score.desc(), networks.desc(), *TIE_BREAKS)
            rows = await session.execute(stmt.limit(query.limit).offset(query.offset))
            return await self._stats(session, list(rows.scalars()), query.window, now)

    async def _vote_weight(self, session: AsyncSession) -> float:
        if self._vote_sources is None:
            rows = await session.execute(
                select(SignalRow.source).where(SignalRow.kind == "vote").distinct()
            )
            self._vote_sources = frozenset(rows.scalars())
        return sum(self._config.weight(s) for s in self._vote_sources)

    async def _stats(
        self, session: AsyncSession, ids: Sequence[str], window: Window, now: datetime
    ) -> list[PaperStats]:
        """Build PaperStats for `ids`, keeping their order."""
        return await self._build(session, ids, window, now, _CARD_READ)

    async def _ranked(
        self, session: AsyncSession, ids: Sequence[str], now: datetime
    ) -> list[PaperStats]:
        """Trending PaperStats for `ids` with only what ranking reads (no title or abstract)."""
        return await self._build(session, ids, "trending", now, _RANK_READ)

    async def _build(
        self,
        session: AsyncSession,
        ids: Sequence[str],
        window: Window,
        now: datetime,
        read: _Read,
    ) -> list[PaperStats]:
        # Core rows rather than ORM objects: ranking builds hundreds of these per query.
        if not ids:
            return []
        papers: dict[str, Any] = {}
        signals: dict[str, list[Signal]] = defaultdict(list)
        width = read.width
        connection = await session.connection()  # Core results: no ORM row processing
        for part in chunks(list(ids)):
            for row in await connection.execute(read.stmt, {"ids": list(part)}):
                papers[row[0]] = row
                source, kind, day, week, month, total, trend, comments = row[width:]
                if kind is not None:
                    signals[row[0]].append(
                        Signal(
                            source,
                            "share" if kind == "share" else "vote",
                            day,
                            week,
                            month,
                            total,
                            from_db(trend),
                            comments,
                        )
                    )
        return [
            paper_stats(
                read.paper(papers[i]),
                signals[i],
                window,
                now,
                self._config,
                papers[i].last_share_at,
            )
            for i in ids
            if i in papers
        ]

    async def paper_stats(self, arxiv_id: str, window: Window, now: datetime) -> PaperStats | None:
        """Return one paper's score and counts."""
        async with self._factory() as session:
            await self._fresh(session, now)
            found = await self._stats(session, [arxiv_id], window, now)
            return found[0] if found else None

    async def rank_of(self, arxiv_id: str, window: Window, now: datetime) -> int | None:
        """Return the paper's rank in the window; trending ranks go down to a fixed depth."""
        async with self._factory() as session:
            await self._fresh(session, now)
            if window == "trending":
                found = await self._ranked(session, [arxiv_id], now)
                return await self._trending_place(session, found[0], now) if found else None
            score, networks = _SCORE[window]
            keys = (score, networks, _LAST, _PUBLISHED, PaperRow.arxiv_id)
            row = (
                await session.execute(select(*keys).where(PaperRow.arxiv_id == arxiv_id))
            ).first()
            if row is None or row[0] <= 0:
                return None
            ahead = await session.execute(
                select(func.count())
                .select_from(PaperRow)
                # The index range: this score or more. SQLite seeks by the first of two lower
                # bounds, so the partial index's own term comes second.
                .where(score >= row[0], ranked(score), _before(keys, tuple(row)))
            )
            return int(ahead.scalar_one()) + 1

    async def newest(self, limit: int, offset: int) -> list[PaperStats]:
        """Return shared papers by publication date, newest first."""
        async with self._factory() as session:
            rows = await session.execute(
                select(PaperRow.arxiv_id)
                .where(PaperRow.published.is_not(None), PaperRow.score_all > 0)
                .order_by(PaperRow.published.desc(), PaperRow.arxiv_id.desc())
                .limit(limit)
                .offset(offset)
            )
            return await self._stats(session, list(rows.scalars()), "all", self._clock.now())

    async def count_listed(self, query: TopQuery | None, at_most: int) -> int:
        """Count the papers `top(query)` ranks (`newest` lists when None), up to `at_most`."""
        if query is None:
            listed = select(PaperRow.arxiv_id).where(
                PaperRow.published.is_not(None), PaperRow.score_all > 0
            )
        elif query.window == "trending":
            shares, votes = ranked(PaperRow.trend_shares), ranked(PaperRow.trend_votes)
            listed = filtered(select(PaperRow.arxiv_id).where(shares | votes), query)
        else:
            listed = filtered(
                select(PaperRow.arxiv_id).where(ranked(_SCORE[query.window][0])), query
            )
        async with self._factory() as session:
            if query is not None:
                await self._fresh(session, self._clock.now())
            bounded = listed.limit(at_most).subquery()
            rows = await session.execute(select(func.count()).select_from(bounded))
            return int(rows.scalar_one())

    async def count_waiting(self) -> int:
        """How many shared papers still wait for arXiv's metadata."""
        async with self._factory() as session:
            rows = await session.execute(
                select(func.count()).select_from(PaperRow).where(PaperRow.title.is_(None))
            )
            return int(rows.scalar_one())

    async def search(self, words: Sequence[str], limit: int, now: datetime) -> list[PaperStats]:
        """Return tracked papers whose title or abstract holds every word, best first."""
        async with self._factory() as session:
            await self._fresh(session, now)
            stmt = filtered(select(PaperRow.arxiv_id), TopQuery(words=tuple(words)))
            rows = await session.execute(
                stmt.order_by(PaperRow.score_all.desc(), *TIE_BREAKS).limit(limit)
            )
            return await self._stats(session, list(rows.scalars()), "all", now)

    async def categories(self) -> list[str]:
        """Return the categories of tracked papers, most common first.

        Discord asks on every keystroke of a category option: the answer is counted over up
        to 20,000 papers at most once every few minutes.
        """
        now = time.monotonic()
        cached = self._categories
        if cached is not None and now - cached[0] < CATEGORIES_TTL:
            return list(cached[1])
        async with self._factory() as session:
            rows = await session.execute(
                select(PaperRow.categories).where(PaperRow.categories.is_not(None)).limit(20000)
            )
            counts: dict[str, int] = defaultdict(int)
            for (cats,) in rows:
                for c in (cats or "").split():
                    counts[c] += 1
        ranked = sorted(counts, key=lambda c: (-counts[c], c))
        self._categories = (now, ranked)
        return list(ranked)


def paper_from_row(row: PaperRow | Row[Any]) -> Paper:
    """Turn a stored paper (an ORM row, or a Core row of its columns) into a `Paper`."""
    return Paper(
        arxiv_id=row.arxiv_id,
        title=row.title,
        authors=tuple(json.loads(row.authors)) if row.authors else (),
        abstract=row.abstract,
        categories=tuple(row.categories.split()) if row.categories else (),
        published=row.published,
        updated=row.updated,
        version=row.version,
    )


def _bare(row: Row[Any]) -> Paper:
    """The part of a paper that ranking reads: tie-breaks look at the publication date."""
    return Paper(arxiv_id=row.arxiv_id, published=row.published)


class _Read(NamedTuple):
    """Papers' columns with their signals, and how to turn the columns into a `Paper`."""

    stmt: Select[Any]
    width: int  # how many of a row's columns are the paper's
    paper: Callable[[Row[Any]], Paper]


def _with_signals(columns: tuple[Any, ...], paper: Callable[[Row[Any]], Paper]) -> _Read:
    # Built once: ranking runs it for hundreds of papers a query, and `/paper` on every call.
    return _Read(with_signals(columns), len(columns), paper)


_CARD_READ = _with_signals(_CARD, paper_from_row)
_RANK_READ = _with_signals(_RANK, _bare)
