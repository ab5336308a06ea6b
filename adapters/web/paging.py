"""A list's page numbers as links, at the top and the bottom of the list as the 2016 page had them.

Core's `PageNav` decides which numbers to offer (the first, those around this page, the last
known, with gaps between); the web only turns them into addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.views import PageNav


@dataclass(frozen=True, slots=True)
class PageLink:
    """One page number and where it leads."""

    number: int
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Pager:
    """The links of a paged list."""

    previous: str | None
    next: str | None
    pages: tuple[PageLink | None, ...]  # None: a gap of pages not offered


def pager(nav: PageNav | None, url_of: Callable[[int], str]) -> Pager | None:
    """The links for `nav`, each page's address made by `url_of`; None for a single page."""
    if nav is None:
        return None
    return Pager(
        previous=url_of(nav.previous.page) if nav.previous else None,
        next=url_of(nav.next.page) if nav.next else None,
        pages=tuple(
            None if n is None else PageLink(n, url_of(n), n == nav.page) for n in nav.numbers()
        ),
    )
