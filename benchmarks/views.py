"""View model benchmark: what building and rendering one page of papers and one card costs.

    python benchmarks/views.py              # 2,000 runs of each step
    python benchmarks/views.py --runs 200   # quicker

A page is 25 papers with full metadata (ten authors, a 1,500-character abstract, counts from
four networks), as `/top 25` shows; the card has 14 days of shares, five posts and two
discussions. Each step runs `--runs` times after a warm-up; the report gives the median and the
99th percentile in microseconds. The view builders are the part every front end shares (the
web renders the same views), so their cost is paid on every page served.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from adapters.console.render import render_reply as console_render
from adapters.discord.render import render_reply as discord_render
from adapters.telegram.render import render_reply as telegram_render
from core.cards import paper_links
from core.models import Discussion, Paper, SourceCounts
from core.replies import Paging, PaperCard, PaperList, Post, RankedPaper, ScorePart
from core.views import build_card_view, build_list_view

PAGE = 25
ABSTRACT = ("We study how papers spread across networks and what predicts it. " * 24)[:1500]
SOURCES = (
    SourceCounts("x", sharers=41, score=41.0),
    SourceCounts("bluesky", sharers=17, score=17.0),
    SourceCounts("mastodon", sharers=3, score=3.0),
    SourceCounts("hackernews", votes=312, score=8.3),
)


def make_paper(n: int) -> Paper:
    """A paper with metadata as arXiv gives it, hard line breaks included."""
    return Paper(
        f"2411.{n:05d}",
        title=f"Paper {n}: scaling laws for\n  transformers in the wild",
        authors=tuple(f"Author {n}-{i} Surname" for i in range(10)),
        abstract=ABSTRACT,
        categories=("cs.LG", "cs.CL", "stat.ML"),
        published=datetime(2024, 11, 2, tzinfo=UTC),
        updated=datetime(2024, 11, 9, tzinfo=UTC),
        version=2,
    )


def make_page() -> PaperList:
    """One full page of a ranked list, with paging."""
    papers = tuple(
        RankedPaper(n, make_paper(n), 50.0 - n, SOURCES, paper_links(f"2411.{n:05d}"))
        for n in range(26, 26 + PAGE)
    )
    return PaperList("Trending papers", papers, paging=Paging("top", ("25",), 2, has_next=True))


def make_card() -> PaperCard:
    """One paper card as `/paper` shows it."""
    posted = datetime(2024, 11, 3, tzinfo=UTC)
    return PaperCard(
        paper=make_paper(1),
        sources=SOURCES,
        daily_shares=(0, 1, 3, 9, 2, 0, 0, 0, 1, 2, 5, 1, 0, 3),
        first_day=date(2024, 11, 1),
        rank=3,
        score=69.3,
        score_parts=tuple(ScorePart(s.source, 1.0, 1.0, s.score) for s in SOURCES),
        top_posts=tuple(
            Post("x", f"@poster{i}", posted, f"https://x.com/p/status/{i}", "Read this " * 20)
            for i in range(5)
        ),
        links=paper_links("2411.00001"),
        discussions=(
            Discussion("hackernews", "https://news.ycombinator.com/item?id=1", "T", 312, 80),
            Discussion("hackernews", "https://news.ycombinator.com/item?id=2", "T", 12, 3),
        ),
    )


def measure(step: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median and 99th percentile of `runs` calls, in microseconds."""
    step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times), statistics.quantiles(times, n=100)[98]


def main() -> None:
    """Time each step and print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    page, card = make_page(), make_card()
    steps: list[tuple[str, Callable[[], Any]]] = [
        (f"build_list_view ({PAGE} papers)", lambda: build_list_view(page)),
        ("build_card_view", lambda: build_card_view(card)),
        ("telegram page (view + HTML)", lambda: telegram_render(page)),
        ("discord page (view + embeds)", lambda: discord_render(page)),
        ("console page (view + text)", lambda: console_render(page)),
        ("telegram card", lambda: telegram_render(card)),
        ("discord card", lambda: discord_render(card)),
        ("console card", lambda: console_render(card)),
    ]
    print(f"{'step':<34} {'median µs':>10} {'p99 µs':>10}   ({runs} runs each)")
    for name, step in steps:
        median, p99 = measure(step, runs)
        print(f"{name:<34} {median:>10.0f} {p99:>10.0f}")


if __name__ == "__main__":
    main()
