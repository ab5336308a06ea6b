"""Pure scoring: how shares and votes become a paper's score (DESIGN.md section 4).

score = Σ_networks w_n · unique_sharers_n + Σ_aggregators w_a · log2(1 + votes_gained_a)

Trending decays every term by 2^(-age / half_life): a new sharer's first share adds w_n, a vote
gain g seen in a snapshot adds w_a · log2(1 + g), each from its own moment (forward decay,
Cormode et al., ICDE 2009). The sum is kept as `log2 Σ c_i · 2^((t_i - EPOCH) / h)`: every term
shares the factor 2^(-(now - EPOCH) / h), so the order of that key is the trending order at any
`now`, and the key is written on insert and never rescored as time passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.models import PaperStats, Window

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
WINDOW_LENGTHS: Mapping[Window, timedelta | None] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "all": None,
}
NEG_INF = float("-inf")


@dataclass(frozen=True, slots=True)
class RankingConfig:
    """Per-source weights (default 1) and the trending half-life."""

    weights: Mapping[str, float] = field(default_factory=dict)
    half_life: timedelta = timedelta(hours=24)

    def weight(self, source: str) -> float:
        """Return the weight of `source`."""
        return self.weights.get(source, 1.0)

    @property
    def signature(self) -> str:
        """A string that changes whenever stored scores must be recomputed."""
        parts = sorted(f"{k}={v:g}" for k, v in self.weights.items())
        return f"h={self.half_life.total_seconds():g};" + ",".join(parts)


def decay_exponent(moment: datetime, half_life: timedelta) -> float:
    """Return `(moment - EPOCH) / half_life`, the base-2 exponent of a decayed term."""
    return (moment - EPOCH) / half_life


def log2_add(a: float, b: float) -> float:
    """Return log2(2^a + 2^b) without overflow."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def log2_sum(exponents: Iterable[float]) -> float:
    """Return log2 Σ 2^e over `exponents` (-inf for none)."""
    values = list(exponents)
    if not values:
        return NEG_INF
    top = max(values)
    if top == NEG_INF:
        return NEG_INF
    return top + math.log2(sum(2.0 ** (v - top) for v in values))


KEY_DIGITS = 9  # a trending key is rounded: equal terms give equal keys in any order of adding


def trend_key(log_terms: Iterable[float]) -> float:
    """Return the rounded `log2 Σ 2^x` of weighted log terms: a paper's stored trending key."""
    total = log2_sum(log_terms)
    return total if total == NEG_INF else round(total, KEY_DIGITS)


def decayed(log_value: float, now: datetime, half_life: timedelta) -> float:
    """Turn a stored `log2 Σ 2^(x_i)` into the decayed sum as seen at `now`."""
    if log_value == NEG_INF:
        return 0.0
    return float(2.0 ** (log_value - decay_exponent(now, half_life)))


def share_points(weight: float, sharers: float) -> float:
    """Points from unique sharers on one network."""
    return weight * sharers


def vote_points(weight: float, votes_gained: float) -> float:
    """Points from votes gained on one aggregator, log-compressed; losses count as nothing."""
    return weight * math.log2(1.0 + max(0.0, votes_gained))


def tie_key(stats: PaperStats) -> tuple[float, int, float, float, str]:
    """Sort key: score, then more networks, then the newest share, then the newer paper.

    Trending compares the stored key (`PaperStats.rank_key`), whose order is the score's.
    """
    last = stats.last_share_at.timestamp() if stats.last_share_at else 0.0
    published = stats.paper.published.timestamp() if stats.paper.published else 0.0
    first = stats.rank_key if stats.rank_key is not None else round(stats.score, KEY_DIGITS)
    return (first, stats.networks, last, published, stats.paper.arxiv_id)


def rank_papers(stats: Iterable[PaperStats]) -> list[PaperStats]:
    """Order papers best first with the stated tie-breaks; papers without signal are dropped."""
    return sorted((s for s in stats if s.score > 0), key=tie_key, reverse=True)
