"""Trending order from the two indexed keys: the threshold walk behind `/top` and `/paper`.

A paper's trending score is its decayed share sum plus its log-compressed decayed vote gains.
`papers.trend_shares` and `papers.trend_votes` keep both sums as log2 values whose order at any
later time is the order of the sums (core.ranking), so walking down their indexes meets papers
best first, and `trending_bound` of the last keys met caps what any unmet paper can score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import PaperStats
from core.ports import TopQuery
from core.ranking import NEG_INF, RankingConfig, decayed, rank_papers, tie_key
from core.signals import trending_bound
from core.storage.refresh import FLOOR, from_db
from core.storage.tables import PaperRow

TRENDING_RANK_DEPTH = 200  # `/paper` reports trending ranks down to this depth
_KEYS: tuple[Any, ...] = (PaperRow.arxiv_id, PaperRow.trend_shares, PaperRow.trend_votes)


@dataclass(frozen=True, slots=True)
class _Walk:
    """Papers met walking down both trending keys, and the last key each walk reached."""

    keys: dict[str, tuple[float, float]]  # arxiv_id -> (trend_shares, trend_votes)
    share_floor: float  # -inf when the walk ran out of papers
    vote_floor: float
    exhausted: bool


class TrendingMixin:
    """The trending walk; the repository supplies exact scores and the vote sources' weight."""

    _config: RankingConfig

    async def _ranked(
        self, session: AsyncSession, ids: Sequence[str], now: datetime
    ) -> list[PaperStats]:
        raise NotImplementedError

    async def _vote_weight(self, session: AsyncSession) -> float:
        raise NotImplementedError

    async def _trending_ids(
        self, session: AsyncSession, query: TopQuery, now: datetime, need: int
    ) -> list[str]:
        """Top papers by trending score, exactly, with the threshold algorithm.

        Walk the papers in order of their share key and of their vote key together; a paper
        below both walks scores at most `trending_bound` of the last keys seen, so once `need`
        papers beat that bound the answer is complete.
        """
        vote_weight = await self._vote_weight(session)
        # Deep enough that one walk usually settles it: each extra walk is two round trips.
        depth = max(4 * need, 40)
        while True:
            walk = await self._walk(session, query, depth)
            hopeful = self._hopeful(walk, need, vote_weight, now)
            stats = rank_papers(await self._ranked(session, hopeful, now))
            bound = self._unseen_bound(walk, vote_weight, now)
            if walk.exhausted or (len(stats) >= need and stats[need - 1].score > bound):
                return [s.paper.arxiv_id for s in stats]
            depth *= 4

    async def _walk(self, session: AsyncSession, query: TopQuery, depth: int) -> _Walk:
        """The `depth` papers with the highest share key and those with the highest vote key."""
        arms = []
        for n, key in enumerate((PaperRow.trend_shares, PaperRow.trend_votes)):
            stmt = select(*_KEYS)
            sub = filtered(stmt.where(key > FLOOR), query).order_by(key.desc()).limit(depth)
            arm = sub.subquery()
            arms.append(select(literal(n).label("walk"), *arm.c))
        keys: dict[str, tuple[float, float]] = {}
        seen: tuple[list[float], list[float]] = ([], [])
        connection = await session.connection()
        for walk, arxiv_id, shares, votes in await connection.execute(union_all(*arms)):
            keys[arxiv_id] = (from_db(shares), from_db(votes))
            seen[walk].append(shares if walk == 0 else votes)
        return _Walk(
            keys=keys,
            share_floor=min(seen[0]) if len(seen[0]) == depth else NEG_INF,
            vote_floor=min(seen[1]) if len(seen[1]) == depth else NEG_INF,
            exhausted=len(seen[0]) < depth and len(seen[1]) < depth,
        )

    async def _surely_behind(self, session: AsyncSession, rounded: float, now: datetime) -> bool:
        """Whether TRENDING_RANK_DEPTH papers outscore `rounded` on their shares alone.

        The decayed share key bounds a score from below, so one index step settles the rank of
        the many papers far down the list.
        """
        stmt = (
            select(PaperRow.trend_shares)
            .where(PaperRow.trend_shares > FLOOR)
            .order_by(PaperRow.trend_shares.desc())
            .offset(TRENDING_RANK_DEPTH - 1)
            .limit(1)
        )
        key = (await (await session.connection()).execute(stmt)).scalar()
        return key is not None and _above(decayed(key, now, self._config.half_life), rounded)

    def _hopeful(self, walk: _Walk, need: int, vote_weight: float, now: datetime) -> list[str]:
        """The papers of a walk that may be among the best `need`, from bounds on their keys.

        A paper's decayed share key bounds its score from below and `trending_bound` of its keys
        from above: a paper whose upper bound is under the `need`-th best lower bound has at
        least `need` papers ahead, and is not scored exactly.
        """
        half_life = self._config.half_life
        lows = sorted((decayed(s, now, half_life) for s, _ in walk.keys.values()), reverse=True)
        if len(lows) < need:
            return sorted(walk.keys)
        floor = round(lows[need - 1] * (1 - 1e-9), 9)
        return sorted(
            pid
            for pid, (shares, votes) in walk.keys.items()
            if not _below(trending_bound(shares, votes, vote_weight, now, self._config), floor)
        )

    def _unseen_bound(self, walk: _Walk, vote_weight: float, now: datetime) -> float:
        """The most a paper that neither walk reached can score."""
        return trending_bound(walk.share_floor, walk.vote_floor, vote_weight, now, self._config)

    async def _trending_rank(
        self, session: AsyncSession, arxiv_id: str, now: datetime
    ) -> int | None:
        """The paper's place in the exact trending order, if within TRENDING_RANK_DEPTH.

        The threshold walk of `_trending_ids`, but a paper's keys already bound its score:
        the decayed share key from below, `trending_bound` of its keys from above. Only the
        papers those bounds cannot place against this one are scored exactly.
        """
        found = await self._ranked(session, [arxiv_id], now)
        if not found or found[0].score <= 0:
            return None
        key = tie_key(found[0])
        if await self._surely_behind(session, key[0], now):
            return None
        vote_weight = await self._vote_weight(session)
        depth = TRENDING_RANK_DEPTH
        while True:
            walk = await self._walk(session, TopQuery(), depth)
            ahead = 0
            unsure: list[str] = []
            for other, (shares, votes) in walk.keys.items():
                low = decayed(shares, now, self._config.half_life)
                high = trending_bound(shares, votes, vote_weight, now, self._config)
                if other == arxiv_id or _below(high, key[0]):
                    continue
                if _above(low, key[0]):
                    ahead += 1
                else:
                    unsure.append(other)
            if ahead >= TRENDING_RANK_DEPTH:
                return None
            exact = await self._ranked(session, sorted(unsure), now)
            ahead += sum(1 for s in exact if s.score > 0 and tie_key(s) > key)
            if ahead >= TRENDING_RANK_DEPTH:
                return None
            bound = self._unseen_bound(walk, vote_weight, now)
            if walk.exhausted or _below(bound, key[0]):
                return ahead + 1
            depth *= 4


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
    for word in query.words:
        stmt = stmt.where(PaperRow.search_text.like(f"%{_escape_like(word.lower())}%", escape="\\"))
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Scores are compared as tie_key rounds them; the margin covers the float error of the bounds.
def _above(bound: float, rounded: float) -> bool:
    return round(bound * (1 - 1e-9), 9) > rounded


def _below(bound: float, rounded: float) -> bool:
    return round(bound * (1 + 1e-9) + 1e-12, 9) < rounded
