"""The HTML pages over HTTP: lists, tabs, filters, paging, cards, redirects and problems."""

from __future__ import annotations

import re

import pytest

from tests.adapters.web.conftest import Site
from tests.adapters.web.site_data import HOSTILE_ID, OLD_ID, TOP_ID

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


def ranks(html: str) -> list[str]:
    """The ids of the listed papers, in order, from their links to their pages."""
    return re.findall(r'<h2 id="paper-\d+"><a href="/paper/([^"]+)"', html)


async def test_home_lists_25_trending_papers_with_page_numbers_top_and_bottom(site: Site):
    page = await site.http.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Trending now</h1>" in page.text
    assert len(ranks(page.text)) == 25
    assert page.text.count('<nav class="pager"') == 2
    assert '<a href="/?page=2" rel="next">' in page.text

    second = await site.http.get("/?page=2")

    assert '<ol class="papers" start="26">' in second.text
    assert len(ranks(second.text)) == 5
    assert set(ranks(page.text)).isdisjoint(ranks(second.text))
    assert '<a href="/" rel="prev">' in second.text


async def test_home_tabs_pick_the_window_and_keep_the_filters(site: Site):
    page = await site.http.get("/", params={"window": "all", "category": "hep-th"})

    assert "<h1>Most shared of all time in hep-th</h1>" in page.text
    assert ranks(page.text) == [OLD_ID]
    assert '<a href="/?window=week&amp;category=hep-th">This week</a>' in page.text
    assert '<a href="/?window=all&amp;category=hep-th" aria-current="page">' in page.text

    everything = await site.http.get("/", params={"window": "all"})

    assert ranks(everything.text)[0] == TOP_ID


async def test_home_search_box_filters_by_words(site: Site):
    page = await site.http.get("/", params={"q": "Still", "window": "all"})

    assert "about “Still”" in page.text
    assert ranks(page.text) == [TOP_ID]
    assert 'name="q" type="search" value="Still"' in page.text


async def test_home_refuses_bad_parameters_with_a_short_reason(site: Site):
    for query, reason in (
        ({"window": "year"}, "The window is one of trending, day, week, month or all."),
        ({"page": "0"}, "The page must be a number of 1 or more."),
        ({"category": "cooking"}, "is not a category like cs.LG."),
    ):
        page = await site.http.get("/", params=query)
        assert page.status_code == 400, query
        assert reason in page.text
        assert 'For example: <a href="/?window=week&amp;category=cs.LG&amp;q=graph+neural">' in (
            page.text
        )

    past = await site.http.get("/?page=9")

    assert past.status_code == 404
    assert "There is no page 9: there are 2 pages." in past.text


async def test_new_lists_newest_first_with_folded_abstracts_and_counts(site: Site):
    page = await site.http.get("/new")

    assert page.status_code == 200
    titles = re.findall(r'<h2 id="paper-\d+"><a href="https://arxiv.org/abs/([^"]+)"', page.text)
    # Published an hour apart in list order: the hostile title is the newest, TOP_ID the oldest.
    assert titles[:2] == [HOSTILE_ID, "2611.00127"]
    assert '<p class="abstract">We study diffusion 29.</p>' in page.text
    assert "<details" not in page.text  # short abstracts are not folded
    assert "Author 29, Grace Hopper, Ada Lovelace et al." in page.text
    assert re.search(r"\d+ shares? \(", page.text)
    assert '<a href="/new?page=2" rel="next">' in page.text

    last = await site.http.get("/new?page=3")

    # The list has no discussions read: the votes lead to the card, which lists them.
    assert f'<a href="/paper/{TOP_ID}#posts">HN 120 pts</a>' in last.text

    assert '<details class="abstract">' in last.text
    assert '<summary><span class="lead">Transformers attend to everything' in last.text


async def test_paper_page_shows_the_card_with_a_chart_per_network(site: Site):
    page = await site.http.get(f"/paper/{TOP_ID}")

    assert page.status_code == 200
    assert '<h1 id="title">Attention Is Still All You Need</h1>' in page.text
    assert re.search(
        r'<polyline class="series series-x" points="(\d+\.\d,\d+\.\d ?){30}"', page.text
    )
    assert 'class="series series-bluesky"' in page.text
    assert 'class="series series-mastodon"' in page.text
    assert "40 shares (X 14, Bluesky 13, Mastodon 13)" in page.text
    assert '<a href="https://news.example/item?id=1">HN 120 pts</a>' in page.text
    assert "Rank now: #" in page.text
    assert '<a href="https://arxiv.org/pdf/2611.00100">pdf' in page.text


async def test_paper_page_of_an_old_style_id(site: Site):
    page = await site.http.get(f"/paper/{OLD_ID}")

    assert page.status_code == 200
    assert "arXiv:hep-th/9901001" in page.text


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        (f"/paper/{TOP_ID}v3", f"/paper/{TOP_ID}"),
        (f"/paper/arXiv:{TOP_ID}", f"/paper/{TOP_ID}"),
        (f"/paper/https://arxiv.org/pdf/{TOP_ID}v2.pdf", f"/paper/{TOP_ID}"),
        ("/paper/math.GT/0309136", "/paper/math/0309136"),
        (f"/paper/{OLD_ID}v2", f"/paper/{OLD_ID}"),
        (f"/api/paper/{TOP_ID}v1", f"/api/paper/{TOP_ID}"),
    ],
)
async def test_other_id_forms_redirect_permanently_to_the_canonical_page(
    site: Site, path: str, canonical: str
):
    answer = await site.http.get(path)

    assert answer.status_code == 301
    assert answer.headers["location"] == canonical


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/paper/not-an-id", "That is not an arXiv id or link."),
        ("/paper/2611.55555", "I have nothing on 2611.55555 yet"),
        ("/paper/2712.01234", "That is not an arXiv id or link."),  # a month still to come
    ],
)
async def test_unknown_or_malformed_ids_get_a_404_page_saying_why(
    site: Site, path: str, reason: str
):
    page = await site.http.get(path)

    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text
    assert reason in page.text


async def test_hostile_title_is_text_everywhere(site: Site):
    for path in (
        "/?window=all&page=2",
        "/new",
        f"/paper/{HOSTILE_ID}",
        "/feed.atom?window=all&page=2",
    ):
        body = (await site.http.get(path)).text
        assert "<script>" not in body, path
        assert (
            "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt; &amp; friends"
            in body
        ), path
    post = (await site.http.get(f"/paper/{HOSTILE_ID}")).text
    assert "<img" not in post
    assert "&lt;img src=x onerror=alert(1)&gt;" in post
