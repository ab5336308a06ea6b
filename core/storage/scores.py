"""The score store: each paper's window scores and trending key, written when its rows arrive.

    trending(paper, now) = 2^(-(now - L)/h) · Σ_i c_i · 2^((t_i - L)/h)
    papers.trend         = round(log2 Σ_i c_i · 2^((t_i - L)/h), 9)

A new sharer's first share at t_i adds c_i = w_network; a vote gain g_i > 0 seen in a snapshot at
t_i adds c_i = w_aggregator · log2(1 + g_i); L is the fixed landmark `core.ranking.EPOCH`. The
factor before the sum is the same for every paper, so the order of `papers.trend` is the trending
order at every moment: `/top` reads it as an index, and nothing rescores it as time passes.
Kept as log2 of the sum (terms added by log-sum-exp), the key cannot overflow: it grows by one
per half-life, about 10^5 after ten years at a one-hour half-life, where a float still resolves
the 1e-9 it is rounded to. So the landmark stays fixed and never needs a rebase.

Invariants, for every paper:
- `paper_signals` holds, per source and kind, the unweighted counts of the day, week and month
  windows, the all-time count, and the source's own unweighted trending log-sum; `papers` holds
  `core.signals.stored_scores` of those rows.
- A sharer counts in a window iff their last share is inside it as of the watermark S
  (`meta.swept_until`), or as of T (`meta.sweeping_to`) while a sweep takes S there: writes count
  as of `watermark()`, and `storage.sweep` recounts what changes between S and T, so reads never
  write.
- What cannot be added to a sum (a share older than its account's first, a deleted share, new
  weights) recomputes the paper from its rows: `rescore`.

A share's score is written by `add_shares`; a vote gain's by `refresh_votes`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    case,
    delete,
    distinct,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.ranking import NEG_INF, WINDOW_LENGTHS, RankingConfig, decay_exponent, log2_add
from core.signals import FIXED_WINDOWS, Signal, Snapshot, share_signal, stored_scores, vote_signal
from core.storage.sharers import Key, insert_sharers, read_sharers, widen_sharers
from core.storage.tables import MetaRow, PaperRow, SharerRow, SignalRow, SnapshotRow
from core.storage.upsert import chunks, insert_for, is_postgres

WATERMARK = "swept_until"  # S: the moment the window counts are as of
TARGET = "sweeping_to"  # T: where a running sweep takes them, and what writes count as of
SIGNATURE = "scores_signature"  # the weights and half-life the stored scores were made with
FLOOR = -1e308  # how -inf is stored: not every database takes infinities
WRITERS_LOCK = 0x73636F726573  # an arbitrary advisory lock key: "scores"
WINDOW_COLUMNS = tuple(f"{k}_{w}" for k in ("score", "networks") for w in ("day", "week", "month"))
SCORE_COLUMNS = (*WINDOW_COLUMNS, "score_all", "networks_all", "trend")
COUNT_COLUMNS = ("day", "week", "month")  # a signal row's window counts, as in SPANS
SPANS = tuple(n for w in FIXED_WINDOWS if (n := WINDOW_LENGTHS[w]) is not None)  # day, week, month
PAPERS = cast(Table, PaperRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
META = cast(Table, MetaRow.__table__)
SNAPSHOT_COLUMNS = tuple(getattr(SnapshotRow, f.name) for f in fields(Snapshot))  # in field order

SignalKey = tuple[str, str]  # (source, kind)
Signals = dict[str, dict[SignalKey, Signal]]  # paper -> its signals


def to_db(value: float) -> float:
    """Store -inf as the floor value."""
    return FLOOR if value == NEG_INF else value


def from_db(value: float) -> float:
    """Read the floor value back as -inf."""
    return NEG_INF if value <= FLOOR else value


async def watermark(
    session: AsyncSession, now: datetime, config: RankingConfig, *, exclusive: bool = False
) -> datetime:
    """Return the moment writes count windows as of: a running sweep's target T, or else S.

    Locks S's row: shared by writers, exclusive by a sweep starting or ending (PostgreSQL), so
    no write counts against a moment that a sweep is changing. Every score write starts here,
    so on SQLite this is where it takes the write lock, before it reads what it will add to: a
    deferred transaction would read, let another writer commit, then write over that writer's
    counts. A store without S is new and empty: its windows are current `now`, its scores made
    with `config`.
    """
    if not is_postgres(session):
        await _begin_immediate(session)
    stmt = select(MetaRow.value).where(MetaRow.key == WATERMARK).with_for_update(read=not exclusive)
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is None:
        rows = [{"key": WATERMARK, "value": now.isoformat()}]
        rows.append({"key": SIGNATURE, "value": config.signature})
        await session.execute(insert_for(session, META).on_conflict_do_nothing(), rows)
        value = (await session.execute(stmt)).scalar_one()
    target = select(MetaRow.value).where(MetaRow.key == TARGET)
    return datetime.fromisoformat((await session.execute(target)).scalar_one_or_none() or value)


async def _begin_immediate(session: AsyncSession) -> None:
    """Take SQLite's write lock now, unless this transaction already wrote (and so holds it)."""
    connection = await session.connection()
    raw: Any = await connection.get_raw_connection()
    if not raw.driver_connection.in_transaction:
        await session.execute(text("BEGIN IMMEDIATE"))


async def add_shares(
    session: AsyncSession,
    shares: Iterable[tuple[str, str, str, datetime]],
    rows: Select[str, str, str, datetime],
    as_of: datetime,
    config: RankingConfig,
) -> None:
    """Fold new shares `(arxiv_id, source, author, posted_at)` into sharers and scores.

    `rows` selects the same shares as stored: new sharers are folded from them in SQL.
    """
    spans = _spans(shares)
    if not spans:
        return
    newest: dict[str, datetime] = {}
    for (arxiv_id, _, _), (_, last) in spans.items():
        newest[arxiv_id] = max(newest.get(arxiv_id, last), last)
    await lock_writers(session)
    before = await read_sharers(session, rows)  # the others are new: no other writer meanwhile
    await insert_sharers(session, rows)
    await widen_sharers(session, {k: spans[k] for k in before})
    papers = sorted(newest)
    signals = await read_signals(session, papers)
    gains, redo = _gains(spans, before, as_of, config)
    for (arxiv_id, source), (day, week, month, total, trend) in gains.items():
        if arxiv_id not in redo:
            old = signals[arxiv_id].get((source, "share")) or Signal(source, "share")
            signals[arxiv_id][(source, "share")] = Signal(
                source,
                "share",
                old.day + day,
                old.week + week,
                old.month + month,
                old.total + total,
                log2_add(old.trend, trend),
            )
    changed = {(arxiv_id, (source, "share")) for arxiv_id, source in gains}
    await store(session, [p for p in papers if p not in redo], signals, config, newest, changed)
    await rescore(session, sorted(redo), as_of, config, newest)


def _spans(shares: Iterable[tuple[str, str, str, datetime]]) -> dict[Key, list[datetime]]:
    """Each sharer's first and last share among `shares`."""
    spans: dict[Key, list[datetime]] = {}
    for arxiv_id, source, author, posted_at in shares:
        span = spans.get((arxiv_id, source, author))
        if span is None:
            spans[(arxiv_id, source, author)] = [posted_at, posted_at]
        elif posted_at < span[0]:
            span[0] = posted_at
        elif posted_at > span[1]:
            span[1] = posted_at
    return spans


def _gains(
    spans: Mapping[Key, Sequence[datetime]],
    before: Mapping[Key, tuple[datetime, datetime]],
    as_of: datetime,
    config: RankingConfig,
) -> tuple[dict[tuple[str, str], list[float]], set[str]]:
    """What the spans add to each (paper, network), and the papers to recompute instead.

    A gain is day, week, month, total and trend terms. A new sharer counts once more in each
    window its last share is in, and adds the term of its first share. A known one can only
    move its last share later, into a window it was not in. A known sharer with an earlier
    first share than its stored one sends its paper to be recomputed: its term cannot be taken
    back out of the sum.
    """
    day_from, week_from, month_from = (as_of - length for length in SPANS)
    gains: dict[tuple[str, str], list[float]] = {}
    redo: set[str] = set()
    for key, (first, last) in spans.items():
        old = before.get(key)
        if old is not None and first < old[0]:
            redo.add(key[0])
            continue
        gain = gains.setdefault(key[:2], [0, 0, 0, 0, NEG_INF])
        if old is None:
            gain[0] += last >= day_from
            gain[1] += last >= week_from
            gain[2] += last >= month_from
            gain[3] += 1
            gain[4] = log2_add(gain[4], decay_exponent(first, config.half_life))
        else:
            was = old[1]
            gain[0] += (last >= day_from) > (was >= day_from)
            gain[1] += (last >= week_from) > (was >= week_from)
            gain[2] += (last >= month_from) > (was >= month_from)
    return gains, redo


async def refresh_votes(
    session: AsyncSession, arxiv_ids: Iterable[str], as_of: datetime, config: RankingConfig
) -> None:
    """Recompute the vote signals of papers from their snapshots, windows as of `as_of`.

    A paper's snapshots are few (one an item a poll), so they are read whole.
    """
    papers = sorted(set(arxiv_ids))
    await lock_writers(session)
    signals = await read_signals(session, papers)
    for (arxiv_id, source), series in (await read_snapshots(session, papers)).items():
        signals[arxiv_id][(source, "vote")] = vote_signal(source, series, as_of, config)
    await store(session, papers, signals, config)


async def rescore(
    session: AsyncSession,
    arxiv_ids: Sequence[str],
    as_of: datetime,
    config: RankingConfig,
    newest: Mapping[str, datetime] | None = None,
) -> None:
    """Recompute papers' signals and scores from all their sharers and snapshots."""
    await lock_writers(session)
    for part in chunks(arxiv_ids):
        signals: Signals = {p: {} for p in part}
        sharers: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
        rows = await session.execute(
            select(
                SharerRow.arxiv_id, SharerRow.source, SharerRow.first_at, SharerRow.last_at
            ).where(SharerRow.arxiv_id.in_(part))
        )
        for arxiv_id, source, first, last in rows:
            sharers[(arxiv_id, source)].append((first, last))
        for (arxiv_id, source), pairs in sharers.items():
            signals[arxiv_id][(source, "share")] = share_signal(source, pairs, as_of, config)
        for (arxiv_id, source), series in (await read_snapshots(session, part)).items():
            signals[arxiv_id][(source, "vote")] = vote_signal(source, series, as_of, config)
        await session.execute(delete(SIGNALS).where(SIGNALS.c.arxiv_id.in_(part)))
        await store(session, part, signals, config, newest)


async def lock_writers(session: AsyncSession) -> None:
    """Be the only writer of scores until commit (PostgreSQL), before reading what to add to.

    Two replicas adding to one paper would otherwise both read its counts and write their own
    sum, losing one. One transaction-scoped advisory lock costs a statement, where locking the
    rows of a batch's papers writes to every one of them. SQLite has one writer anyway.
    """
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})


async def read_signals(session: AsyncSession, arxiv_ids: Sequence[str]) -> Signals:
    """Read the stored signals of papers (every paper asked for has an entry)."""
    found: Signals = {p: {} for p in arxiv_ids}
    columns = [c for c in SIGNALS.c if c.key != "arxiv_id"]
    for part in chunks(arxiv_ids):
        rows = await session.execute(
            select(SIGNALS.c.arxiv_id, *columns).where(SIGNALS.c.arxiv_id.in_(part))
        )
        for arxiv_id, source, kind, *values in rows:
            signal = signal_of(source, kind, *values)
            found[arxiv_id][(source, signal.kind)] = signal
    return found


def signal_of(source: str, kind: str, *values: Any) -> Signal:
    """A stored signal row as a `Signal`: its day, week, month, total, trend and comments."""
    day, week, month, total, trend, comments = values
    shared = kind == "share"
    return Signal(
        source, "share" if shared else "vote", day, week, month, total, from_db(trend), comments
    )


async def store(
    session: AsyncSession,
    papers: Sequence[str],
    signals: Signals,
    config: RankingConfig,
    newest: Mapping[str, datetime] | None = None,
    changed: Collection[tuple[str, SignalKey]] | None = None,
    columns: Sequence[str] = SCORE_COLUMNS,
) -> None:
    """Write papers' signal rows (those `changed`, or all) and the scores made of them.

    `newest` holds each paper's newest new share, to raise `last_share_at` to. Only `columns`
    are written: a sweep leaves the all-time and trending ones (and their indexes) alone.
    """
    if not papers:
        return
    rows = [
        _signal_row(p, s)
        for p in papers
        for key, s in signals[p].items()
        if changed is None or (p, key) in changed
    ]
    for part in chunks(rows, 2000):
        stmt = insert_for(session, SIGNALS)
        replace = {c: stmt.excluded[c] for c in ("day", "week", "month", "total", "trend")}
        replace["comments"] = stmt.excluded.comments
        stmt = stmt.on_conflict_do_update(
            index_elements=["arxiv_id", "source", "kind"], set_=replace
        )
        await session.execute(stmt, list(part))
    # An upsert: a paper met for the first time gets its row here, with its first scores.
    stmt = insert_for(session, PAPERS)
    values: dict[str, Any] = {name: stmt.excluded[name] for name in columns}
    if newest is not None:
        greatest = func.greatest if is_postgres(session) else func.max
        newest_at, last = stmt.excluded.last_share_at, PAPERS.c.last_share_at
        # SQLite's max() is NULL when an argument is: keep whichever side is known.
        values["last_share_at"] = func.coalesce(greatest(last, newest_at), newest_at, last)
    later = newest or {}
    scores = [_score_row(p, signals[p].values(), config, later.get(p)) for p in papers]
    upsert = stmt.on_conflict_do_update(index_elements=["arxiv_id"], set_=values)
    await session.execute(upsert, scores)


async def store_share_windows(
    session: AsyncSession, papers: Sequence[str], config: RankingConfig
) -> set[str]:
    """Write the window scores of those papers with share signals only; return which.

    `stored_scores` as one statement for many papers, for the sweep: a window's score is
    Σ w · sharers over the paper's networks, its networks those with any sharer in it. Each
    sum reads the paper's own signal rows by key (a correlated subquery): a join to one
    grouping of every paper's rows can make PostgreSQL read all the signal rows a statement.
    """
    own = SIGNALS.alias("own")
    source = own.c.source
    weight = case(dict(config.weights), value=source, else_=1.0) if config.weights else literal(1.0)
    mine = own.c.arxiv_id == PAPERS.c.arxiv_id
    columns: dict[str, Any] = {}
    for window, count in zip(("day", "week", "month"), COUNT_COLUMNS, strict=True):
        counted = own.c[count]
        total = func.coalesce(func.sum(weight * counted), 0.0)
        columns[f"score_{window}"] = select(total).where(mine).scalar_subquery()
        networks = func.count(distinct(case((counted > 0, source))))
        columns[f"networks_{window}"] = select(networks).where(mine).scalar_subquery()
    voted = exists().where(mine, own.c.kind == "vote")
    written: set[str] = set()
    for part in chunks(papers, 2000):
        rows = await session.execute(
            update(PAPERS)
            .where(PAPERS.c.arxiv_id.in_(part), ~voted)
            .values(columns)
            .returning(PAPERS.c.arxiv_id)
        )
        written.update(rows.scalars())
    return written


def _signal_row(arxiv_id: str, s: Signal) -> dict[str, Any]:
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


def _score_row(
    arxiv_id: str, signals: Iterable[Signal], config: RankingConfig, newest: datetime | None
) -> dict[str, Any]:
    scores = stored_scores(list(signals), config)
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
        "trend": to_db(scores.trend),
        "last_share_at": newest,
    }


async def read_snapshots(
    session: AsyncSession, arxiv_ids: Sequence[str]
) -> dict[tuple[str, str], list[Snapshot]]:
    """Read the vote snapshots of papers, by (paper, source)."""
    snaps: dict[tuple[str, str], list[Snapshot]] = defaultdict(list)
    for part in chunks(arxiv_ids):
        rows = await session.execute(
            select(SnapshotRow.arxiv_id, SnapshotRow.source, *SNAPSHOT_COLUMNS).where(
                SnapshotRow.arxiv_id.in_(part)
            )
        )
        for arxiv_id, source, *values in rows:
            snaps[(arxiv_id, source)].append(Snapshot(*values))
    return snaps
