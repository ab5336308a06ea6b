"""Plain words every platform shows the same way (no markup): counts, authors, sources."""

from __future__ import annotations

from collections.abc import Sequence

from core.models import Paper, SourceCounts

SOURCE_NAMES = {
    "x": "X",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "hackernews": "HN",
    "reddit": "Reddit",
    "huggingface": "HF",
    "arxiv": "arXiv",
}
VOTE_UNITS = {"hackernews": "pts", "reddit": "pts", "huggingface": "upvotes", "mastodon": "uses"}


def source_name(source: str) -> str:
    """How a source is called in replies."""
    return SOURCE_NAMES.get(source, source)


def counts_phrase(sources: Sequence[SourceCounts]) -> str:
    """`12 shares (X 9, Bluesky 3) · HN 210 pts · HF 40 upvotes`, or `no shares yet`."""
    total = sum(s.sharers for s in sources if s.sharers)
    parts: list[str] = []
    if total:
        parts.append(f"{shares_phrase(total)} ({', '.join(sharer_terms(sources))})")
    parts += vote_terms(sources)
    return " · ".join(parts) if parts else "no shares yet"


def shares_phrase(total: int) -> str:
    """`1 share`, `12 shares`."""
    return f"{total} share{'s' if total != 1 else ''}"


def sharer_terms(sources: Sequence[SourceCounts]) -> list[str]:
    """Sharers per network that has any, e.g. `["X 9", "Bluesky 3"]`."""
    return [f"{source_name(s.source)} {s.sharers}" for s in sources if s.sharers]


def vote_terms(sources: Sequence[SourceCounts]) -> list[str]:
    """Votes per aggregator that has any, e.g. `["HN 210 pts", "HF 40 upvotes"]`."""
    return [
        f"{source_name(s.source)} {s.votes} {VOTE_UNITS.get(s.source, 'votes')}"
        for s in sources
        if s.votes
    ]


def short_authors(authors: Sequence[str], limit: int = 3) -> str:
    """`A, B, C et al.` for long author lists."""
    if len(authors) <= limit:
        return ", ".join(authors)
    return ", ".join(authors[:limit]) + " et al."


def title_of(paper: Paper) -> str:
    """The title, or the id while arXiv has not described the paper."""
    return paper.title or f"arXiv:{paper.arxiv_id} (details pending)"


def shorten(text: str, limit: int) -> str:
    """Cut text at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"
