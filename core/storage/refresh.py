"""Recompute stored signals and scores of some papers from their shares and snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ranking import NEG_INF, RankingConfig
from core.signals import Signal, Snapshot, share_signal, stored_scores, vote_signal
from core.storage.tables import PaperRow, SharerRow, SignalRow, SnapshotRow

CHUNK = 500  # ids per IN clause: well under SQLite's bound-parameter limit
FLOOR = -1e308  # how -inf is stored: not every database takes infinities


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


async def refresh_papers(
    session: AsyncSession, arxiv_ids: Iterable[str], now: datetime, config: RankingConfig
) -> None:
    """Recompute the signals and stored scores of `arxiv_ids` as of `now`."""
    ids = sorted(set(arxiv_ids))
    for part in chunks(ids):
        signals = await _compute(session, part, now, config)
        await _store(session, part, signals, config)


async def _compute(
    session: AsyncSession, ids: Sequence[str], now: datetime, config: RankingConfig
) -> dict[str, list[Signal]]:
    sharers: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = await session.execute(
        select(SharerRow.arxiv_id, SharerRow.source, SharerRow.first_at, SharerRow.last_at).where(
            SharerRow.arxiv_id.in_(ids)
        )
    )
    for arxiv_id, source, first, last in rows:
        sharers[(arxiv_id, source)].append((first, last))
    snaps: dict[tuple[str, str], list[Snapshot]] = defaultdict(list)
    snap_rows = await session.execute(
        select(
            SnapshotRow.arxiv_id,
            SnapshotRow.source,
            SnapshotRow.item_id,
            SnapshotRow.taken_at,
            SnapshotRow.votes,
            SnapshotRow.comments,
        ).where(SnapshotRow.arxiv_id.in_(ids))
    )
    for arxiv_id, source, item_id, taken_at, votes, comments in snap_rows:
        snaps[(arxiv_id, source)].append(Snapshot(item_id, taken_at, votes, comments))
    result: dict[str, list[Signal]] = defaultdict(list)
    for (arxiv_id, source), pairs in sharers.items():
        result[arxiv_id].append(share_signal(source, pairs, now, config))
    for (arxiv_id, source), series in snaps.items():
        result[arxiv_id].append(vote_signal(source, series, now, config))
    return result


async def _store(
    session: AsyncSession,
    ids: Sequence[str],
    signals: dict[str, list[Signal]],
    config: RankingConfig,
) -> None:
    await session.execute(delete(SignalRow).where(SignalRow.arxiv_id.in_(ids)))
    signal_rows: list[dict[str, Any]] = [
        {
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
        for arxiv_id, items in signals.items()
        for s in items
    ]
    if signal_rows:
        await session.execute(insert(SignalRow), signal_rows)
    paper_rows = [_score_row(arxiv_id, signals.get(arxiv_id, []), config) for arxiv_id in ids]
    # ORM bulk UPDATE by primary key: one executemany for the whole chunk.
    await session.execute(update(PaperRow), paper_rows)


def _score_row(arxiv_id: str, signals: Sequence[Signal], config: RankingConfig) -> dict[str, Any]:
    scores = stored_scores(signals, config)
    return {
        "arxiv_id": arxiv_id,
        "score_day": scores.day,
        "score_week": scores.week,
        "score_month": scores.month,
        "score_all": scores.all,
        "networks_day": scores.networks_day,
        "networks_week": scores.networks_week,
        "networks_month": scores.networks_month,
        "networks_all": scores.networks_all,
        "trend_shares": to_db(scores.trend_shares),
        "trend_votes": to_db(scores.trend_votes),
    }


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
