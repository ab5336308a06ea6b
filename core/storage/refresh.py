"""Recompute stored signals and scores of some papers from their shares and snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.ranking import NEG_INF, RankingConfig
from core.signals import Signal, Snapshot, share_signal, stored_scores, vote_signal
from core.storage.tables import PaperRow, SharerRow, SignalRow, SnapshotRow
from core.storage.types import UtcDateTime
from core.storage.upsert import execute_many, insert_for, is_postgres

CHUNK = 500  # ids per IN clause: well under SQLite's bound-parameter limit
FLOOR = -1e308  # how -inf is stored: not every database takes infinities
PAPERS = cast(Table, PaperRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    """Split a sequence into slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def to_db(value: float) -> float:
    """Store -inf as the floor value."""
    return FLOOR if value == NEG_INF else value


def from_db(value: float) -> float:
    """Read the floor value back as -inf."""
    return NEG_INF if value <= FLOOR else value


SIGNAL_COLUMNS = (
    SignalRow.source,
    SignalRow.kind,
    SignalRow.day,
    SignalRow.week,
    SignalRow.month,
    SignalRow.total,
    SignalRow.trend,
    SignalRow.comments,
)


def with_signals(columns: Sequence[Any]) -> Select[Any]:
    """Papers' `columns` then their SIGNAL_COLUMNS, for the papers in the expanding `ids`.

    One round trip: each paper's columns come once per signal row (NULLs for a paper without
    any). The ids bound the signals too: PostgreSQL does not carry them across the join, and
    with stale statistics (an import filling the tables) it would hash every signal row.
    """
    ids: BindParameter[str] = bindparam("ids", expanding=True)
    join = PAPERS.outerjoin(
        SIGNALS, and_(SIGNALS.c.arxiv_id == PAPERS.c.arxiv_id, SIGNALS.c.arxiv_id.in_(ids))
    )
    return select(*columns, *SIGNAL_COLUMNS).select_from(join).where(PAPERS.c.arxiv_id.in_(ids))


REFRESH_LOCK = 0x7472656E64  # an arbitrary constant key: "trend"


async def refresh_papers(
    session: AsyncSession,
    arxiv_ids: Iterable[str],
    now: datetime,
    config: RankingConfig,
    last_share: Mapping[str, datetime] | None = None,
) -> None:
    """Recompute the signals and stored scores of `arxiv_ids` as of `now`.

    `last_share` holds the newest new share per paper, to raise `last_share_at` to.
    """
    ids = sorted(set(arxiv_ids))
    if ids and is_postgres(session):
        # Replicas refresh the same papers (a sweep, two sources' batches): a refresh deletes
        # and rewrites a paper's signal rows, so two at once would collide on their keys.
        # One refresh at a time across the cluster, until this transaction ends.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK})
    for part in chunks(ids):
        signals = await _compute(session, part, now, config)
        await store_signals(session, part, signals, now, config, last_share)


async def _compute(
    session: AsyncSession, ids: Sequence[str], now: datetime, config: RankingConfig
) -> dict[str, list[Signal]]:
    sharers: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    connection = await session.connection()  # Core rows: a full refresh reads every sharer
    rows = await connection.execute(
        select(SharerRow.arxiv_id, SharerRow.source, SharerRow.first_at, SharerRow.last_at).where(
            SharerRow.arxiv_id.in_(ids)
        )
    )
    for arxiv_id, source, first, last in rows:
        sharers[(arxiv_id, source)].append((first, last))
    snaps = await read_snapshots(session, ids)
    result: dict[str, list[Signal]] = defaultdict(list)
    for (arxiv_id, source), pairs in sharers.items():
        result[arxiv_id].append(share_signal(source, pairs, now, config))
    for (arxiv_id, source), series in snaps.items():
        result[arxiv_id].append(vote_signal(source, series, now, config))
    return result


async def read_snapshots(
    session: AsyncSession, ids: Sequence[str]
) -> dict[tuple[str, str], list[Snapshot]]:
    """Read the vote snapshots of `ids`, by (paper, source)."""
    snaps: dict[tuple[str, str], list[Snapshot]] = defaultdict(list)
    connection = await session.connection()
    for part in chunks(ids):
        rows = await connection.execute(
            select(
                SnapshotRow.arxiv_id,
                SnapshotRow.source,
                SnapshotRow.item_id,
                SnapshotRow.taken_at,
                SnapshotRow.votes,
                SnapshotRow.comments,
            ).where(SnapshotRow.arxiv_id.in_(part))
        )
        for arxiv_id, source, item_id, taken_at, votes, comments in rows:
            snaps[(arxiv_id, source)].append(Snapshot(item_id, taken_at, votes, comments))
    return snaps


async def store_signals(
    session: AsyncSession,
    ids: Sequence[str],
    signals: Mapping[str, list[Signal]],
    now: datetime,
    config: RankingConfig,
    last_share: Mapping[str, datetime] | None = None,
) -> None:
    """Replace the stored signals of `ids` and write their scores, as of `now`."""
    for part in chunks(ids):
        await session.execute(delete(SIGNALS).where(SIGNALS.c.arxiv_id.in_(part)))
        rows = [signal_row(i, s) for i in part for s in signals.get(i, ())]
        if rows:
            await execute_many(session, insert(SIGNALS), rows)
    await store_scores(session, ids, signals, now, config, last_share)


async def upsert_signals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or overwrite signal rows made by `signal_row`."""
    if not rows:
        return
    stmt = insert_for(session, SIGNALS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["arxiv_id", "source", "kind"],
        set_={c: stmt.excluded[c] for c in ("day", "week", "month", "total", "trend", "comments")},
    )
    await execute_many(session, stmt, rows)


def signal_row(arxiv_id: str, s: Signal) -> dict[str, Any]:
    """The stored form of one paper's signal."""
    return {
        "arxiv_id": arxiv_id,
        "source": s.source,
        "kind": s.kind,
        "day": s.day,
        "week": s.week,
        "month": s.month,
        "total": s.total,
        "trend": to_db(s.trend),
        "comments": s.comments,
    }


async def store_scores(
    session: AsyncSession,
    ids: Sequence[str],
    signals: Mapping[str, list[Signal]],
    now: datetime,
    config: RankingConfig,
    last_share: Mapping[str, datetime] | None = None,
) -> None:
    """Write the scores of `ids` computed from `signals`, as of `now`.

    `last_share` holds the newest new share per paper, to raise `last_share_at` to.
    """
    if not ids:
        return
    newest = last_share or {}
    rows = [_score_row(i, signals.get(i, []), config, now, newest.get(i)) for i in ids]
    # Core executemany, not the ORM's bulk UPDATE: no per-row ORM bookkeeping.
    await execute_many(session, _update_scores(session), rows)


def _update_scores(session: AsyncSession) -> Any:
    """UPDATE papers by id: scores, `scores_at`, and `last_share_at` raised to the new share."""
    greatest = func.greatest if is_postgres(session) else func.max
    newest = bindparam("b_last_share", type_=UtcDateTime())
    columns = [c for c in _SCORE_COLUMNS if c != "arxiv_id"]
    return (
        update(PAPERS)
        .where(PAPERS.c.arxiv_id == bindparam("b_arxiv_id"))
        .values(
            {
                **{c: bindparam(f"b_{c}") for c in columns},
                "scores_at": bindparam("b_scores_at", type_=UtcDateTime()),
                # SQLite's max() is NULL when an argument is: keep whichever side is known.
                "last_share_at": func.coalesce(
                    greatest(PAPERS.c.last_share_at, newest), newest, PAPERS.c.last_share_at
                ),
            }
        )
    )


def _score_row(
    arxiv_id: str,
    signals: Sequence[Signal],
    config: RankingConfig,
    now: datetime,
    last_share: datetime | None,
) -> dict[str, Any]:
    scores = stored_scores(signals, config)
    # Named as `_update_scores` binds them; built once per paper of every batch, so directly.
    return {
        "b_arxiv_id": arxiv_id,
        "b_score_day": scores.day,
        "b_score_week": scores.week,
        "b_score_month": scores.month,
        "b_score_all": scores.all,
        "b_networks_day": scores.networks_day,
        "b_networks_week": scores.networks_week,
        "b_networks_month": scores.networks_month,
        "b_networks_all": scores.networks_all,
        "b_trend_shares": to_db(scores.trend_shares),
        "b_trend_votes": to_db(scores.trend_votes),
        "b_scores_at": now,
        "b_last_share": last_share,
    }


_SCORE_COLUMNS = (
    "arxiv_id",
    "score_day",
    "score_week",
    "score_month",
    "score_all",
    "networks_day",
    "networks_week",
    "networks_month",
    "networks_all",
    "trend_shares",
    "trend_votes",
)


def signal_from_row(row: SignalRow) -> Signal:
    """Turn a stored signal row back into a `Signal`."""
    return Signal(
        source=row.source,
        kind="share" if row.kind == "share" else "vote",
        day=row.day,
        week=row.week,
        month=row.month,
        total=row.total,
        trend=from_db(row.trend),
        comments=row.comments,
    )
