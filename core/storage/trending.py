"""Trending order from the two indexed keys: the threshold walk of `/top`, the rank of `/paper`.

A paper's trending score is its decayed share sum plus its log-compressed decayed vote gains.
`papers.trend_shares` and `papers.trend_votes` keep both sums as log2 values whose order at any
later time is the order of the sums (core.ranking), so walking down their indexes meets papers
best first, and `trending_bound` of the last keys met caps what any unmet paper can score. One
paper's rank needs no walk: its score turns into key ranges that hold every paper that may be
ahead of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Float,
    Select,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import PaperStats, Window
from core.ports import TopQuery
from core.ranking import NEG_INF, RankingConfig, decay_exponent, decayed, rank_papers, tie_key
from core.signals import trending_bound
from core.storage.refresh import from_db, to_db
from core.storage.tables import PaperRow, ranked

TRENDING_RANK_DEPTH = 200  # `/paper` reports trending ranks down to this depth
# Where `/paper` splits a score between a paper's share and vote keys (see `_reach`): measured
# on the benchmark store, 0.7 reads the fewest papers for ranks near the depth.
RANK_SHARE_PART = 0.7
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

    async def _stats(
        self, session: AsyncSession, ids: Sequence[str], window: Window, now: datetime
    ) -> list[PaperStats]:
        raise NotImplementedError

    async def _vote_weight(self, session: AsyncSession) -> float:
        raise NotImplementedError

    async def _trending(
        self, session: AsyncSession, query: TopQuery, now: datetime, need: int
    ) -> list[PaperStats]:
        """Top papers by trending score, exactly, with the threshold algorithm.

        Walk the papers in order of their share key and of their vote key together; a paper
        below both walks scores at most `trending_bound` of the last keys seen, so once `need`
        papers beat that bound the answer is complete. The papers scored are read whole: they
        are few, and the best of them are the answer.
        """
        vote_weight = await self._vote_weight(session)
        # Deep enough that one walk usually settles it: each extra walk is two round trips.
        depth = max(4 * need, 40)
        while True:
            walk = await self._walk(session, query, depth)
            hopeful = self._hopeful(walk, need, vote_weight, now)
            stats = rank_papers(await self._stats(session, hopeful, "trending", now))
            bound = self._unseen_bound(walk, vote_weight, now)
            if walk.exhausted or (len(stats) >= need and stats[need - 1].score > bound):
                return stats
            depth *= 4

    async def _walk(self, session: AsyncSession, query: TopQuery, depth: int) -> _Walk:
        """The `depth` papers with the highest share key and those with the highest vote key."""
        keys: dict[str, tuple[float, float]] = {}
        seen: tuple[list[float], list[float]] = ([], [])
        connection = await session.connection()
        stmt = _walk_statement(TopQuery(category=query.category, words=query.words))
        for walk, arxiv_id, shares, votes in await connection.execute(stmt, {"depth": depth}):
            keys[arxiv_id] = (from_db(shares), from_db(votes))
            seen[walk].append(shares if walk == 0 else votes)
        return _Walk(
            keys=keys,
            share_floor=min(seen[0]) if len(seen[0]) == depth else NEG_INF,
            vote_floor=min(seen[1]) if len(seen[1]) == depth else NEG_INF,
            exhausted=len(seen[0]) < depth and len(seen[1]) < depth,
        )

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

    async def _trending_place(
        self, session: AsyncSession, stats: PaperStats, now: datetime
    ) -> int | None:
        """The paper's place in the exact trending order, if within TRENDING_RANK_DEPTH.

        A paper's keys bound its score: the decayed share key from below, `trending_bound`
        from above. Papers whose share key alone beats this score are counted in the index,
        not read; a paper far down stops there. Of the rest, only those whose keys may reach
        the score are read (see `_near`: the same read as the count), and only those the
        bounds cannot place against this paper are scored exactly.
        """
        if stats.score <= 0:
            return None
        key = tie_key(stats)
        score = key[0]
        half_life = self._config.half_life
        # Keys above `top` decay to more than the score even with the float error of `decayed`.
        top = _key_of(score * (1 + 1e-6) + 1e-8, now, half_life)
        vote_weight = await self._vote_weight(session)
        share_floor, vote_floor = self._reach(score, vote_weight, now)
        ahead, near = await self._near(session, top, share_floor, vote_floor)
        if ahead >= TRENDING_RANK_DEPTH:
            return None
        unsure: list[str] = []
        for other, (shares, votes) in near.items():
            low = decayed(shares, now, half_life)
            high = trending_bound(shares, votes, vote_weight, now, self._config)
            if other == stats.paper.arxiv_id or _below(high, score):
                continue
            if _above(low, score):
                ahead += 1
            else:
                unsure.append(other)
        if ahead >= TRENDING_RANK_DEPTH:
            return None
        exact = await self._ranked(session, sorted(unsure), now)
        ahead += sum(1 for s in exact if s.score > 0 and tie_key(s) > key)
        return ahead + 1 if ahead < TRENDING_RANK_DEPTH else None

    def _reach(self, score: float, vote_weight: float, now: datetime) -> tuple[float, float]:
        """A share key and a vote key under both of which a paper surely scores below `score`.

        The score is split: a paper under both keys has decayed shares under RANK_SHARE_PART
        of it and vote points under nearly all the rest. When no split separates (a score too
        small for the rounding of the bounds), both are -inf: every paper with a key is read.
        """
        half_life = self._config.half_life
        share_floor = _key_of(RANK_SHARE_PART * score, now, half_life)
        if vote_weight > 0:
            # log2(2^y - 1) with 2^y - 1 the votes worth the rest of the score; capped where
            # 2^y overflows (a lower key only reads more papers).
            y = min((1 - RANK_SHARE_PART) * (1 - 1e-4) * score / vote_weight, 1000.0)
            votes = y + math.log2(-math.expm1(-y * math.log(2))) if y > 0 else NEG_INF
            vote_floor = votes + decay_exponent(now, half_life)
            bound = trending_bound(share_floor, vote_floor, vote_weight, now, self._config)
        else:
            # Without vote sources, votes add nothing to a bound: no paper is read by its votes.
            vote_floor = math.inf
            bound = decayed(share_floor, now, half_life)
        if _below(bound, score):
            return share_floor, vote_floor
        return NEG_INF, NEG_INF

    async def _near(
        self, session: AsyncSession, top: float, share_floor: float, vote_floor: float
    ) -> tuple[int, dict[str, tuple[float, float]]]:
        """Count the papers above `top` (up to the depth); read the keys a rank looks at.

        One read. The count is of share keys above `top`; the keys are two index ranges:
        share keys in (share_floor, top], and vote keys above vote_floor with a share key of
        at most `top` (the rest were counted). They are read only when the count leaves the
        paper within the depth: far down, they hold most papers.
        """
        params = {"top": top, "share_floor": to_db(share_floor), "vote_floor": to_db(vote_floor)}
        stmt = _PLACE_BY_SHARES if vote_floor == math.inf else _PLACE
        rows = await (await session.connection()).execute(stmt, params)
        ahead = 0
        near: dict[str, tuple[float, float]] = {}
        for arxiv_id, shares, votes in rows:
            if arxiv_id is None:
                ahead = int(shares)  # the count's row
            # The vote range is not narrowed by share key in SQL: a planner without statistics
            # would intersect it with the share index, whose range there spans nearly every
            # paper.
            elif shares <= top:
                near[arxiv_id] = (from_db(shares), from_db(votes))
        return ahead, near


@lru_cache(maxsize=64)
def _walk_statement(query: TopQuery) -> CompoundSelect[Any]:
    """Both walks of a filter, down to `:depth` papers each.

    Built once per filter (most often none): building and keying a statement of two
    subqueries costs more than SQLite takes to run it.
    """
    arms = []
    for n, key in enumerate((PaperRow.trend_shares, PaperRow.trend_votes)):
        stmt = filtered(select(*_KEYS).where(ranked(key)), query)
        arm = stmt.order_by(key.desc()).limit(bindparam("depth")).subquery()
        arms.append(select(literal(n).label("walk"), *arm.c))
    return union_all(*arms)


# The statement of a rank, built once as `/paper` runs it on every call. The count reads the
# key itself, not the id: the index covers it, and no paper row is read; its order keeps the
# index scan when a planner misjudges how many papers the limit leaves out. It comes last, so
# the result's column types are the papers'.
_AHEAD = (
    select(func.count())
    .select_from(
        select(PaperRow.trend_shares)
        .where(PaperRow.trend_shares > bindparam("top"))
        .order_by(PaperRow.trend_shares.desc())
        .limit(TRENDING_RANK_DEPTH)
        .subquery()
    )
    .scalar_subquery()
)
_WITHIN = _AHEAD < TRENDING_RANK_DEPTH  # one value for the whole read: planned as a constant
_COUNT = select(null(), cast(_AHEAD, Float), null())
_SHARES_NEAR = select(*_KEYS).where(
    PaperRow.trend_shares > bindparam("share_floor"),
    PaperRow.trend_shares <= bindparam("top"),
    _WITHIN,
)
_VOTES_NEAR = select(*_KEYS).where(
    ranked(PaperRow.trend_votes), PaperRow.trend_votes > bindparam("vote_floor"), _WITHIN
)
_PLACE_BY_SHARES = union_all(_SHARES_NEAR, _COUNT)
_PLACE = union_all(_SHARES_NEAR, _VOTES_NEAR, _COUNT)


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


def _key_of(value: float, now: datetime, half_life: timedelta) -> float:
    """The stored key that decays to `value` at `now` (the inverse of `decayed`)."""
    return math.log2(value) + decay_exponent(now, half_life) if value > 0 else NEG_INF
