"""The chart's geometry and the page's own text limits, without a server."""

from __future__ import annotations

from datetime import date

from adapters.web.chart import HEIGHT, daily_chart
from adapters.web.templating import shorten, web_url
from core.models import DailySeries


def points(line_points: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in line_points.split()]  # type: ignore[misc]


def test_chart_puts_every_network_on_one_scale_from_zero():
    series = [DailySeries("x", (0, 3, 7)), DailySeries("bluesky", (1, 0, 0))]

    chart = daily_chart(series, date(2026, 11, 24), 3)

    x, bluesky = chart.lines
    assert (x.label, x.css, x.total) == ("X", "series-x", 10)
    assert (bluesky.label, bluesky.css, bluesky.total) == ("Bluesky", "series-bluesky", 1)
    xs = [p[0] for p in points(x.points)]
    assert xs == sorted(xs)
    assert (xs[0], xs[-1]) == (chart.left, chart.right)
    top = [p[1] for p in points(x.points)]
    assert top[0] == chart.bottom  # zero sits on the axis
    assert [t.text for t in chart.y_ticks] == ["0", "5", "10"]  # 7 rounds up to 10
    assert min(top) > chart.top  # 7 of 10: below the top line
    assert max(top) <= HEIGHT
    assert [t.text for t in chart.x_ticks] == ["Nov 24", "Nov 25", "Nov 26"]
    assert chart.description == (
        "Shares per day over the last 3 days, per network: X 10, Bluesky 1."
    )


def test_chart_without_shares_says_so_and_odd_sources_get_a_safe_class():
    empty = daily_chart([], date(2026, 11, 1), 30)
    odd = daily_chart([DailySeries('a"b <c>', (1,) * 30)], date(2026, 11, 1), 30)

    assert empty.lines == ()
    assert empty.description == "No shares in the last 30 days."
    assert odd.lines[0].css == "series-a-b-c"


def test_shorten_cuts_at_a_word_and_marks_the_cut():
    assert shorten("short", 10) == "short"
    assert shorten("one two three four", 12) == "one two…"
    assert len(shorten("x" * 50, 20)) == 20


def test_only_web_links_are_followed():
    assert web_url("https://bsky.app/profile/a/post/1") == "https://bsky.app/profile/a/post/1"
    assert web_url("javascript:alert(1)") is None
    assert web_url("https://example.org/a b") is None
    assert web_url("https://example.org/\x00") is None
    assert web_url(None) is None
