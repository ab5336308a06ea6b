"""The geometry of a paper's daily-shares chart, drawn as inline SVG by the paper template.

One line per network over the days, a shared scale from zero, gridlines at round numbers, and
dates under the first, middle and last day. Only numbers leave this module: the template
writes the markup, and escaping is its job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.models import DailySeries
from core.phrases import source_name

WIDTH = 480  # user units: a phone shows the chart at about 0.75, a desktop at 1.3
HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 10, 26  # margins for the axis labels
_CLASS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Line:
    """One network's polyline: `points` as SVG writes them, `css` its colour class."""

    label: str
    css: str
    points: str
    total: int


@dataclass(frozen=True, slots=True)
class Tick:
    """A label at a position along an axis."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the template draws, in the SVG's user units."""

    width: int
    height: int
    left: int
    right: float  # x of the last day
    top: int
    bottom: float  # y of zero
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    description: str


def daily_chart(series: Sequence[DailySeries], first_day: date, days: int) -> Chart:
    """Lay out `series` (shares per day from `first_day`) on one scale."""
    peak = max((max(s.counts, default=0) for s in series), default=0)
    top_value = _round_up(peak)
    x_end, y_zero = WIDTH - RIGHT, HEIGHT - BOTTOM
    step = (x_end - LEFT) / max(days - 1, 1)

    def y(value: int) -> float:
        return y_zero - (y_zero - TOP) * value / top_value

    lines = tuple(
        Line(
            label=source_name(s.source),
            css="series-" + (_CLASS.sub("-", s.source.lower()).strip("-") or "other"),
            points=" ".join(f"{LEFT + i * step:.1f},{y(v):.1f}" for i, v in enumerate(s.counts)),
            total=sum(s.counts),
        )
        for s in series
    )
    y_ticks = tuple(Tick(y(v), f"{v:,}") for v in _grid(top_value))
    last = first_day + timedelta(days=days - 1)
    middle = days // 2
    x_ticks = (
        Tick(LEFT, f"{first_day:%b %-d}"),
        Tick(LEFT + middle * step, f"{first_day + timedelta(days=middle):%b %-d}"),
        Tick(x_end, f"{last:%b %-d}"),
    )
    return Chart(
        WIDTH, HEIGHT, LEFT, x_end, TOP, y_zero, lines, y_ticks, x_ticks, _describe(lines, days)
    )


def _round_up(peak: int) -> int:
    """The top of the scale: 1, 2 or 5 times a power of ten, at least the peak (and 1)."""
    if peak <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(peak))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= peak)


def _grid(top_value: int) -> tuple[int, ...]:
    """Zero, the middle (when it is whole) and the top of the scale."""
    half = top_value // 2 if top_value % 2 == 0 else None
    return tuple(v for v in (0, half, top_value) if v is not None)


def _describe(lines: Sequence[Line], days: int) -> str:
    if not any(line.total for line in lines):
        return f"No shares in the last {days} days."
    parts = ", ".join(f"{line.label} {line.total:,}" for line in lines)
    return f"Shares per day over the last {days} days, per network: {parts}."
