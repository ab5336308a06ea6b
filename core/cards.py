"""Building the `/paper` card and list entries from stored stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.arxiv_id import abs_url, html_url, pdf_url
from core.models import Paper, PaperStats
from core.ports import CardFacts, CardQuery
from core.ranking import RankingConfig
from core.replies import Link, PaperCard, Post, RankedPaper, ScorePart

SPARK_DAYS = 14


@dataclass(frozen=True, slots=True)
class CardOptions:
    """How much history a card shows: `days` of daily shares, split by network or not.

    A chat's card has a 14-day sparkline; a web page has room for a month's chart per network.
    """

    days: int = SPARK_DAYS
    by_network: bool = False


def paper_links(arxiv_id: str) -> tuple[Link, ...]:
    """The abs, pdf and html links of a paper."""
    return (
        Link("abs", abs_url(arxiv_id)),
        Link("pdf", pdf_url(arxiv_id)),
        Link("html", html_url(arxiv_id)),
    )


def ranked(stats: list[PaperStats], first_rank: int) -> tuple[RankedPaper, ...]:
    """Turn stats into numbered list entries."""
    return tuple(
        RankedPaper(
            rank=first_rank + i,
            paper=s.paper,
            score=s.score,
            sources=s.sources,
            links=paper_links(s.paper.arxiv_id),
        )
        for i, s in enumerate(stats)
    )


def card_query(arxiv_id: str, now: datetime, options: CardOptions | None = None) -> CardQuery:
    """What `/paper` reads besides the paper: the last `days` UTC days, today included."""
    options = options or CardOptions()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today - timedelta(days=options.days - 1)
    return CardQuery(arxiv_id, first_day, days=options.days, by_network=options.by_network)


def build_card(
    paper: Paper,
    query: CardQuery,
    facts: CardFacts,
    now: datetime,
    config: RankingConfig,
    note: str | None,
) -> PaperCard:
    """Assemble everything `/paper` shows about one paper, from its card read for `query`."""
    stats = facts.stats
    posts = [Post(m.source, m.author, m.posted_at, m.url, m.text) for m in facts.top_posts]
    posts += [
        Post(d.source, f"{d.votes} points, {d.comments} comments", now, d.url, d.title)
        for d in facts.discussions
    ]
    sources = stats.sources if stats else ()
    parts = tuple(
        ScorePart(c.source, float(c.sharers or c.votes), config.weight(c.source), c.score)
        for c in sources
    )
    return PaperCard(
        paper=paper,
        sources=sources,
        daily_shares=facts.daily_shares,
        first_day=query.first_day.date(),
        rank=facts.rank,
        score=stats.score if stats else 0.0,
        score_parts=parts,
        top_posts=tuple(posts),
        links=paper_links(paper.arxiv_id),
        note=note,
        discussions=facts.discussions,
        daily_by_network=facts.by_network,
    )
