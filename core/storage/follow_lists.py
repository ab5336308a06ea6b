"""`SqlFollowLists`: each chat's follow list, and the papers its accounts share, ranked.

The stored scores are global (storage.scores), so a follow list's ranking is its own read: the
sharers of the followed accounts (one index range per account, `ix_sharers_account`), summed
per paper and network in SQL with the ranking's weights and decay; `core.signals` turns the
page's sums into stats, as for every other list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    any_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.follows import MAX_FOLLOWS, FollowListFull, name_key, trend_horizon
from core.models import SHARE_NETWORKS, ChatRef, PaperStats, Window
from core.ports import Account, TopQuery
from core.ranking import NEG_INF, WINDOW_LENGTHS, RankingConfig, decay_exponent
from core.signals import Signal, paper_stats
from core.storage.ranking_reads import PAPERS_BY_IDS, filtered, paper_from_row, reading
from core.storage.tables import FollowRow, PaperRow, SharerRow
from core.storage.types import UtcDateTime
from core.storage.upsert import chunks, insert_for

FOLLOWS = cast(Table, FollowRow.__table__)
SHARERS = cast(Table, SharerRow.__table__)
_JULIAN_UNIX_EPOCH = 2440587.5  # julianday('1970-01-01')
_LOWEST_EXPONENT = -1000.0  # 2^-1000 is still a normal float: no underflow on PostgreSQL


class SqlFollowLists:
    """Follow lists on SQLite or PostgreSQL."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], config: RankingConfig) -> None:
        self._factory = factory
        self._config = config

    async def add(self, chat: ChatRef, accounts: Sequence[Account], now: datetime) -> list[Account]:
        """Add the accounts the chat does not follow yet, all or none."""
        async with self._factory() as session, session.begin():
            keys = select(FollowRow.network, FollowRow.key).where(*_of_chat(chat))
            held = {(network, key) for network, key in await session.execute(keys)}
            new: dict[tuple[str, str], Account] = {}
            for account in accounts:
                if (account.network, account.key) not in held:
                    new.setdefault((account.network, account.key), account)
            if len(held) + len(new) > MAX_FOLLOWS:
                raise FollowListFull(len(held))
            rows = [
                {
                    "platform": chat.platform,
                    "chat_id": chat.chat_id,
                    "network": a.network,
                    "key": a.key,
                    "shown": a.shown,
                    "added_at": now,
                }
                for a in new.values()
            ]
            for part in chunks(rows, 1000):
                await session.execute(insert_for(session, FOLLOWS).on_conflict_do_nothing(), part)
        return list(new.values())

    async def remove(self, chat: ChatRef, names: Sequence[tuple[str, str]]) -> list[Account]:
        """Stop following the accounts named by key or shown name."""
        if not names:
            return []
        wanted = [
            and_(
                FollowRow.network == network,
                or_(FollowRow.key == name_key(name), FollowRow.shown == name_key(name)),
            )
            for network, name in names
        ]
        async with self._factory() as session, session.begin():
            result = await session.execute(
                delete(FollowRow)
                .where(*_of_chat(chat), or_(*wanted))
                .returning(FollowRow.network, FollowRow.key, FollowRow.shown)
            )
            return sorted(
                (Account(n, k, s) for n, k, s in result),
                key=lambda a: (a.network, a.shown),
            )

    async def clear(self, chat: ChatRef) -> int:
        """Empty the chat's list."""
        async with self._factory() as session, session.begin():
            result = await session.execute(delete(FollowRow).where(*_of_chat(chat)))
            return int(cast(Any, result).rowcount or 0)

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        """Carry the chat's list over to its new id."""
        async with self._factory() as session, session.begin():
            await session.execute(
                update(FollowRow).where(*_of_chat(old)).values(chat_id=new.chat_id)
            )

    async def counts(self, chat: ChatRef) -> dict[str, int]:
        """How many accounts the chat follows, per network."""
        stmt = (
            select(FollowRow.network, func.count())
            .where(*_of_chat(chat))
            .group_by(FollowRow.network)
        )
        async with reading(self._factory) as connection:
            return {network: int(n) for network, n in await connection.execute(stmt)}

    async def page(self, chat: ChatRef, limit: int, offset: int) -> list[Account]:
        """Followed accounts by network, then shown name."""
        stmt = (
            select(FollowRow.network, FollowRow.key, FollowRow.shown)
            .where(*_of_chat(chat))
            .order_by(FollowRow.network, FollowRow.shown, FollowRow.key)
            .limit(limit)
            .offset(offset)
        )
        async with reading(self._factory) as connection:
            return [Account(n, k, s) for n, k, s in await connection.execute(stmt)]

    async def top(self, chat: ChatRef, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Rank papers by the follows' shares, in one statement that reads each sharer once."""
        async with reading(self._factory) as connection:
            postgres = connection.dialect.name == "postgresql"
            rows = await connection.execute(self._ranking(chat, query, now, postgres))
            ranked = [(row.arxiv_id, self._signals(row, query.window, now)) for row in rows]
            return await self._stats(connection, ranked, query, now)

    def _ranking(self, chat: ChatRef, query: TopQuery, now: datetime, postgres: bool) -> Any:
        """The page of papers, each with its followed sharers summed per network.

        The sharers in the window are grouped once per paper, a column per network (its
        sharers and, for trending, their decayed sum): the same sums rank the papers and count
        them. The papers' own rows are read only to filter by category or words.
        """
        columns: list[Any] = [SHARERS.c.arxiv_id, func.max(SHARERS.c.last_at).label("newest")]
        for network in SHARE_NETWORKS:
            mine = SHARERS.c.source == network
            columns.append(func.sum(case((mine, 1), else_=0)).label(f"count_{network}"))
            if query.window == "trending":
                decayed = func.sum(case((mine, self._decay(now, postgres)), else_=0.0))
                columns.append(decayed.label(f"decayed_{network}"))
        sums = (
            select(*columns)
            .select_from(_followed(chat, self._since(query, now), postgres))
            .group_by(SHARERS.c.arxiv_id)
            .subquery()
        )
        # Scored from the sums, so each sum is computed once a paper.
        prefix = "decayed" if query.window == "trending" else "count"
        score: Any = sum(self._config.weight(n) * sums.c[f"{prefix}_{n}"] for n in SHARE_NETWORKS)
        networks: Any = sum(case((sums.c[f"count_{n}"] > 0, 1), else_=0) for n in SHARE_NETWORKS)
        per_paper = select(sums, score.label("score"), networks.label("networks")).subquery()
        page = select(per_paper)
        if query.category or query.words:
            joined = page.join(PaperRow, PaperRow.arxiv_id == per_paper.c.arxiv_id)
            page = filtered(joined, query)
        return (
            page.order_by(
                per_paper.c.score.desc(),
                per_paper.c.networks.desc(),
                per_paper.c.newest.desc(),
                per_paper.c.arxiv_id.desc(),
            )
            .limit(query.limit)
            .offset(query.offset)
        )

    def _signals(self, row: Any, window: Window, now: datetime) -> list[Signal]:
        """A paper's signal per network from its row of sums.

        Only the window's count is known (trending shows the count since its horizon), so it
        stands for every count: `core.signals` reads no other.
        """
        found = []
        for network in SHARE_NETWORKS:
            count = getattr(row, f"count_{network}")
            if not count:
                continue
            trend = NEG_INF
            if window == "trending":  # log2 Σ 2^((t_i - L)/h), as core.ranking keeps it
                decayed = getattr(row, f"decayed_{network}")
                trend = math.log2(decayed) + decay_exponent(now, self._config.half_life)
            found.append(Signal(network, "share", count, count, count, count, trend))
        return found

    def _since(self, query: TopQuery, now: datetime) -> datetime | None:
        if query.window == "trending":
            return trend_horizon(now, self._config.half_life)
        length = WINDOW_LENGTHS[query.window]
        return None if length is None else now - length

    def _decay(self, now: datetime, postgres: bool) -> ColumnElement[Any]:
        """A sharer's trending term as seen at `now`: 2^((first share - now) / half-life)."""
        half_life = self._config.half_life.total_seconds()
        if postgres:
            age = func.extract("epoch", SHARERS.c.first_at - literal(now, UtcDateTime()))
            return func.power(2.0, func.greatest(age / half_life, _LOWEST_EXPONENT))
        # SQLite keeps times as text: julianday reads it, in days.
        today = now.astimezone(UTC).timestamp() / 86400.0 + _JULIAN_UNIX_EPOCH
        age_days = func.julianday(SHARERS.c.first_at) - today
        return func.pow(2.0, func.max(age_days * (86400.0 / half_life), _LOWEST_EXPONENT))

    async def _stats(
        self,
        connection: AsyncConnection,
        ranked: Sequence[tuple[str, list[Signal]]],
        query: TopQuery,
        now: datetime,
    ) -> list[PaperStats]:
        """The ranked papers' stats, in rank order, from their follows' signals."""
        if not ranked:
            return []
        ids = [arxiv_id for arxiv_id, _ in ranked]
        papers = {
            row.arxiv_id: row for row in await connection.execute(PAPERS_BY_IDS, {"ids": ids})
        }
        return [
            paper_stats(
                paper_from_row(papers[i]),
                signals,
                query.window,
                now,
                self._config,
                papers[i].last_share_at,
            )
            for i, signals in ranked
            if i in papers
        ]


def _of_chat(chat: ChatRef) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return FollowRow.platform == chat.platform, FollowRow.chat_id == chat.chat_id


def _followed(chat: ChatRef, since: datetime | None, postgres: bool) -> Any:
    """The chat's follows joined to their sharers (last share since `since`, when given).

    A follow matches the sharers named by its key, or by the handle it was shown by (an import
    may name a Bluesky account by handle); each is one range of the sharers' account index.
    PostgreSQL is handed the two names as an array: an OR or IN of two columns is no index
    condition there, and it would hash every sharer instead (minutes, at a million shares).
    """
    names = [FOLLOWS.c.key, FOLLOWS.c.shown]
    named = SHARERS.c.author == any_(array(names)) if postgres else SHARERS.c.author.in_(names)
    match = and_(
        SHARERS.c.source == FOLLOWS.c.network,
        named,
        FOLLOWS.c.platform == chat.platform,
        FOLLOWS.c.chat_id == chat.chat_id,
    )
    if since is not None:
        match = and_(match, SHARERS.c.last_at >= since)
    return FOLLOWS.join(SHARERS, match)
