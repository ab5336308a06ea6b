"""What a list item, a paper card, a counts line and paging show, for every front end.

Telegram, Discord, the console and the web render these values and nothing more: each adds
only its own markup, escaping and length limits. Every decision about *what* is shown (which
authors, the counts line, the per-network split, which pages exist, the daily series) is made
here once. There is no markup here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.models import DailySeries, Discussion, Paper, SourceCounts
from core.phrases import VOTE_UNITS, shares_phrase, source_name
from core.replies import (
    Link,
    Paging,
    PaperCard,
    PaperList,
    RankedPaper,
    page_args,
    sparkline,
)

SHOWN_AUTHORS = 3


def one_line(text: str) -> str:
    """Collapse arXiv's hard line breaks and runs of spaces into single spaces."""
    return " ".join(text.split())


def authors_line(
    names: Sequence[str], shown: int = SHOWN_AUTHORS, each: Callable[[str], str] = one_line
) -> str:
    """`A, B, C et al.` when there are more than `shown` authors; `each` fits one name."""
    line = ", ".join(each(name) for name in names[:shown])
    return line + " et al." if len(names) > shown else line


@dataclass(frozen=True, slots=True)
class ShareCount:
    """Accounts that shared a paper on one network."""

    source: str
    network: str  # the name users read: "X", "Bluesky"
    sharers: int

    @property
    def term(self) -> str:
        """`X 9`."""
        return f"{self.network} {self.sharers}"


@dataclass(frozen=True, slots=True)
class VoteCount:
    """Votes on an aggregator (HN points, HF upvotes), with its discussion when known."""

    source: str
    network: str  # "HN"
    votes: int
    unit: str  # "pts", "upvotes"
    url: str | None = None  # the most voted discussion of the paper there

    @property
    def term(self) -> str:
        """`HN 210 pts`."""
        return f"{self.network} {self.votes} {self.unit}"


@dataclass(frozen=True, slots=True)
class Counts:
    """A paper's signal: shares in total and per network, then votes per aggregator."""

    total_shares: int
    shares: tuple[ShareCount, ...]  # networks with any sharer, in the order given
    votes: tuple[VoteCount, ...]  # aggregators with any vote, in the order given

    @property
    def shares_phrase(self) -> str:
        """`12 shares`."""
        return shares_phrase(self.total_shares)

    @property
    def line(self) -> str:
        """`12 shares (X 9, Bluesky 3) · HN 210 pts · HF 40 upvotes`, or `no shares yet`."""
        parts = [v.term for v in self.votes]
        if self.total_shares:
            split = ", ".join(s.term for s in self.shares)
            parts.insert(0, f"{self.shares_phrase} ({split})")
        return " · ".join(parts) if parts else "no shares yet"


@dataclass(frozen=True, slots=True)
class PaperView:
    """A paper's facts as shown: one-line texts, dates, links; `title` is None until known.

    A blank title, abstract or post text is None, like a missing one.
    """

    arxiv_id: str
    title: str | None
    authors: tuple[str, ...]
    abstract: str | None
    categories: tuple[str, ...]
    published: date | None
    updated: date | None  # only when it differs from `published`
    version: int | None
    links: tuple[Link, ...]

    @property
    def pending(self) -> bool:
        """Whether arXiv has not described the paper yet."""
        return self.title is None

    @property
    def display_title(self) -> str:
        """The title, or `arXiv:<id>` while it is pending."""
        return self.title if self.title is not None else f"arXiv:{self.arxiv_id}"

    @property
    def authors_line(self) -> str:
        """The first three authors, then `et al.`."""
        return authors_line(self.authors)

    @property
    def primary_category(self) -> str | None:
        """The first category arXiv lists, which is the primary one."""
        return self.categories[0] if self.categories else None

    @property
    def abs_url(self) -> str | None:
        """The URL of the abstract page, which a title links to."""
        return self.link("abs")

    def link(self, label: str) -> str | None:
        """The URL of the link labelled `label` (case-insensitive), if any."""
        return next((ln.url for ln in self.links if ln.label.lower() == label), None)


@dataclass(frozen=True, slots=True)
class ListItem:
    """One paper of a list: its rank, facts, score and counts."""

    rank: int
    paper: PaperView
    score: float
    counts: Counts


@dataclass(frozen=True, slots=True)
class PageTarget:
    """A neighbouring page: the command and arguments that show it."""

    page: int
    command: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PageNav:
    """Where a list is among its pages and how to move; `total_pages` is None when unknown."""

    page: int
    previous: PageTarget | None
    next: PageTarget | None
    total_pages: int | None = None
    command: str = ""
    base_args: tuple[str, ...] = ()  # the command's arguments, without the page

    def target(self, page: int) -> PageTarget:
        """How to show `page` of this list."""
        return PageTarget(page, self.command, page_args(self.base_args, page))

    def numbers(self, around: int = 2) -> tuple[int | None, ...]:
        """The page numbers to offer, None marking a gap: `1 None 4 5 6 7 8 None 20`.

        The first page, the pages within `around` of this one, and the last page; while the
        total is unknown, the next page stands for the last.
        """
        last = self.total_pages or (self.page + 1 if self.next else self.page)
        near = range(max(1, self.page - around), min(last, self.page + around) + 1)
        shown: list[int | None] = []
        previous = 0
        for number in sorted({1, *near, last}):
            if number - previous > 1:
                shown.append(None)
            shown.append(number)
            previous = number
        return tuple(shown)


@dataclass(frozen=True, slots=True)
class ListView:
    """A ranked or dated list: heading, items, the note for an empty list, footer and paging."""

    heading: str
    items: tuple[ListItem, ...]
    empty_note: str
    footer: str | None
    nav: PageNav | None


@dataclass(frozen=True, slots=True)
class DailyShares:
    """Shares per UTC day, oldest first, from `first_day`: the card's chart."""

    first_day: date
    counts: tuple[int, ...]
    by_network: tuple[DailySeries, ...] = ()  # the same days split by network, when read

    @property
    def total(self) -> int:
        """Shares over the whole series."""
        return sum(self.counts)

    @property
    def days(self) -> tuple[date, ...]:
        """The day of each count."""
        return tuple(self.first_day + timedelta(days=i) for i in range(len(self.counts)))

    @property
    def points(self) -> tuple[tuple[date, int], ...]:
        """(day, shares) pairs, for a chart."""
        return tuple(zip(self.days, self.counts, strict=True))

    @property
    def sparkline(self) -> str:
        """The counts as block characters scaled to the largest, oldest first."""
        return sparkline(self.counts)


@dataclass(frozen=True, slots=True)
class ScoreTerm:
    """One source's part of the score: `weight * value` gives `points`."""

    source: str
    network: str
    value: float
    weight: float
    points: float


@dataclass(frozen=True, slots=True)
class PostView:
    """A post or discussion that shared the paper, with one-line author and text."""

    source: str
    network: str
    author: str
    posted_at: datetime
    url: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything `/paper` shows: facts, abstract, counts, daily series, rank, score, posts."""

    paper: PaperView
    counts: Counts
    daily: DailyShares
    rank: int | None
    score: float
    score_terms: tuple[ScoreTerm, ...]
    top_posts: tuple[PostView, ...]
    note: str | None


def build_counts(sources: Sequence[SourceCounts], discussions: Sequence[Discussion] = ()) -> Counts:
    """The counts of a paper; each aggregator's votes link to its most voted discussion."""
    return Counts(
        total_shares=sum(s.sharers for s in sources if s.sharers),
        shares=tuple(
            ShareCount(s.source, source_name(s.source), s.sharers) for s in sources if s.sharers
        ),
        votes=tuple(
            VoteCount(
                s.source,
                source_name(s.source),
                s.votes,
                VOTE_UNITS.get(s.source, "votes"),
                _discussion_url(s.source, discussions),
            )
            for s in sources
            if s.votes
        ),
    )


def build_paper_view(paper: Paper, links: Sequence[Link]) -> PaperView:
    """A paper's facts as every front end shows them."""
    changed = paper.updated is not None and paper.updated != paper.published
    return PaperView(
        arxiv_id=paper.arxiv_id,
        title=_one_line_or_none(paper.title),
        authors=tuple(one_line(a) for a in paper.authors),
        abstract=_one_line_or_none(paper.abstract),
        categories=paper.categories,
        published=paper.published.date() if paper.published is not None else None,
        updated=paper.updated.date() if changed and paper.updated is not None else None,
        version=paper.version,
        links=tuple(links),
    )


def build_list_item(item: RankedPaper) -> ListItem:
    """One list entry as shown."""
    return ListItem(
        rank=item.rank,
        paper=build_paper_view(item.paper, item.links),
        score=item.score,
        counts=build_counts(item.sources, item.discussions),
    )


def build_page_nav(paging: Paging | None, total_pages: int | None = None) -> PageNav | None:
    """The page a list is on and its neighbours; None for a list without pages."""
    if paging is None:
        return None

    def target(page: int) -> PageTarget:
        return PageTarget(page, paging.command, paging.args_for(page))

    return PageNav(
        page=paging.page,
        previous=target(paging.page - 1) if paging.has_previous else None,
        next=target(paging.page + 1) if paging.has_next else None,
        total_pages=total_pages,
        command=paging.command,
        base_args=paging.args,
    )


def build_list_view(reply: PaperList, total_pages: int | None = None) -> ListView:
    """A paper list as shown; `total_pages` when the caller counted them."""
    return ListView(
        heading=reply.heading,
        items=tuple(build_list_item(p) for p in reply.papers),
        empty_note=reply.empty_note,
        footer=reply.footer,
        nav=build_page_nav(reply.paging, total_pages),
    )


def build_card_view(card: PaperCard) -> CardView:
    """A paper card as shown."""
    return CardView(
        paper=build_paper_view(card.paper, card.links),
        counts=build_counts(card.sources, card.discussions),
        daily=DailyShares(card.first_day, card.daily_shares, card.daily_by_network),
        rank=card.rank,
        score=card.score,
        score_terms=tuple(
            ScoreTerm(p.source, source_name(p.source), p.value, p.weight, p.points)
            for p in card.score_parts
        ),
        top_posts=tuple(
            PostView(
                p.source,
                source_name(p.source),
                one_line(p.author),
                p.posted_at,
                p.url,
                _one_line_or_none(p.text),
            )
            for p in card.top_posts
        ),
        note=card.note,
    )


def _one_line_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    # A blank title or abstract is as good as none: the id is shown instead.
    return one_line(text) or None


def _discussion_url(source: str, discussions: Sequence[Discussion]) -> str | None:
    here = [d for d in discussions if d.source == source and d.url]
    return max(here, key=lambda d: d.votes).url if here else None
