"""HTML fragments about papers shared by lists, cards and digests: authors and details."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.telegram.markup import esc, shorten
from core.views import PaperView, authors_line

TITLE_LIMIT = 300
AUTHOR_LIMIT = 80


def details_line(paper: PaperView) -> str:
    """Shortened authors and the primary category, in italics; empty without metadata."""
    parts = []
    if paper.authors:
        parts.append(f"<i>{esc(shorten_authors(paper.authors))}</i>")
    if paper.primary_category:
        parts.append(esc(shorten(paper.primary_category, AUTHOR_LIMIT)))
    return " · ".join(parts)


def shorten_authors(authors: Sequence[str]) -> str:
    """The authors line with each name kept short."""
    return authors_line(authors, each=lambda name: shorten(name, AUTHOR_LIMIT))
