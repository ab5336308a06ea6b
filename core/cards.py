"""Building the `/paper` card and list entries from stored stats."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.arxiv_id import abs_url, html_url, pdf_url
from core.models import Paper, PaperStats
from core.ports import PaperRepository
from core.ranking import RankingConfig
from core.replies import Link, PaperCard, Post, RankedPaper, ScorePart

SPARK_DAYS = 14


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


async def build_card(
    repo: PaperRepository,
    paper: Paper,
    now: datetime,
    config: RankingConfig,
    note: str | None,
) -> PaperCard:
    """Assemble everything `/paper` shows about one paper."""
    stats = await repo.paper_stats(paper.arxiv_id, "trending", now)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today - timedelta(days=SPARK_DAYS - 1)
    daily = await repo.daily_shares(paper.arxiv_id, first_day, SPARK_DAYS)
    rank = await repo.rank_of(paper.arxiv_id, "trending", now) if stats and stats.score else None
    posts = [
        Post(m.source, m.author, m.posted_at, m.url, m.text)
        for m in await repo.top_posts(paper.arxiv_id, 3)
    ]
    posts += [
        Post(d.source, f"{d.votes} points, {d.comments} comments", now, d.url, d.title)
        for d in await repo.discussions(paper.arxiv_id, 2)
    ]
    sources = stats.sources if stats else ()
    parts = tuple(
        ScorePart(c.source, float(c.sharers or c.votes), config.weight(c.source), c.score)
        for c in sources
    )
    return PaperCard(
        paper=paper,
        sources=sources,
        daily_shares=tuple(daily),
        first_day=first_day.date(),
        rank=rank,
        score=stats.score if stats else 0.0,
        score_parts=parts,
        top_posts=tuple(posts),
        links=paper_links(paper.arxiv_id),
        note=note,
    )
