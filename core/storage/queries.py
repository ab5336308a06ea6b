"""Read side of `SqlPaperRepository`: ranked lists, cards, the 2016 page and search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Discussion, Mention, PaperStats, Window
from core.ports import Clock, TopQuery
from core.ranking import RankingConfig, rank_papers
from core.signals import Signal, paper_stats, trending_bound
from core.storage.freshness import ensure_fresh
from core.storage.refresh import FLOOR, chunks, signal_from_row
from core.storage.tables import MentionRow, PaperRow, SignalRow, SnapshotRow

TRENDING_RANK_DEPTH = 200  # `/paper` reports trending ranks down to this depth

_SCORE = {
    "day": (PaperRow.score_day, PaperRow.networks_day),
    "week": (PaperRow.score_week, PaperRow.networks_week),
    "month": (PaperRow.score_month, PaperRow.networks_month),
    "all": (PaperRow.score_all, PaperRow.networks_all),
}


class QueryMixin:
    """Queries that read stored scores; never a scan of all mentions."""

    _factory: async_sessionmaker[AsyncSession]
    _config: RankingConfig
    _clock: Clock
    _checked_at: datetime | None
    _vote_sources: frozenset[str] | None

    async def _fresh(self, session: AsyncSession, now: datetime) -> None:
        """Bring window counts up to `now` when they are more than a minute old."""
        if self._checked_at is not None and timedelta(0) <= now - self._checked_at < timedelta(
            minutes=1
        ):
            return
        await ensure_fresh(session, now, self._config)
        await session.commit()
        self._checked_at = now

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Return papers ranked in the query's window, best first."""
        async with self._factory() as session:
            await self._fresh(session, now)
            if query.window == "trending":
                ids = await self._trending_ids(session, query, now, query.offset + query.limit)
                ids = ids[query.offset : query.offset + query.limit]
            else:
                score, networks = _SCORE[query.window]
                stmt = _filtered(select(PaperRow.arxiv_id).where(score > 0), query)
                stmt = stmt.order_by(
                    score.desc(),
                    networks.desc(),
                    PaperRow.last_share_at.desc(),
                    PaperRow.published.desc(),
                )
                rows = await session.execute(stmt.limit(query.limit).offset(query.offset))
                ids = list(rows.scalars())
            return await self._stats(session, ids, query.window, now)

    async def _trending_ids(
        self, session: AsyncSession, query: TopQuery, now: datetime, need: int
    ) -> list[str]:
        """Top papers by trending score, exactly, with the threshold algorithm.

        Walk the papers in order of their share key and of their vote key together; a paper
        below both walks scores at most `trending_bound` of the last keys seen, so once `need`
        papers beat that bound the answer is complete.
        """
        vote_weight = await self._vote_weight(session)
        depth = max(need, 10)
        while True:
            by_shares = await self._walk(session, PaperRow.trend_shares, query, depth)
            by_votes = await self._walk(session, PaperRow.trend_votes, query, depth)
            candidates = {pid for pid, _ in by_shares} | {pid for pid, _ in by_votes}
            stats = rank_papers(await self._stats(session, sorted(candidates), "trending", now))
            exhausted = len(by_shares) < depth and len(by_votes) < depth
            bound = trending_bound(
                by_shares[-1][1] if len(by_shares) == depth else float("-inf"),
                by_votes[-1][1] if len(by_votes) == depth else float("-inf"),
                vote_weight,
                now,
                self._config,
            )
            if exhausted or (len(stats) >= need and stats[need - 1].score > bound):
                return [s.paper.arxiv_id for s in stats]
            depth *= 4

    async def _walk(
        self, session: AsyncSession, key: Any, query: TopQuery, depth: int
    ) -> list[tuple[str, float]]:
        stmt = _filtered(select(PaperRow.arxiv_id, key).where(key > FLOOR), query)
        rows = await session.execute(stmt.order_by(key.desc()).limit(depth))
        return [(pid, value) for pid, value in rows]

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
        if not ids:
            return []
        papers: dict[str, PaperRow] = {}
        signals: dict[str, list[Signal]] = defaultdict(list)
        for part in chunks(list(ids)):
            for row in (
                await session.execute(select(PaperRow).where(PaperRow.arxiv_id.in_(part)))
            ).scalars():
                papers[row.arxiv_id] = row
            for sig in (
                await session.execute(select(SignalRow).where(SignalRow.arxiv_id.in_(part)))
            ).scalars():
                signals[sig.arxiv_id].append(signal_from_row(sig))
        from core.storage.repository import paper_from_row

        return [
            paper_stats(
                paper_from_row(papers[i]),
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
                ids = await self._trending_ids(
                    session, TopQuery(limit=TRENDING_RANK_DEPTH), now, TRENDING_RANK_DEPTH
                )
                return ids.index(arxiv_id) + 1 if arxiv_id in ids[:TRENDING_RANK_DEPTH] else None
            score, networks = _SCORE[window]
            row = (
                await session.execute(
                    select(score, networks, PaperRow.last_share_at).where(
                        PaperRow.arxiv_id == arxiv_id
                    )
                )
            ).first()
            if row is None or row[0] <= 0:
                return None
            better = or_(score > row[0], (score == row[0]) & (networks > row[1]))
            ahead = await session.execute(select(func.count()).select_from(PaperRow).where(better))
            return int(ahead.scalar_one()) + 1

    async def daily_shares(self, arxiv_id: str, first: datetime, days: int) -> list[int]:
        """Return the paper's shares per UTC day for `days` days from `first`."""
        end = first + timedelta(days=days)
        async with self._factory() as session:
            rows = await session.execute(
                select(MentionRow.posted_at).where(
                    MentionRow.arxiv_id == arxiv_id,
                    MentionRow.posted_at >= first,
                    MentionRow.posted_at < end,
                )
            )
            counts = [0] * days
            for (moment,) in rows:
                counts[(moment - first).days] += 1
            return counts

    async def top_posts(self, arxiv_id: str, limit: int) -> list[Mention]:
        """Return the paper's most engaging shares, then the earliest, one per account."""
        async with self._factory() as session:
            rows = await session.execute(
                select(MentionRow)
                .where(MentionRow.arxiv_id == arxiv_id)
                .order_by(MentionRow.engagement.desc(), MentionRow.posted_at)
                .limit(limit * 5)
            )
            posts: list[Mention] = []
            seen: set[tuple[str, str]] = set()
            for r in rows.scalars():
                if (r.source, r.author) in seen:
                    continue
                seen.add((r.source, r.author))
                posts.append(_mention(r))
            return posts[:limit]

    async def discussions(self, arxiv_id: str, limit: int) -> list[Discussion]:
        """Return aggregator items about the paper, most voted first."""
        async with self._factory() as session:
            latest = (
                select(
                    SnapshotRow.source,
                    SnapshotRow.item_id,
                    func.max(SnapshotRow.taken_at).label("at"),
                )
                .where(SnapshotRow.arxiv_id == arxiv_id)
                .group_by(SnapshotRow.source, SnapshotRow.item_id)
                .subquery()
            )
            rows = await session.execute(
                select(
                    SnapshotRow.source,
                    SnapshotRow.url,
                    SnapshotRow.title,
                    SnapshotRow.votes,
                    SnapshotRow.comments,
                )
                .join(
                    latest,
                    (SnapshotRow.source == latest.c.source)
                    & (SnapshotRow.item_id == latest.c.item_id)
                    & (SnapshotRow.taken_at == latest.c.at),
                )
                .where(SnapshotRow.arxiv_id == arxiv_id)
                .order_by(SnapshotRow.votes.desc())
                .limit(limit)
            )
            return [Discussion(*r) for r in rows]

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
            stmt = _filtered(select(PaperRow.arxiv_id), TopQuery(words=tuple(words)))
            rows = await session.execute(
                stmt.order_by(PaperRow.score_all.desc(), PaperRow.published.desc()).limit(limit)
            )
            return await self._stats(session, list(rows.scalars()), "all", now)

    async def categories(self) -> list[str]:
        """Return the primary categories of tracked papers, most common first."""
        async with self._factory() as session:
            rows = await session.execute(
                select(PaperRow.categories).where(PaperRow.categories.is_not(None)).limit(20000)
            )
            counts: dict[str, int] = defaultdict(int)
            for (cats,) in rows:
                for c in (cats or "").split():
                    counts[c] += 1
            return sorted(counts, key=lambda c: (-counts[c], c))


def _filtered(stmt: Select[Any], query: TopQuery) -> Select[Any]:
    if query.category:
        category = _escape_like(query.category)
        # An archive alone (`math`) matches all of its subject classes (`math.AG`).
        exact = PaperRow.categories.like(f"% {category} %", escape="\\")
        if "." in query.category:
            stmt = stmt.where(exact)
        else:
            stmt = stmt.where(exact | PaperRow.categories.like(f"% {category}.%", escape="\\"))
    for word in query.words:
        stmt = stmt.where(PaperRow.search_text.like(f"%{_escape_like(word.lower())}%", escape="\\"))
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _mention(r: MentionRow) -> Mention:
    return Mention(
        source=r.source,
        post_id=r.post_id,
        author=r.author,
        posted_at=r.posted_at,
        kind="repost" if r.kind == "repost" else "quote" if r.kind == "quote" else "post",
        arxiv_id=r.arxiv_id,
        version=r.version,
        url=r.url,
        text=r.text,
        engagement=r.engagement,
    )
