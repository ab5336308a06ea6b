"""HTML fragments about papers shared by lists, cards and digests: counts, authors, links."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.telegram.markup import esc, shorten
from core.models import Paper, SourceCounts
from core.phrases import counts_phrase, source_name
from core.replies import Link

TITLE_LIMIT = 300
AUTHOR_LIMIT = 80
SHOWN_AUTHORS = 3


def details_line(paper: Paper) -> str:
    """Shortened authors and the primary category, in italics; empty without metadata."""
    parts = []
    if paper.authors:
        parts.append(f"<i>{esc(shorten_authors(paper.authors))}</i>")
    if paper.primary_category:
        parts.append(esc(shorten(paper.primary_category, AUTHOR_LIMIT)))
    return " · ".join(parts)


def shorten_authors(authors: Sequence[str]) -> str:
    """`A, B, C et al.` for more than three authors, each name kept short."""
    names = [shorten(a, AUTHOR_LIMIT) for a in authors[:SHOWN_AUTHORS]]
    suffix = " et al." if len(authors) > SHOWN_AUTHORS else ""
    return ", ".join(names) + suffix


def format_counts(sources: Sequence[SourceCounts]) -> str:
    """`12 shares (X 9, Bluesky 3) · HN 210 pts`, already escaped."""
    return esc(counts_phrase(sources))


def find_link(links: Sequence[Link], label: str) -> str | None:
    """The URL of the link labelled `label` (case-insensitive), if any."""
    return next((ln.url for ln in links if ln.label.lower() == label), None)


def source_label(source: str) -> str:
    """How a source is named to users: `HN` for `hackernews`; unknown sources keep their name."""
    return source_name(source)
