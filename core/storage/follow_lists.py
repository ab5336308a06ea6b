"""`SqlFollowLists`: each chat's follow list, and the papers its accounts share, ranked.

The stored scores are global (storage.scores), so a follow list's ranking is its own read: the
sharers of the followed accounts (one index range per account, `ix_sharers_account`), summed
per paper in SQL with the ranking's weights and decay, and the page's papers then counted
exactly by `core.signals`, as every other list is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.follows import MAX_FOLLOWS, FollowListFull, name_key, trend_horizon
from core.models import ChatRef, PaperStats
from core.ports import Account, TopQuery
from core.ranking import WINDOW_LENGTHS, RankingConfig
from core.signals import paper_stats, share_signal
from core.storage.ranking_reads import filtered, paper_from_row, reading
from core.storage.tables import FollowRow, PaperRow, SharerRow
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
        """Rank papers by the follows' shares: a sum per paper, then the page counted exactly."""
        async with reading(self._factory) as connection:
            postgres = connection.dialect.name == "postgresql"
            since = self._since(query, now)
            points = self._points(query, now, postgres)
            ranked = (
                select(
                    SHARERS.c.arxiv_id,
                    func.sum(points).label("score"),
                    func.count(SHARERS.c.source.distinct()).label("networks"),
                )
                .select_from(_followed(chat, since))
                .group_by(SHARERS.c.arxiv_id)
                .subquery()
            )
            stmt = filtered(
                select(PaperRow.arxiv_id).join(ranked, ranked.c.arxiv_id == PaperRow.arxiv_id),
                query,
            ).order_by(
                ranked.c.score.desc(),
                ranked.c.networks.desc(),
                PaperRow.last_share_at.desc().nulls_last(),
                PaperRow.published.desc().nulls_last(),
                PaperRow.arxiv_id.desc(),
            )
            rows = await connection.execute(stmt.limit(query.limit).offset(query.offset))
            ids = list(rows.scalars())
            return await self._stats(connection, chat, ids, query, now, since)

    def _since(self, query: TopQuery, now: datetime) -> datetime | None:
        if query.window == "trending":
            return trend_horizon(now, self._config.half_life)
        length = WINDOW_LENGTHS[query.window]
        return None if length is None else now - length

    def _points(self, query: TopQuery, now: datetime, postgres: bool) -> ColumnElement[Any]:
        """What one followed sharer adds to a paper: its network's weight, decayed if trending."""
        weights = {n: self._config.weight(n) for n in ("bluesky", "mastodon", "x")}
        weight = case(weights, value=SHARERS.c.source, else_=1.0)
        if query.window != "trending":
            return weight
        half_life = self._config.half_life.total_seconds()
        if postgres:
            age = func.extract("epoch", SHARERS.c.first_at - literal(now))
            exponent = func.greatest(age / half_life, _LOWEST_EXPONENT)
            return weight * func.power(2.0, exponent)
        # SQLite keeps times as text: julianday reads it, in days.
        today = now.astimezone(UTC).timestamp() / 86400.0 + _JULIAN_UNIX_EPOCH
        age_days = func.julianday(SHARERS.c.first_at) - today
        exponent = func.max(age_days * (86400.0 / half_life), _LOWEST_EXPONENT)
        return weight * func.pow(2.0, exponent)

    async def _stats(
        self,
        connection: AsyncConnection,
        chat: ChatRef,
        ids: Sequence[str],
        query: TopQuery,
        now: datetime,
        since: datetime | None,
    ) -> list[PaperStats]:
        """The papers' stats in `ids` order, counted from the follows' sharers only."""
        if not ids:
            return []
        pairs: dict[str, dict[str, list[tuple[datetime, datetime]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        stmt = (
            select(SHARERS.c.arxiv_id, SHARERS.c.source, SharerRow.first_at, SharerRow.last_at)
            .select_from(_followed(chat, since))
            .where(SHARERS.c.arxiv_id.in_(list(ids)))
        )
        for arxiv_id, source, first, last in await connection.execute(stmt):
            pairs[arxiv_id][source].append((first, last))
        papers = {
            row.arxiv_id: row
            for row in await connection.execute(
                select(PaperRow).where(PaperRow.arxiv_id.in_(list(ids)))
            )
        }
        return [
            paper_stats(
                paper_from_row(papers[i]),
                [share_signal(s, p, now, self._config) for s, p in pairs[i].items()],
                query.window,
                now,
                self._config,
                papers[i].last_share_at,
            )
            for i in ids
            if i in papers
        ]


def _of_chat(chat: ChatRef) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return FollowRow.platform == chat.platform, FollowRow.chat_id == chat.chat_id


def _followed(chat: ChatRef, since: datetime | None) -> Any:
    """The chat's follows joined to their sharers (last share since `since`, when given).

    A follow matches the sharers named by its key, or by the handle it was shown by (an import
    may name a Bluesky account by handle); each is one range of the sharers' account index.
    """
    match = and_(
        SHARERS.c.source == FOLLOWS.c.network,
        SHARERS.c.author.in_([FOLLOWS.c.key, FOLLOWS.c.shown]),
        FOLLOWS.c.platform == chat.platform,
        FOLLOWS.c.chat_id == chat.chat_id,
    )
    if since is not None:
        match = and_(match, SHARERS.c.last_at >= since)
    return FOLLOWS.join(SHARERS, match)
