"""Reads of one paper's card besides its score: shares per day, top posts, discussions."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Select, bindparam, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import SOURCES, DailySeries, Discussion, Mention
from core.storage.tables import MentionRow, SnapshotRow

# A share's columns, named and ordered as `Mention`'s fields.
_POSTS = (
    select(*(getattr(MentionRow, f.name) for f in fields(Mention)))
    .where(MentionRow.arxiv_id == bindparam("arxiv_id"))
    .order_by(MentionRow.engagement.desc(), MentionRow.posted_at, MentionRow.id)
    .limit(bindparam("page", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
_LATEST = (
    select(SnapshotRow.source, SnapshotRow.item_id, func.max(SnapshotRow.taken_at).label("at"))
    .where(SnapshotRow.arxiv_id == bindparam("arxiv_id"))
    .group_by(SnapshotRow.source, SnapshotRow.item_id)
    .subquery()
)
_DISCUSSIONS = (
    select(*(getattr(SnapshotRow, f.name) for f in fields(Discussion)))
    .join(
        _LATEST,
        (SnapshotRow.source == _LATEST.c.source)
        & (SnapshotRow.item_id == _LATEST.c.item_id)
        & (SnapshotRow.taken_at == _LATEST.c.at),
    )
    .where(SnapshotRow.arxiv_id == bindparam("arxiv_id"))
    .order_by(SnapshotRow.votes.desc())
    .limit(bindparam("limit", type_=Integer))
)


def _on_day(d: int) -> tuple[Any, ...]:
    """The paper's shares on day `d`: from the bound `from_{d}` to the next one."""
    return (
        MentionRow.arxiv_id == bindparam("arxiv_id"),
        MentionRow.posted_at >= bindparam(f"from_{d}"),
        MentionRow.posted_at < bindparam(f"from_{d + 1}"),
    )


@cache
def _daily(days: int) -> Select[Any]:
    # One count per day over the (arxiv_id, posted_at) index, all in one statement: a popular
    # paper's thousands of shares are neither fetched nor compared many times.
    return select(*(select(func.count()).where(*_on_day(d)).scalar_subquery() for d in range(days)))


async def daily_shares(
    connection: AsyncConnection, arxiv_id: str, first: datetime, days: int
) -> list[int]:
    """The paper's shares per UTC day for `days` days from `first`."""
    if days <= 0:
        return []
    bounds = {f"from_{d}": first + timedelta(days=d) for d in range(days + 1)}
    row = (await connection.execute(_daily(days), {"arxiv_id": arxiv_id, **bounds})).one()
    return [int(n) for n in row]


@cache
def _daily_by_source(days: int) -> CompoundSelect[Any]:
    # A day's shares counted per network, one index range a day, the days joined by UNION ALL:
    # each small group sorts at once, where a CASE over the whole month's rows compares every
    # share with each day's bound and costs five times as much (benchmarks/web.py).
    return union_all(
        *(
            select(literal(d).label("day"), MentionRow.source, func.count())
            .where(*_on_day(d))
            .group_by(MentionRow.source)
            for d in range(days)
        )
    )


async def daily_shares_by_network(
    connection: AsyncConnection, arxiv_id: str, first: datetime, days: int
) -> list[DailySeries]:
    """The paper's shares per UTC day and network, for the networks with any in the days."""
    if days <= 0:
        return []
    bounds = {f"from_{d}": first + timedelta(days=d) for d in range(days + 1)}
    counts: dict[str, list[int]] = {}
    for d, source, n in await connection.execute(
        _daily_by_source(days), {"arxiv_id": arxiv_id, **bounds}
    ):
        counts.setdefault(source, [0] * days)[int(d)] = int(n)
    return [DailySeries(s, tuple(counts[s])) for s in sorted(counts, key=source_order)]


def source_order(source: str) -> tuple[int, str]:
    """Known sources in `SOURCES` order, then any other by name."""
    return (SOURCES.index(source), "") if source in SOURCES else (len(SOURCES), source)


async def top_posts(connection: AsyncConnection, arxiv_id: str, limit: int) -> list[Mention]:
    """The paper's most engaging shares, then the earliest, one per account."""
    posts: list[Mention] = []
    seen: set[tuple[str, str]] = set()
    # Pages until `limit` accounts are found: one prolific account cannot crowd out the rest,
    # and a popular paper's thousands of shares are not all read. Most top shares come from
    # distinct accounts, so a page is a little over `limit`: every row read is parsed.
    page = max(limit * 2, 8)
    for offset in range(0, 1_000_000, page):
        params = {"arxiv_id": arxiv_id, "page": page, "offset": offset}
        rows = (await connection.execute(_POSTS, params)).all()
        for r in rows:
            if len(posts) >= limit:
                break
            if (r.source, r.author) not in seen:
                seen.add((r.source, r.author))
                posts.append(_mention(r))
        if len(posts) >= limit or len(rows) < page:
            break
    return posts


async def discussions(connection: AsyncConnection, arxiv_id: str, limit: int) -> list[Discussion]:
    """Aggregator items about the paper with their latest counts, most voted first."""
    rows = await connection.execute(_DISCUSSIONS, {"arxiv_id": arxiv_id, "limit": limit})
    return [Discussion(*r) for r in rows]


def _mention(r: Any) -> Mention:
    kind = r.kind if r.kind in ("repost", "quote") else "post"
    return Mention(**{**r._mapping, "kind": kind})
