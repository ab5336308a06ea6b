"""Each chat's followed sharers, copied and summed per paper, kept as shares and follows change.

A follow list's `/top` (storage.follow_lists) reads two tables of its chat's own:
`follow_sharers`, the sharers it follows copied from `sharers` (one row per account and paper,
however many of its follows name it), and `follow_sums`, those summed per paper (storage.tables).

Both are always what `follows` and `sharers` hold now: every write that changes either copies
again what it touched and sums its papers again from the copies, instead of adding to the sums.
Adding to a list, or a new half-life, copies the chat's every followed sharer (one range of
`ix_sharers_account` per followed account, each sharer then read by its key); an unfollow
drops the accounts' copies; a batch of shares, or of removed shares, copies the sharers it
changed by their keys, for each chat following their authors.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import astuple
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import SHARE_NETWORKS, ChatRef
from core.ports import Account
from core.ranking import NEG_INF, RankingConfig, decay_exponent, log2_add
from core.storage.scores import lock_writers, to_db
from core.storage.sharers import COLUMNS, KEY_COLUMNS, SHARERS
from core.storage.tables import FollowRow, FollowSharerRow, FollowSumRow
from core.storage.types import UtcDateTime
from core.storage.upsert import chunks, of_chat

FOLLOWS = cast(Table, FollowRow.__table__)
COPIES = cast(Table, FollowSharerRow.__table__)
SUMS = cast(Table, FollowSumRow.__table__)
_JULIAN_UNIX_EPOCH = 2440587.5  # julianday('1970-01-01')
LOWEST_EXPONENT = -1000.0  # 2^-1000 is still a normal float: no underflow on PostgreSQL
_BOUND = tuple(f"k_{c}" for c in KEY_COLUMNS)  # a sharer key's parameters in statements by key


async def rebuild_chats(
    session: AsyncSession, chats: Collection[ChatRef] | None, config: RankingConfig
) -> None:
    """Replace the rows of these chats (of every chat with a list when None)."""
    await lock_writers(session)
    await (await session.connection()).run_sync(rebuild_chats_sync, config, chats)


def rebuild_chats_sync(
    connection: Connection, config: RankingConfig, chats: Collection[ChatRef] | None = None
) -> None:
    """`rebuild_chats` on a synchronous connection: the session's, or a migration's."""
    postgres = connection.dialect.name == "postgresql"
    if chats is None:
        connection.execute(delete(COPIES))
        connection.execute(delete(SUMS))
        listed = connection.execute(select(FOLLOWS.c.platform, FOLLOWS.c.chat_id).distinct())
        chats = [ChatRef(platform, chat_id) for platform, chat_id in listed]
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    for chat in chats:
        for table in (COPIES, SUMS):
            connection.execute(delete(table).where(*of_chat(table, chat)))
        # In the copies' key order: appended, not inserted at random (a third of the time, and
        # less than DISTINCT would take). A sharer two of the chat's follows name is copied once.
        copied = (
            select(FOLLOWS.c.platform, FOLLOWS.c.chat_id, *(SHARERS.c[c] for c in COLUMNS))
            .select_from(followed_sharers(postgres))
            .where(*of_chat(FOLLOWS, chat))
            .order_by(SHARERS.c.arxiv_id, SHARERS.c.source, SHARERS.c.author)
        )
        copy = dialect_insert(COPIES).from_select(["platform", "chat_id", *COLUMNS], copied)
        connection.execute(copy.on_conflict_do_nothing())
        _sum(connection, chat, None, config)


async def refold_shares(
    session: AsyncSession, keys: Iterable[tuple[str, str, str]], config: RankingConfig
) -> None:
    """Copy again the sharers `(arxiv_id, source, author)` just changed, and sum their papers.

    For each chat following their authors by key or shown name, each sharer is copied by its key
    in `sharers` (or its copy dropped, if it is gone): the cost is that of the sharers changed,
    not of the chats' lists. A batch naming no followed account costs one look-up of its authors
    (about 0.2 s for 20,000 shares on SQLite, 0.4 s on PostgreSQL).
    """
    if (await session.execute(select(FOLLOWS.c.platform).limit(1))).first() is None:
        return  # no chat follows anyone: a store without lists pays one read a batch
    by_account: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for arxiv_id, source, author in keys:
        by_account[(source, author)].add((arxiv_id, source, author))
    touched: dict[ChatRef, set[tuple[str, str, str]]] = defaultdict(set)
    for part in chunks(sorted(by_account)):
        named = or_(
            tuple_(FOLLOWS.c.network, FOLLOWS.c.key).in_(part),
            tuple_(FOLLOWS.c.network, FOLLOWS.c.shown).in_(part),
        )
        columns = FOLLOWS.c.platform, FOLLOWS.c.chat_id, FOLLOWS.c.network
        found = await session.execute(select(*columns, FOLLOWS.c.key, FOLLOWS.c.shown).where(named))
        for platform, chat_id, network, key, shown in found:
            for name in {key, shown}:
                touched[ChatRef(platform, chat_id)] |= by_account.get((network, name), set())
    if touched:
        await lock_writers(session)
    for chat, sharers in sorted(touched.items(), key=lambda item: astuple(item[0])):
        # One statement a sharer, each a primary-key lookup: a row-value `IN` list is planned
        # by SQLite as a scan of every sharer (2.4 s for 5,000 sharers at a million shares).
        bound = [dict(zip(_BOUND, k, strict=True)) for k in sorted(sharers)]
        await session.execute(delete(COPIES).where(*of_chat(COPIES, chat), *_by_key(COPIES)), bound)
        await session.execute(_copy(chat, and_(*_by_key(SHARERS))), bound)
        papers = sorted({arxiv_id for arxiv_id, _, _ in sharers})
        await (await session.connection()).run_sync(_resum, chat, papers, config)


async def unfollowed(
    session: AsyncSession, chat: ChatRef, gone: Iterable[Account], config: RankingConfig
) -> None:
    """Drop the copies of accounts the chat no longer follows, and sum their papers again.

    A name another of the chat's follows still gives (two follows naming one account) is copied
    again from its account's sharers.
    """
    names = sorted({(a.network, name) for a in gone for name in (a.key, a.shown)})
    await lock_writers(session)
    papers: set[str] = set()
    for part in chunks(names):
        account = tuple_(COPIES.c.source, COPIES.c.author)
        dropped = await session.execute(
            delete(COPIES)
            .where(*of_chat(COPIES, chat), account.in_(part))
            .returning(COPIES.c.arxiv_id)
        )
        papers.update(dropped.scalars())
    held = select(FOLLOWS.c.network, FOLLOWS.c.key, FOLLOWS.c.shown).where(*of_chat(FOLLOWS, chat))
    still = {(n, name) for n, k, s in await session.execute(held) for name in (k, s)}
    for part in chunks([name for name in names if name in still]):
        account = tuple_(SHARERS.c.source, SHARERS.c.author)
        await session.execute(_copy(chat, account.in_(part)))
        shared = select(SHARERS.c.arxiv_id).where(account.in_(part))
        papers.update((await session.execute(shared)).scalars())
    await (await session.connection()).run_sync(_resum, chat, sorted(papers), config)


def followed_sharers(postgres: bool) -> Any:
    """The follows joined to the sharers they name.

    A follow matches the sharers named by its key, or by the handle it was shown by (an import
    may name a Bluesky account by handle); each is one range of the sharers' account index.
    PostgreSQL is handed the two names as an array: an OR or IN of two columns is no index
    condition there, and it would hash every sharer instead (minutes, at a million shares).
    """
    names = [FOLLOWS.c.key, FOLLOWS.c.shown]
    named = SHARERS.c.author == any_(array(names)) if postgres else SHARERS.c.author.in_(names)
    match = and_(SHARERS.c.source == FOLLOWS.c.network, named)
    return FOLLOWS.join(SHARERS, match)


def decayed(now: datetime, config: RankingConfig, postgres: bool) -> ColumnElement[Any]:
    """A copied sharer's trending term as seen at `now`: 2^((first share - now) / half-life)."""
    half_life = config.half_life.total_seconds()
    if postgres:
        age = func.extract("epoch", COPIES.c.first_at - literal(now, UtcDateTime()))
        return func.power(2.0, func.greatest(age / half_life, LOWEST_EXPONENT))
    # SQLite keeps times as text: julianday reads it, in days.
    today = now.astimezone(UTC).timestamp() / 86400.0 + _JULIAN_UNIX_EPOCH
    age_days = func.julianday(COPIES.c.first_at) - today
    return func.pow(2.0, func.max(age_days * (86400.0 / half_life), LOWEST_EXPONENT))


def trend_key(decayed_sum: float, seen_at: datetime, config: RankingConfig) -> float:
    """The log-sum `log2 Σ 2^((t_i - EPOCH)/h)` of `decayed` terms summed as seen at `seen_at`."""
    return math.log2(decayed_sum) + decay_exponent(seen_at, config.half_life)


def _by_key(table: Table) -> list[ColumnElement[bool]]:
    """The row of `table` whose sharer key is bound as `k_arxiv_id`, `k_source`, `k_author`."""
    return [table.c[c] == bindparam(b) for c, b in zip(KEY_COLUMNS, _BOUND, strict=True)]


def _copy(chat: ChatRef, sharers: ColumnElement[bool]) -> Any:
    """An INSERT of these `sharers` into the chat's copies."""
    copied = select(literal(chat.platform), literal(chat.chat_id), *(SHARERS.c[c] for c in COLUMNS))
    return insert(COPIES).from_select(["platform", "chat_id", *COLUMNS], copied.where(sharers))


def _resum(
    connection: Connection, chat: ChatRef, papers: Sequence[str], config: RankingConfig
) -> None:
    """Sum the chat's rows of these papers again from their copies."""
    for part in chunks(papers):
        connection.execute(delete(SUMS).where(*of_chat(SUMS, chat), SUMS.c.arxiv_id.in_(part)))
        _sum(connection, chat, part, config)


def _sum(
    connection: Connection, chat: ChatRef, papers: Sequence[str] | None, config: RankingConfig
) -> None:
    """Write the chat's sums (of `papers` only, when given) from its copied sharers.

    The terms are summed as seen at the newest last share among them: so no term is above 1,
    and every term within 1,000 half-lives of it is exact.
    """
    copies = [*of_chat(COPIES, chat)]
    if papers is not None:
        copies.append(COPIES.c.arxiv_id.in_(papers))
    now = connection.execute(select(func.max(COPIES.c.last_at)).where(*copies)).scalar()
    if now is None:
        return
    postgres = connection.dialect.name == "postgresql"
    grouped = connection.execute(
        select(
            COPIES.c.arxiv_id,
            COPIES.c.source,
            func.count(),
            func.sum(decayed(now, config, postgres)),
            func.min(COPIES.c.last_at),
            func.max(COPIES.c.last_at),
        )
        .where(*copies)
        .group_by(COPIES.c.arxiv_id, COPIES.c.source)
    )
    for part in chunks(_rows(chat, grouped, now, config), 1000):
        connection.execute(SUMS.insert(), part)


def _rows(
    chat: ChatRef, grouped: Iterable[Any], now: datetime, config: RankingConfig
) -> list[dict[str, Any]]:
    """The sums to store, one row per paper, from its sums per network."""
    rows: dict[str, dict[str, Any]] = {}
    for arxiv_id, source, count, summed, oldest, newest in grouped:
        if source not in SHARE_NETWORKS:
            continue
        row = rows.get(arxiv_id)
        if row is None:
            row = rows[arxiv_id] = _empty(chat, arxiv_id, oldest, newest)
        key = trend_key(summed, now, config)
        row[f"sharers_{source}"] = count
        row[f"trend_{source}"] = key
        row["sharers"] += count
        row["trend"] = log2_add(row["trend"], key)
        row["oldest"], row["newest"] = min(row["oldest"], oldest), max(row["newest"], newest)
    return [
        {k: to_db(v) if k.startswith("trend") else v for k, v in row.items()}
        for row in rows.values()
    ]


def _empty(chat: ChatRef, arxiv_id: str, oldest: datetime, newest: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"platform": chat.platform, "chat_id": chat.chat_id, "arxiv_id": arxiv_id}
    row.update(sharers=0, trend=NEG_INF, oldest=oldest, newest=newest)
    for network in SHARE_NETWORKS:
        row[f"sharers_{network}"] = 0
        row[f"trend_{network}"] = NEG_INF
    return row
