"""Sharers: one row per (paper, network, account), its first and last share (storage.scores)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.tables import SharerRow
from core.storage.types import UtcDateTime
from core.storage.upsert import insert_for, is_postgres

Key = tuple[str, str, str]  # (arxiv_id, source, author)
SHARERS = cast(Table, SharerRow.__table__)
KEY_COLUMNS = ("arxiv_id", "source", "author")
COLUMNS = (*KEY_COLUMNS, "first_at", "last_at")


async def read_sharers(
    session: AsyncSession, shares: Select[str, str, str, datetime]
) -> dict[Key, tuple[datetime, datetime]]:
    """Read the stored first and last share of the sharers of `shares`, before they are folded in.

    `shares` selects (paper, network, account, time); a sharer not found is new. Joined to the
    batch's rows, each is a primary-key lookup: a list of keys would be compiled anew each batch,
    and SQLite plans a row-value `IN` list as a scan.
    """
    batch = shares.subquery("batch")
    stored = select(*(SHARERS.c[c] for c in COLUMNS)).join_from(
        batch, SHARERS, and_(*(SHARERS.c[c] == batch.c[c] for c in KEY_COLUMNS))
    )
    return {(a, s, u): (first, last) for a, s, u, first, last in await session.execute(stored)}


async def insert_sharers(session: AsyncSession, shares: Select[str, str, str, datetime]) -> None:
    """Insert the sharers of `shares` (paper, network, account, time) not stored yet.

    Folded from the stored shares in one statement, a batch's sharers are not bound one by one
    again.
    """
    # Materialised first: grouped in the same query, SQLite would rather read every stored
    # share in key order than the batch's few by id (a million-row scan for a poll's five).
    new = shares.cte("new").prefix_with("MATERIALIZED")
    keys = (new.c.arxiv_id, new.c.source, new.c.author)
    folded = (
        select(*keys, func.min(new.c.posted_at), func.max(new.c.posted_at))
        .group_by(*keys)
        .order_by(*keys)  # in key order: the B-tree takes the batch page by page
    )
    stmt = insert_for(session, SHARERS).from_select(COLUMNS, folded)
    await session.execute(stmt.on_conflict_do_nothing())


async def widen_sharers(session: AsyncSession, spans: Mapping[Key, list[datetime]]) -> None:
    """Widen known sharers' first and last share to take in the batch's."""
    if not spans:
        return
    least, greatest = (func.least, func.greatest) if is_postgres(session) else (func.min, func.max)
    first = bindparam("b_first", type_=UtcDateTime())
    last = bindparam("b_last", type_=UtcDateTime())
    stmt = (
        update(SHARERS)
        .where(
            SHARERS.c.arxiv_id == bindparam("b_arxiv_id"),
            SHARERS.c.source == bindparam("b_source"),
            SHARERS.c.author == bindparam("b_author"),
        )
        .values(
            first_at=least(SHARERS.c.first_at, first), last_at=greatest(SHARERS.c.last_at, last)
        )
    )
    rows = [
        {"b_arxiv_id": k[0], "b_source": k[1], "b_author": k[2], "b_first": v[0], "b_last": v[1]}
        for k, v in sorted(spans.items())
    ]
    await session.execute(stmt, rows)
