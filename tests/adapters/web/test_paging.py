"""The page bar's links: core's numbers, each with the address of its page."""

from __future__ import annotations

from adapters.web.paging import PageLink, pager
from core.replies import Paging
from core.views import build_page_nav


def url(page: int) -> str:
    return f"/new?page={page}"


def test_page_bar_links_the_offered_numbers_and_marks_gaps():
    nav = build_page_nav(Paging("new", (), 6, has_next=True))

    bar = pager(nav, url)

    assert bar is not None
    assert (bar.previous, bar.next) == ("/new?page=5", "/new?page=7")
    assert bar.pages == (
        PageLink(1, "/new?page=1", False),
        None,
        *(PageLink(n, url(n), n == 6) for n in range(4, 8)),
    )


def test_a_single_page_has_no_bar():
    assert pager(build_page_nav(None), url) is None
