"""From stored shares and vote snapshots to per-source signals and scores (pure functions).

Both the SQL repository and the in-memory fake fold their rows through these functions, so the
numbers a user sees do not depend on the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from core.models import Paper, PaperStats, SourceCounts, Window
from core.ranking import (
    NEG_INF,
    WINDOW_LENGTHS,
    RankingConfig,
    decay_exponent,
    decayed,
    log2_add,
    log2_sum,
    share_points,
    trend_key,
    vote_points,
)

SignalKind = Literal["share", "vote"]
FIXED_WINDOWS: tuple[Window, ...] = ("day", "week", "month", "all")


@dataclass(frozen=True, slots=True)
class Signal:
    """One source's contribution to one paper as of a moment.

    For shares the values are unique sharers; for votes, votes gained. `trend` is the log2 of
    the decayed sum (see core.ranking); `comments` is the latest comment count of vote items.
    """

    source: str
    kind: SignalKind
    day: float = 0.0
    week: float = 0.0
    month: float = 0.0
    total: float = 0.0
    trend: float = NEG_INF
    comments: int = 0

    def value(self, window: Window) -> float:
        """Return the count in a fixed window; trending shows the all-time count."""
        match window:
            case "day":
                return self.day
            case "week":
                return self.week
            case "month":
                return self.month
            case _:
                return self.total


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An aggregator item's votes at a moment, as the signal maths needs it."""

    item_id: str
    taken_at: datetime
    votes: int
    comments: int = 0


def share_signal(
    source: str, sharers: Iterable[tuple[datetime, datetime]], now: datetime, config: RankingConfig
) -> Signal:
    """Fold `(first_at, last_at)` of each unique sharer into a signal.

    A sharer counts in a window when any of their shares falls in it, i.e. their last share does.
    The trending sum decays each sharer's first share: posting again adds nothing.
    """
    pairs = list(sharers)
    day, week, month, total = (
        float(sum(1 for _, last in pairs if limit is None or last >= now - limit))
        for limit in (WINDOW_LENGTHS[w] for w in FIXED_WINDOWS)
    )
    trend = log2_sum(decay_exponent(first, config.half_life) for first, _ in pairs)
    return Signal(source, "share", day, week, month, total, trend=trend)


def vote_signal(
    source: str, snapshots: Sequence[Snapshot], now: datetime, config: RankingConfig
) -> Signal:
    """Fold the snapshots of one source's items for one paper into votes gained per window.

    Votes gained in a window are the latest count less the count at the last snapshot taken
    before the window opened (nothing, for an item first seen inside the window). The trending
    sum holds each gain over the item's best count so far as `log2(1 + gain)` points, decayed
    from the snapshot that saw it.
    """
    by_item: dict[str, list[Snapshot]] = {}
    for snap in sorted(snapshots, key=lambda s: s.taken_at):
        by_item.setdefault(snap.item_id, []).append(snap)
    gains = [0.0, 0.0, 0.0, 0.0]
    trend = NEG_INF
    comments = 0
    for series in by_item.values():
        latest = series[-1]
        comments += latest.comments
        for i, limit in enumerate(WINDOW_LENGTHS[w] for w in FIXED_WINDOWS):
            start = None if limit is None else now - limit
            before = [s.votes for s in series if start is not None and s.taken_at < start]
            gains[i] += max(0, latest.votes - (before[-1] if before else 0))
        previous = 0
        for snap in series:
            gained = snap.votes - previous
            previous = max(previous, snap.votes)
            if gained > 0:
                # The gain's points, log-compressed on their own, decay from the snapshot.
                exponent = decay_exponent(snap.taken_at, config.half_life)
                trend = log2_add(trend, exponent + math.log2(math.log2(1.0 + gained)))
    day, week, month, total = gains
    return Signal(source, "vote", day, week, month, total, trend=trend, comments=comments)


def points(signal: Signal, window: Window, now: datetime, config: RankingConfig) -> float:
    """Return the points a signal gives in a window (trending decays them)."""
    weight = config.weight(signal.source)
    if window == "trending":
        return weight * decayed(signal.trend, now, config.half_life)
    value = signal.value(window)
    if signal.kind == "share":
        return share_points(weight, value)
    return vote_points(weight, value)


@dataclass(frozen=True, slots=True)
class StoredScores:
    """What a store keeps per paper so that `/top` is an index lookup."""

    day: float
    week: float
    month: float
    all: float
    networks_day: int
    networks_week: int
    networks_month: int
    networks_all: int
    trend: float  # the trending key, `paper_trend_key`


def paper_trend_key(signals: Iterable[Signal], config: RankingConfig) -> float:
    """The paper's trending key: rounded log2 of Σ_sources w · 2^trend (see core.ranking).

    Only sources a card shows (any count at all) take part, as in `paper_stats`.
    """
    return trend_key(
        s.trend + math.log2(w)
        for s in signals
        if s.total > 0 and s.trend != NEG_INF and (w := config.weight(s.source)) > 0
    )


def stored_scores(signals: Sequence[Signal], config: RankingConfig) -> StoredScores:
    """Compute the per-window scores and the trending key of one paper from its signals."""
    scores = [0.0, 0.0, 0.0, 0.0]
    sources: tuple[set[str], ...] = (set(), set(), set(), set())
    for s in signals:
        weight = config.weight(s.source)
        points = share_points if s.kind == "share" else vote_points
        for i, count in enumerate((s.day, s.week, s.month, s.total)):
            scores[i] += points(weight, count)
            if count > 0:
                # A source with both shares and votes (Mastodon) is one network, as in PaperStats.
                sources[i].add(s.source)
    day, week, month, total = scores
    n_day, n_week, n_month, n_all = (len(found) for found in sources)
    trend = paper_trend_key(signals, config)
    return StoredScores(day, week, month, total, n_day, n_week, n_month, n_all, trend)


def paper_stats(
    paper: Paper,
    signals: Sequence[Signal],
    window: Window,
    now: datetime,
    config: RankingConfig,
    last_share_at: datetime | None,
) -> PaperStats:
    """Build the displayed score and per-source counts of one paper in one window."""
    sources = tuple(
        SourceCounts(
            source=s.source,
            sharers=int(s.value(window)) if s.kind == "share" else 0,
            votes=int(s.value(window)) if s.kind == "vote" else 0,
            score=points(s, window, now, config),
        )
        for s in sorted(signals, key=lambda s: (s.kind, s.source))
        if s.total > 0
    )
    merged = _merge_sources(sources)
    score = sum(c.score for c in merged)
    key = paper_trend_key(signals, config) if window == "trending" else None
    return PaperStats(paper, score, merged, last_share_at, rank_key=key)


def _merge_sources(counts: Iterable[SourceCounts]) -> tuple[SourceCounts, ...]:
    """Merge a source's share and vote counts (Mastodon has both) into one entry."""
    merged: dict[str, SourceCounts] = {}
    for c in counts:
        seen = merged.get(c.source)
        merged[c.source] = (
            c
            if seen is None
            else SourceCounts(
                c.source, seen.sharers + c.sharers, seen.votes + c.votes, seen.score + c.score
            )
        )
    return tuple(sorted(merged.values(), key=lambda c: (-c.sharers, -c.votes, c.source)))
