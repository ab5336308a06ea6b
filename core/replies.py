"""Neutral output of every command: a small closed set of values each adapter renders.

There is no markup here. Adapters render these with `match reply:` and `assert_never`, so a new
variant cannot be forgotten by one platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.models import DailySeries, Discussion, Paper, SourceCounts


@dataclass(frozen=True, slots=True)
class Link:
    """A labelled URL (abs, pdf, html, a post)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Paging:
    """Enough to rebuild the neighbouring pages of a list statelessly.

    `command` and `args` re-run the command; `page` is 1-based.
    """

    command: str
    args: tuple[str, ...]
    page: int
    has_next: bool

    def args_for(self, page: int) -> tuple[str, ...]:
        """The arguments that re-run the command for `page`."""
        return page_args(self.args, page)

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1


@dataclass(frozen=True, slots=True)
class RankedPaper:
    """One line of a ranked list: the paper, its rank, score and counts per source."""

    rank: int
    paper: Paper
    score: float
    sources: tuple[SourceCounts, ...]
    links: tuple[Link, ...]
    discussions: tuple[Discussion, ...] = ()  # aggregator items, when the list read them

    @property
    def sharers(self) -> int:
        """Unique accounts that shared the paper, summed over networks."""
        return sum(s.sharers for s in self.sources)


@dataclass(frozen=True, slots=True)
class PaperList:
    """A ranked or dated list of papers (`/top`, `/new`, `/search`, a digest)."""

    heading: str
    papers: tuple[RankedPaper, ...]
    empty_note: str = "No papers yet."
    paging: Paging | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """A post that shared a paper, shown on its card."""

    source: str
    author: str
    posted_at: datetime
    url: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class ScorePart:
    """One term of a score: `weight * value` from one source."""

    source: str
    value: float
    weight: float
    points: float


@dataclass(frozen=True, slots=True)
class PaperCard:
    """Everything `/paper` shows about one paper."""

    paper: Paper
    sources: tuple[SourceCounts, ...]
    daily_shares: tuple[int, ...]
    first_day: date
    rank: int | None
    score: float
    score_parts: tuple[ScorePart, ...]
    top_posts: tuple[Post, ...]
    links: tuple[Link, ...]
    note: str | None = None
    discussions: tuple[Discussion, ...] = ()
    # The daily shares split by network, when the card was asked for them (a web page's chart).
    daily_by_network: tuple[DailySeries, ...] = ()

    @property
    def sparkline(self) -> str:
        """The daily shares as a row of block characters, oldest first."""
        return sparkline(self.daily_shares)


@dataclass(frozen=True, slots=True)
class CommandHelp:
    """One command as `/help` lists it."""

    name: str
    usage: str
    summary: str
    example: str


@dataclass(frozen=True, slots=True)
class Help:
    """What the bot does and every command with an example."""

    intro: str
    commands: tuple[CommandHelp, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """Plain sentences (a confirmation, a settings summary)."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A short user-facing answer to bad input; never a traceback."""

    message: str
    usage: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The command failed on our side (a bug, the database away): an apology, not a usage.

    Kept apart from `Problem` so that a crash can never pass for an answer to bad input.
    """

    message: str


Reply = Text | Help | PaperList | PaperCard | Problem | Failure

_BLOCKS = " ▁▂▃▄▅▆▇█"


def page_args(args: tuple[str, ...], page: int) -> tuple[str, ...]:
    """A paged command's arguments (without a page) for `page`."""
    return (*args, f"page={page}")


def sparkline(values: tuple[int, ...]) -> str:
    """Render counts as block characters scaled to the largest; a zero is the lowest bar."""
    top = max(values, default=0)
    if top <= 0:
        return "▁" * len(values)
    return "".join(
        _BLOCKS[max(2, round(v / top * (len(_BLOCKS) - 1)))] if v > 0 else "▁" for v in values
    )
