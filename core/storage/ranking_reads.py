"""`SqlRankingReads`: `/top`, `/new`, `/paper` and `/search` as index reads of stored scores.

Every read is a read-only transaction (PostgreSQL is told so): it never brings scores up to
date, so it answers while another process holds SQLite's write lock or the disk is full, and
a role with only SELECT can serve it. Trending is the order of one key (storage.scores); the
window scores are as of the last sweep.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Executable,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.models import DailySeries, Discussion, Mention, Paper, PaperStats, Window
from core.ports import CardFacts, CardQuery, Clock, TopQuery
from core.ranking import RankingConfig
from core.signals import Signal, paper_stats
from core.storage.card_reads import (
    daily_shares,
    daily_shares_by_network,
    discussions,
    top_posts,
)
from core.storage.scores import PAPERS, SIGNALS, signal_of
from core.storage.tables import PaperRow, PaperTextRow, ranked
from core.storage.upsert import chunks

TRENDING_RANK_DEPTH = 200  # `/paper` reports trending ranks down to this depth
CATEGORIES_TTL = 300.0  # seconds
_FLOOR_TIME = datetime(1970, 1, 1, tzinfo=UTC)
TEXTS = cast(Table, PaperTextRow.__table__)
_CARD: tuple[Any, ...] = (
    PaperRow.arxiv_id,
    PaperRow.title,
    PaperRow.authors,
    TEXTS.c.abstract,
    PaperRow.categories,
    PaperRow.published,
    PaperRow.updated,
    PaperRow.version,
    PaperRow.last_share_at,
)
# A paper's row with its abstract (papers without metadata have no texts row).
WITH_TEXTS = PAPERS.outerjoin(TEXTS, TEXTS.c.arxiv_id == PAPERS.c.arxiv_id)
PAPER_BY_ID = (
    select(*_CARD).select_from(WITH_TEXTS).where(PaperRow.arxiv_id == bindparam("arxiv_id"))
)
PAPERS_BY_IDS = (
    select(*_CARD)
    .select_from(WITH_TEXTS)
    .where(PaperRow.arxiv_id.in_(bindparam("ids", expanding=True)))
)
# Each window's order: its score, more networks, then the tie-breaks of core.ranking.tie_key.
_SCORE = {
    "trending": (PaperRow.trend, PaperRow.networks_all),
    "day": (PaperRow.score_day, PaperRow.networks_day),
    "week": (PaperRow.score_week, PaperRow.networks_week),
    "month": (PaperRow.score_month, PaperRow.networks_month),
    "all": (PaperRow.score_all, PaperRow.networks_all),
}
# A missing value sorts last on every database (PostgreSQL would put NULL first descending).
TIE_BREAKS = (
    PaperRow.last_share_at.desc().nulls_last(),
    PaperRow.published.desc().nulls_last(),
    PaperRow.arxiv_id.desc(),
)
_TIES = (
    func.coalesce(PaperRow.last_share_at, _FLOOR_TIME),
    func.coalesce(PaperRow.published, _FLOOR_TIME),
    PaperRow.arxiv_id,
)
# A paper's columns, then each of its signal rows' (NULLs for a paper without any).
_WITH_SIGNALS = (
    select(*_CARD, *(c for c in SIGNALS.c if c.key != "arxiv_id"))
    .select_from(
        WITH_TEXTS.outerjoin(
            SIGNALS,
            and_(
                SIGNALS.c.arxiv_id == PAPERS.c.arxiv_id,
                # Bound on both sides: PostgreSQL does not carry the ids across the join.
                SIGNALS.c.arxiv_id.in_(bindparam("ids", expanding=True)),
            ),
        )
    )
    .where(PAPERS.c.arxiv_id.in_(bindparam("ids", expanding=True)))
)


@asynccontextmanager
async def reading(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A connection in a read-only transaction (on PostgreSQL, declared so)."""
    async with read_session(factory) as session:
        yield await session.connection()


@asynccontextmanager
async def read_session(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in a read-only transaction, for reads of ORM rows."""
    async with factory() as session:
        await session.connection(execution_options={"postgresql_readonly": True})
        yield session


class SqlRankingReads:
    """Ranked lists, paper stats and cards, read from stored scores; never a write."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], config: RankingConfig, clock: Clock
    ) -> None:
        self._factory = factory
        self._config = config
        self._clock = clock
        self._categories: tuple[float, list[str]] | None = None

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Return papers ranked in the query's window, best first: one index range."""
        score, networks = _SCORE[query.window]
        stmt = _listed(query).order_by(score.desc(), networks.desc(), *TIE_BREAKS)
        async with reading(self._factory) as connection:
            rows = await connection.execute(stmt.limit(query.limit).offset(query.offset))
            return await self._stats(connection, list(rows.scalars()), query.window, now)

    async def paper_stats(self, arxiv_id: str, window: Window, now: datetime) -> PaperStats | None:
        """Return one paper's score and counts."""
        async with reading(self._factory) as connection:
            found = await self._stats(connection, [arxiv_id], window, now)
            return found[0] if found else None

    async def rank_of(self, arxiv_id: str, window: Window, now: datetime) -> int | None:
        """Return the paper's rank in the window; trending ranks go down to a fixed depth."""
        async with reading(self._factory) as connection:
            return await _rank(connection, arxiv_id, window)

    async def card(self, query: CardQuery, now: datetime) -> CardFacts:
        """Read a paper card in one read-only transaction."""
        arxiv_id = query.arxiv_id
        async with reading(self._factory) as connection:
            found = await self._stats(connection, [arxiv_id], "trending", now)
            stats = found[0] if found else None
            rank = await _rank(connection, arxiv_id, "trending") if stats else None
            by_network: tuple[DailySeries, ...] = ()
            if query.by_network:
                by_network = tuple(
                    await daily_shares_by_network(connection, arxiv_id, query.first_day, query.days)
                )
                # The split adds up to the total: one read of the month's shares, not two.
                daily = tuple(sum(day) for day in zip(*(s.counts for s in by_network), strict=True))
                daily = daily or (0,) * query.days
            else:
                daily = tuple(await daily_shares(connection, arxiv_id, query.first_day, query.days))
            return CardFacts(
                stats=stats,
                rank=rank,
                daily_shares=daily,
                top_posts=tuple(await top_posts(connection, arxiv_id, query.posts)),
                discussions=tuple(await discussions(connection, arxiv_id, query.discussions)),
                by_network=by_network,
            )

    async def daily_shares(self, arxiv_id: str, first: datetime, days: int) -> list[int]:
        """Return the paper's shares per UTC day for `days` days from `first`."""
        async with reading(self._factory) as connection:
            return await daily_shares(connection, arxiv_id, first, days)

    async def daily_shares_by_network(
        self, arxiv_id: str, first: datetime, days: int
    ) -> list[DailySeries]:
        """Return the paper's shares per UTC day and network."""
        async with reading(self._factory) as connection:
            return await daily_shares_by_network(connection, arxiv_id, first, days)

    async def top_posts(self, arxiv_id: str, limit: int) -> list[Mention]:
        """Return the paper's most engaging shares, then the earliest, one per account."""
        async with reading(self._factory) as connection:
            return await top_posts(connection, arxiv_id, limit)

    async def discussions(self, arxiv_id: str, limit: int) -> list[Discussion]:
        """Return aggregator items about the paper, most voted first."""
        async with reading(self._factory) as connection:
            return await discussions(connection, arxiv_id, limit)

    async def newest(self, limit: int, offset: int) -> list[PaperStats]:
        """Return shared papers by publication date, newest first."""
        stmt = (
            _listed(None)
            .order_by(PaperRow.published.desc(), PaperRow.arxiv_id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with reading(self._factory) as connection:
            ids = list((await connection.execute(stmt)).scalars())
            return await self._stats(connection, ids, "all", self._clock.now())

    async def count_listed(self, query: TopQuery | None, at_most: int) -> int:
        """Count the papers `top(query)` ranks (`newest` lists when None), up to `at_most`."""
        bounded = select(func.count()).select_from(_listed(query).limit(at_most).subquery())
        async with reading(self._factory) as connection:
            return int((await connection.execute(bounded)).scalar_one())

    async def search(self, words: Sequence[str], limit: int, now: datetime) -> list[PaperStats]:
        """Return tracked papers whose title or abstract holds every word, best first."""
        stmt = filtered(select(PaperRow.arxiv_id), TopQuery(words=tuple(words)))
        stmt = stmt.order_by(PaperRow.score_all.desc(), *TIE_BREAKS).limit(limit)
        async with reading(self._factory) as connection:
            ids = list((await connection.execute(stmt)).scalars())
            return await self._stats(connection, ids, "all", now)

    async def categories(self) -> list[str]:
        """Return the categories of tracked papers, most common first.

        Discord asks on every keystroke of a category option: the answer is counted over up
        to 20,000 papers at most once every few minutes.
        """
        moment = time.monotonic()
        cached = self._categories
        if cached is not None and moment - cached[0] < CATEGORIES_TTL:
            return list(cached[1])
        stmt = select(PaperRow.categories).where(PaperRow.categories.is_not(None)).limit(20000)
        counts: dict[str, int] = defaultdict(int)
        async with reading(self._factory) as connection:
            for (cats,) in await connection.execute(stmt):
                for c in (cats or "").split():
                    counts[c] += 1
        found = sorted(counts, key=lambda c: (-counts[c], c))
        self._categories = (moment, found)
        return list(found)

    async def _stats(
        self, connection: AsyncConnection, ids: Sequence[str], window: Window, now: datetime
    ) -> list[PaperStats]:
        """PaperStats for `ids` from their stored signals, in the order of `ids`."""
        papers: dict[str, Row[Any]] = {}
        signals: dict[str, list[Signal]] = defaultdict(list)
        width = len(_CARD)
        for part in chunks(list(ids)):
            for row in await connection.execute(_WITH_SIGNALS, {"ids": list(part)}):
                papers[row[0]] = row
                if row[width + 1] is not None:
                    signals[row[0]].append(signal_of(*row[width:]))
        return stats_in_order(papers, [(i, signals[i]) for i in ids], window, now, self._config)


def stats_in_order(
    papers: Mapping[str, Any],
    ranked: Sequence[tuple[str, list[Signal]]],
    window: Window,
    now: datetime,
    config: RankingConfig,
) -> list[PaperStats]:
    """The stats of each ranked paper read into `papers` (rows of `_CARD`), in rank order."""
    return [
        paper_stats(
            paper_from_row(papers[i]), signals, window, now, config, papers[i].last_share_at
        )
        for i, signals in ranked
        if i in papers
    ]


def _listed(query: TopQuery | None) -> Select[Any]:
    """The papers `top(query)` ranks (`newest` lists when None), in no order."""
    if query is None:
        return select(PaperRow.arxiv_id).where(
            PaperRow.published.is_not(None), PaperRow.score_all > 0
        )
    return filtered(select(PaperRow.arxiv_id).where(ranked(_SCORE[query.window][0])), query)


async def _rank(connection: AsyncConnection, arxiv_id: str, window: Window) -> int | None:
    """The paper's 1-based place in the window's order: a count of the keys ahead of it.

    Trending counts stop at TRENDING_RANK_DEPTH, so a paper far down costs a bounded read.
    """
    keys, ahead = _rank_statements(window)
    row = (await connection.execute(keys, {"arxiv_id": arxiv_id})).first()
    if row is None or not row[-1]:
        return None
    values = {f"key_{i}": value for i, value in enumerate(tuple(row)[:-1])}
    place = int((await connection.execute(ahead, values)).scalar() or 0) + 1
    return None if window == "trending" and place > TRENDING_RANK_DEPTH else place


@cache
def _rank_statements(window: Window) -> tuple[Executable, Executable]:
    """A paper's keys in the window's order, and the count of papers ahead of `key_0`, ….

    Built once: building the comparison of five keys cost more than running it.
    """
    score, networks = _SCORE[window]
    keys = (score, networks, *_TIES)
    own = select(*keys, ranked(score)).where(PaperRow.arxiv_id == bindparam("arxiv_id"))
    values: list[Any] = [bindparam(f"key_{i}") for i in range(len(keys))]
    # The index range: this score or more. SQLite seeks by the first of two lower bounds, so
    # the partial index's own term comes second.
    ahead = select(PaperRow.arxiv_id).where(
        score >= values[0], ranked(score), _before(keys, values)
    )
    if window == "trending":
        ahead = ahead.order_by(score.desc()).limit(TRENDING_RANK_DEPTH)
    return own, select(func.count()).select_from(ahead.subquery())


def _before(keys: tuple[Any, ...], values: Sequence[Any]) -> Any:
    """Rows that sort strictly before `values` in descending order of `keys`."""
    head, *rest = keys
    first, *others = values
    if not rest:
        return head > first
    return or_(head > first, and_(head == first, _before(tuple(rest), others)))


def filtered(stmt: Select[Any], query: TopQuery) -> Select[Any]:
    """Apply a query's category and words to a select of papers."""
    if query.category:
        category = _escape_like(query.category)
        # An archive alone (`math`) matches all of its subject classes (`math.AG`).
        exact = PaperRow.categories.like(f"% {category} %", escape="\\")
        if "." in query.category:
            stmt = stmt.where(exact)
        else:
            stmt = stmt.where(exact | PaperRow.categories.like(f"% {category}.%", escape="\\"))
    if query.words:
        text = TEXTS.c.search_text
        words = [text.like(f"%{_escape_like(w.lower())}%", escape="\\") for w in query.words]
        stmt = stmt.where(exists().where(TEXTS.c.arxiv_id == PaperRow.arxiv_id, *words))
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def paper_from_row(row: Any) -> Paper:
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
