"""Fold new shares into stored signals without reading a paper's whole history again.

`refresh_papers` recomputes a paper from all its sharers, which for a popular paper means
thousands of rows for every batch that names it. Here a paper's stored share signals are brought
from `papers.scores_at` to `now` instead: sharers whose last share left a window since then are
subtracted (an index range on `(arxiv_id, last_at)`), and the batch's new or moved sharers are
added; a new sharer adds its term to the decayed sum. The counts are exactly what a recompute
gives; the decayed sum agrees to rounding.

A paper is recomputed in full when it was never stored with a `scores_at`, when the clock is
behind it, or when a share predates its account's first one (that term of the sum changes, and a
log-sum cannot take a term back out exactly).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, and_, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from core.ranking import NEG_INF, WINDOW_LENGTHS, RankingConfig, decay_exponent, log2_add
from core.signals import FIXED_WINDOWS, Signal, vote_signal
from core.storage.refresh import (
    PAPERS,
    chunks,
    from_db,
    read_snapshots,
    refresh_papers,
    signal_row,
    store_scores,
    upsert_signals,
    with_signals,
)
from core.storage.tables import MentionRow, PaperRow, SharerRow
from core.storage.upsert import execute_many, insert_for, insert_new, is_postgres

Key = tuple[str, str, str]  # (arxiv_id, source, author) of a sharer
SHARERS = cast(Table, SharerRow.__table__)
# day, week and month: the windows a share can leave ("all" keeps it for ever)
SPANS = tuple(n for w in FIXED_WINDOWS if (n := WINDOW_LENGTHS[w]) is not None)
KEY_CHUNK = 1000  # three parameters each
_STORED = with_signals((PaperRow.arxiv_id, PaperRow.scores_at))  # when stored, and what


@dataclass(slots=True)
class _Tally:
    """A share signal being brought up to date: day, week, month and total, and the trend."""

    counts: list[float]
    trend: float
    changed: bool = False


async def fold_shares(
    session: AsyncSession,
    new: Iterable[tuple[str, str, str, datetime]],
    now: datetime,
    config: RankingConfig,
    voted: Iterable[str] = (),
) -> set[str]:
    """Store new shares `(arxiv_id, source, author, posted_at)`; refresh and return their papers.

    Papers in `voted` (new vote snapshots, or rows that left a window) are refreshed too.
    """
    spans: dict[Key, list[datetime]] = {}
    last_share: dict[str, datetime] = {}
    for arxiv_id, source, author, posted_at in new:  # once per share of an import: kept lean
        key = (arxiv_id, source, author)
        span = spans.get(key)
        if span is None:
            spans[key] = [posted_at, posted_at]
        elif posted_at < span[0]:
            span[0] = posted_at
        elif posted_at > span[1]:
            span[1] = posted_at
        latest = last_share.get(arxiv_id)
        if latest is None or posted_at > latest:
            last_share[arxiv_id] = posted_at
    papers = sorted(set(last_share).union(voted))
    stamps, tallies, votes = await _stored(session, papers)
    await _add_papers(session, [p for p in papers if p not in stamps], now, stamps, tallies, votes)
    votes.update(voted)  # a first snapshot has no stored vote signal yet
    since = {p: s for p, s in stamps.items() if s is not None and s <= now}
    full = {p for p in papers if p not in since}
    quick = [p for p in papers if p in since]
    quick_set = set(quick)
    gone = await _expired(session, {p: s for p, s in since.items() if s != now}, now)
    inserted = await _insert_sharers(session, spans)
    moved = {k: v for k, v in spans.items() if k not in inserted}
    before = await _sharers(session, list(moved))
    await _upsert_sharers(session, moved)
    full |= _fold(tallies, gone, spans, inserted, before, quick_set, now, config)
    quick = [p for p in quick if p not in full]
    signals, rows = await _signals(session, quick, tallies, votes, now, config)
    await upsert_signals(session, rows)
    await store_scores(session, quick, signals, now, config, last_share)
    await refresh_papers(session, full, now, config, last_share)
    return set(papers)


async def _add_papers(
    session: AsyncSession,
    missing: Sequence[str],
    now: datetime,
    stamps: dict[str, datetime | None],
    tallies: dict[tuple[str, str], _Tally],
    votes: set[str],
) -> None:
    """Insert the rows of papers first met, their (zero) scores current at `now`.

    Only the papers `_stored` did not find: probing every paper of a batch for a row costs an
    import as much as reading them. A paper another transaction inserted meanwhile is read back.
    """
    if not missing:
        return
    rows = [(p, now, now) for p in missing]
    columns = ("arxiv_id", "first_seen_at", "scores_at")
    added = {p for (p,) in await insert_new(session, PAPERS, columns, rows, ("arxiv_id",))}
    stamps.update((p, now) for p in added)
    theirs = [p for p in missing if p not in added]
    if theirs:
        their_stamps, their_tallies, their_votes = await _stored(session, theirs)
        stamps.update(their_stamps)
        tallies.update(their_tallies)
        votes.update(their_votes)


async def _sharers(
    session: AsyncSession, keys: Sequence[Key]
) -> dict[Key, tuple[datetime, datetime]]:
    """Read the stored (first_at, last_at) of the sharers among `keys`.

    Only sharers seen before come here, a few per batch: a VALUES list costs SQLAlchemy a
    compile per call, and SQLite does not use an index for `(a, b, c) IN (VALUES ...)`.
    """
    found: dict[Key, tuple[datetime, datetime]] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        wanted = (
            values(
                column("arxiv_id", String),
                column("source", String),
                column("author", String),
                name="wanted",
            )
            .data(keys[start : start + KEY_CHUNK])
            .cte("wanted")
        )
        on = and_(
            SharerRow.arxiv_id == wanted.c.arxiv_id,
            SharerRow.source == wanted.c.source,
            SharerRow.author == wanted.c.author,
        )
        rows = await session.execute(
            select(
                SharerRow.arxiv_id,
                SharerRow.source,
                SharerRow.author,
                SharerRow.first_at,
                SharerRow.last_at,
            )
            .select_from(wanted)
            .join(SharerRow, on)
        )
        for arxiv_id, source, author, first, last in rows:
            found[(arxiv_id, source, author)] = (first, last)
    return found


async def _expired(
    session: AsyncSession, since: Mapping[str, datetime], now: datetime
) -> dict[tuple[str, str, int], int]:
    """Count, per paper, network and window, the sharers whose last share left the window.

    Those are the sharers with `last_at` in `[scores_at - window, now - window)`: counted when
    the paper was stored, not any more. A sharer's last share is a stored mention, so they are
    the sharers met through that paper's mentions in the range whose time is their `last_at`.
    Papers are read in chunks of similar `scores_at`, each chunk over the widest of its ranges,
    and the rows are then matched to each paper's own.
    """
    gone: dict[tuple[str, str, int], int] = defaultdict(int)
    ordered = sorted(since, key=lambda p: since[p])
    for part in chunks(ordered):
        oldest = since[part[0]]
        for w, length in enumerate(SPANS):
            if oldest >= now:
                continue
            rows = await session.execute(
                select(SharerRow.arxiv_id, SharerRow.source, SharerRow.author, SharerRow.last_at)
                .select_from(MentionRow)
                .join(
                    SharerRow,
                    and_(
                        SharerRow.arxiv_id == MentionRow.arxiv_id,
                        SharerRow.source == MentionRow.source,
                        SharerRow.author == MentionRow.author,
                        SharerRow.last_at == MentionRow.posted_at,
                    ),
                )
                .where(
                    MentionRow.arxiv_id.in_(part),
                    MentionRow.posted_at >= oldest - length,
                    MentionRow.posted_at < now - length,
                )
                # Two posts of one account at the same instant are one sharer.
                .distinct()
            )
            for arxiv_id, source, _author, last in rows:
                if last >= since[arxiv_id] - length:
                    gone[(arxiv_id, source, w)] += 1
    return gone


async def _insert_sharers(session: AsyncSession, spans: Mapping[Key, list[datetime]]) -> set[Key]:
    """Insert the sharers not seen before; return their keys."""
    # In key order: the B-tree takes the batch page by page (see storage.repository).
    rows = sorted((k[0], k[1], k[2], v[0], v[1]) for k, v in spans.items())
    columns = ("arxiv_id", "source", "author", "first_at", "last_at")
    inserted = await insert_new(session, SHARERS, columns, rows, columns[:3])
    return {(a, s, u) for a, s, u in inserted}


async def _upsert_sharers(session: AsyncSession, spans: Mapping[Key, list[datetime]]) -> None:
    """Fold the batch into the rows of sharers seen before: one per (paper, network, account)."""
    rows = [
        {"arxiv_id": k[0], "source": k[1], "author": k[2], "first_at": v[0], "last_at": v[1]}
        for k, v in sorted(spans.items())
    ]
    least, greatest = (func.least, func.greatest) if is_postgres(session) else (func.min, func.max)
    stmt = insert_for(session, SHARERS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["arxiv_id", "source", "author"],
        set_={
            "first_at": least(SHARERS.c.first_at, stmt.excluded.first_at),
            "last_at": greatest(SHARERS.c.last_at, stmt.excluded.last_at),
        },
    )
    await execute_many(session, stmt, rows)


async def _stored(
    session: AsyncSession, ids: Sequence[str]
) -> tuple[dict[str, datetime | None], dict[tuple[str, str], _Tally], set[str]]:
    """Read when the scores of `ids` were stored, their share signals, and which have votes."""
    stamps: dict[str, datetime | None] = {}
    tallies: dict[tuple[str, str], _Tally] = {}
    votes: set[str] = set()
    connection = await session.connection()
    for part in chunks(ids):
        rows = await connection.execute(_STORED, {"ids": list(part)})
        for arxiv_id, at, source, kind, day, week, month, total, trend, _comments in rows:
            stamps[arxiv_id] = at
            if kind == "share":
                tallies[(arxiv_id, source)] = _Tally([day, week, month, total], from_db(trend))
            elif kind is not None:
                votes.add(arxiv_id)
    return stamps, tallies, votes


def _fold(
    tallies: dict[tuple[str, str], _Tally],
    gone: Mapping[tuple[str, str, int], int],
    spans: Mapping[Key, list[datetime]],
    inserted: set[Key],
    before: Mapping[Key, tuple[datetime, datetime]],
    papers: set[str],
    now: datetime,
    config: RankingConfig,
) -> set[str]:
    """Bring the tallies to `now`; return the papers that need a full recompute instead."""
    full: set[str] = set()
    for (arxiv_id, source, w), n in gone.items():
        tally = tallies.get((arxiv_id, source))
        if tally is None or tally.counts[w] < n:
            full.add(arxiv_id)  # the stored signal does not match the sharers: recompute
        else:
            tally.counts[w] -= n
            tally.changed = True
    limits = [now - length for length in SPANS]
    for key, (first, last) in spans.items():
        arxiv_id, source, _ = key
        if arxiv_id not in papers or arxiv_id in full:
            continue
        old = before.get(key)
        tally = tallies.get((arxiv_id, source))
        if key in inserted:
            if tally is None:
                tally = tallies[(arxiv_id, source)] = _Tally([0.0, 0.0, 0.0, 0.0], NEG_INF)
            tally.counts[3] += 1
            tally.changed = True
            tally.trend = log2_add(tally.trend, decay_exponent(first, config.half_life))
            for w, limit in enumerate(limits):
                tally.counts[w] += last >= limit
        elif old is None or tally is None or first < old[0]:
            full.add(arxiv_id)
        else:
            moved = max(old[1], last)
            tally.changed = True
            for w, limit in enumerate(limits):
                tally.counts[w] += int(moved >= limit) - int(old[1] >= limit)
    return full


async def _signals(
    session: AsyncSession,
    ids: Sequence[str],
    tallies: Mapping[tuple[str, str], _Tally],
    votes: set[str],
    now: datetime,
    config: RankingConfig,
) -> tuple[dict[str, list[Signal]], list[dict[str, Any]]]:
    """Assemble each paper's signals, and the rows that changed.

    Shares come from the tallies (changed or not: the score needs them all); votes are
    recomputed from the snapshots, as their windows move with `now` too.
    """
    result: dict[str, list[Signal]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    wanted = set(ids)
    for (arxiv_id, source), t in sorted(tallies.items()):
        if arxiv_id in wanted and t.counts[3] > 0:
            day, week, month, total = t.counts
            signal = Signal(source, "share", day, week, month, total, t.trend)
            result[arxiv_id].append(signal)
            if t.changed:
                rows.append(signal_row(arxiv_id, signal))
    snaps = await read_snapshots(session, sorted(votes & wanted))
    for (arxiv_id, source), series in sorted(snaps.items()):
        signal = vote_signal(source, series, now, config)
        result[arxiv_id].append(signal)
        rows.append(signal_row(arxiv_id, signal))
    return result, rows
