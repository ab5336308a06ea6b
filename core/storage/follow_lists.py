"""`SqlFollowLists`: each chat's follow list, and the papers its accounts share, ranked.

The stored scores are global (storage.scores), so a follow list keeps its own sums per paper
(storage.follow_sums), rebuilt whenever the list changes and by the ingest as shares arrive;
`core.signals` turns a page's sums into stats, as for every other list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.follows import accounts_to_add, name_key, trend_horizon
from core.models import SHARE_NETWORKS, ChatRef, PaperStats, Window
from core.ports import Account, TopQuery
from core.ranking import NEG_INF, WINDOW_LENGTHS, RankingConfig, decay_exponent
from core.signals import Signal, points
from core.storage.follow_sums import (
    COPIES,
    FOLLOWS,
    LOWEST_EXPONENT,
    SUMS,
    decayed,
    rebuild_chats,
    trend_key,
    unfollowed,
)
from core.storage.ranking_reads import PAPERS_BY_IDS, filtered, reading, stats_in_order
from core.storage.scores import from_db
from core.storage.tables import FollowRow, PaperRow
from core.storage.upsert import chunks, insert_for, of_chat

_FIRST_BATCH = 64  # candidates read first; each further read takes four times as many
_ROUNDING = 1e-9  # relative margin on a bound for the rounding of sums and log-sums


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A paper's signals from the follows, and its place: score, networks, newest share, id."""

    arxiv_id: str
    signals: list[Signal]
    order: tuple[float, int, datetime, str]

    @property
    def score(self) -> float:
        return self.order[0]


class SqlFollowLists:
    """Follow lists on SQLite or PostgreSQL."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], config: RankingConfig) -> None:
        self._factory = factory
        self._config = config

    async def add(self, chat: ChatRef, accounts: Sequence[Account], now: datetime) -> list[Account]:
        """Add the accounts the chat does not follow yet, all or none."""
        async with self._factory() as session, session.begin():
            keys = select(FollowRow.network, FollowRow.key).where(*of_chat(FollowRow, chat))
            held = {(network, key) for network, key in await session.execute(keys)}
            new = accounts_to_add(held, accounts)
            listed = {"platform": chat.platform, "chat_id": chat.chat_id, "added_at": now}
            rows = [{**listed, **asdict(a)} for a in new.values()]
            for part in chunks(rows, 1000):
                await session.execute(insert_for(session, FOLLOWS).on_conflict_do_nothing(), part)
            if new:
                await rebuild_chats(session, [chat], self._config)
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
                .where(*of_chat(FollowRow, chat), or_(*wanted))
                .returning(FollowRow.network, FollowRow.key, FollowRow.shown)
            )
            removed = [Account(n, k, s) for n, k, s in result]
            await unfollowed(session, chat, removed, self._config)
            return sorted(removed, key=lambda a: (a.network, a.shown))

    async def clear(self, chat: ChatRef) -> int:
        """Empty the chat's list."""
        async with self._factory() as session, session.begin():
            result = await session.execute(delete(FollowRow).where(*of_chat(FollowRow, chat)))
            await rebuild_chats(session, [chat], self._config)
            return int(cast(Any, result).rowcount or 0)

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        """Carry the chat's list over to its new id."""
        async with self._factory() as session, session.begin():
            await session.execute(
                update(FollowRow).where(*of_chat(FollowRow, old)).values(chat_id=new.chat_id)
            )
            await rebuild_chats(session, [old, new], self._config)

    async def counts(self, chat: ChatRef) -> dict[str, int]:
        """How many accounts the chat follows, per network."""
        stmt = (
            select(FollowRow.network, func.count())
            .where(*of_chat(FollowRow, chat))
            .group_by(FollowRow.network)
        )
        async with reading(self._factory) as connection:
            return {network: int(n) for network, n in await connection.execute(stmt)}

    async def page(self, chat: ChatRef, limit: int, offset: int) -> list[Account]:
        """Followed accounts by network, then shown name."""
        stmt = (
            select(FollowRow.network, FollowRow.key, FollowRow.shown)
            .where(*of_chat(FollowRow, chat))
            .order_by(FollowRow.network, FollowRow.shown, FollowRow.key)
            .limit(limit)
            .offset(offset)
        )
        async with reading(self._factory) as connection:
            return [Account(n, k, s) for n, k, s in await connection.execute(stmt)]

    async def top(self, chat: ChatRef, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Rank papers by the follows' shares, from the chat's sums (storage.follow_sums).

        The sums are over all time. A paper whose followed sharers all shared last inside the
        window counts as summed; one with some outside is summed again from its sharers. The
        chat's papers are read in the order of a bound on their score (its sum, at the highest
        network weight), a few at a time, until no paper left could reach the page.
        """
        since = self._since(query, now)
        wanted = query.offset + query.limit
        found: dict[str, _Ranked] = {}
        seen: set[str] = set()
        batch = max(4 * wanted, _FIRST_BATCH)
        async with reading(self._factory) as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                # From a statement's sixth run PostgreSQL may plan it once for any parameters:
                # that plan reads every paper of the chat for a category (60 ms, not 3).
                await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            while True:
                rows = (await connection.execute(self._candidates(chat, query, since, batch))).all()
                partial = []
                for row in rows:
                    if row.arxiv_id in seen:
                        continue
                    seen.add(row.arxiv_id)
                    if since is None or row.oldest >= since:
                        found[row.arxiv_id] = self._ranked(row, query.window, now)
                    else:
                        partial.append(row.arxiv_id)
                for part in chunks(partial):
                    summed = await connection.execute(
                        self._summed(chat, part, query, now, since, postgres)
                    )
                    for row in summed:
                        found[row.arxiv_id] = self._ranked(row, query.window, now, summed=True)
                ranked = sorted(found.values(), key=lambda r: r.order, reverse=True)
                if len(rows) < batch or (
                    len(ranked) >= wanted
                    and ranked[wanted - 1].score > self._bound(rows[-1], query.window, now)
                ):
                    break
                batch *= 4
            page = [(r.arxiv_id, r.signals) for r in ranked[query.offset : wanted]]
            if not page:
                return []
            cards = await connection.execute(PAPERS_BY_IDS, {"ids": [i for i, _ in page]})
            papers = {card.arxiv_id: card for card in cards}
            return stats_in_order(papers, page, query.window, now, self._config)

    def _candidates(
        self, chat: ChatRef, query: TopQuery, since: datetime | None, limit: int
    ) -> Any:
        """The chat's papers with a followed share in the window, by the bound on their score."""
        order = SUMS.c.trend if query.window == "trending" else SUMS.c.sharers
        stmt: Any = select(SUMS).where(*of_chat(SUMS, chat))
        if since is not None:
            stmt = stmt.where(SUMS.c.newest >= since)
        if query.category or query.words:
            stmt = filtered(stmt.join(PaperRow, PaperRow.arxiv_id == SUMS.c.arxiv_id), query)
        return stmt.order_by(order.desc(), SUMS.c.arxiv_id.desc()).limit(limit)

    def _bound(self, row: Any, window: Window, now: datetime) -> float:
        """A score no paper after `row` in the candidates' order can reach (or tie)."""
        weight = max(self._config.weight(n) for n in SHARE_NETWORKS)
        if window == "trending":
            exponent = from_db(row.trend) - decay_exponent(now, self._config.half_life)
            bound = weight * 2.0**exponent if exponent > LOWEST_EXPONENT else 0.0
        else:
            bound = weight * row.sharers
        return bound * (1 + _ROUNDING)

    def _summed(
        self,
        chat: ChatRef,
        papers: Sequence[str],
        query: TopQuery,
        now: datetime,
        since: datetime | None,
        postgres: bool,
    ) -> Any:
        """The papers' followed sharers in the window, summed per network from their copies."""
        columns: list[Any] = [COPIES.c.arxiv_id, func.max(COPIES.c.last_at).label("newest")]
        for network in SHARE_NETWORKS:
            mine = COPIES.c.source == network
            columns.append(func.sum(case((mine, 1), else_=0)).label(f"sharers_{network}"))
            if query.window == "trending":
                term = decayed(now, self._config, postgres)
                columns.append(func.sum(case((mine, term), else_=0.0)).label(f"trend_{network}"))
        stmt = select(*columns).where(*of_chat(COPIES, chat), COPIES.c.arxiv_id.in_(papers))
        if since is not None:
            stmt = stmt.where(COPIES.c.last_at >= since)
        return stmt.group_by(COPIES.c.arxiv_id)

    def _ranked(self, row: Any, window: Window, now: datetime, summed: bool = False) -> _Ranked:
        """A paper's signal per network, score and place, from its sums.

        Only the window's count is known (trending shows the count since its horizon), so it
        stands for every count: `core.signals` reads no other. A row `summed` at read time
        holds each network's decayed sum as seen at `now`, a stored one its log-sum.
        """
        signals = []
        for network in SHARE_NETWORKS:
            count = getattr(row, f"sharers_{network}")
            if not count:
                continue
            trend = NEG_INF
            if window == "trending":  # log2 Σ 2^((t_i - L)/h), as core.ranking keeps it
                value = getattr(row, f"trend_{network}")
                trend = trend_key(value, now, self._config) if summed else from_db(value)
            signals.append(Signal(network, "share", count, count, count, count, trend))
        score = sum(points(s, window, now, self._config) for s in signals)
        return _Ranked(row.arxiv_id, signals, (score, len(signals), row.newest, row.arxiv_id))

    def _since(self, query: TopQuery, now: datetime) -> datetime | None:
        if query.window == "trending":
            return trend_horizon(now, self._config.half_life)
        length = WINDOW_LENGTHS[query.window]
        return None if length is None else now - length
