"""`/feed.atom`: valid Atom 1.0 for feed readers, with the same parameters as `/`."""

from __future__ import annotations

import feedparser
import pytest

from tests.adapters.web.conftest import Site
from tests.adapters.web.site_data import HOSTILE, HOSTILE_ID, OLD_ID, TOP_ID

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


async def read_feed(site: Site, query: str = "") -> feedparser.FeedParserDict:
    answer = await site.http.get(f"/feed.atom{query}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


async def test_feed_lists_what_the_home_page_lists(site: Site):
    feed = await read_feed(site)
    api = (await site.http.get("/api/top")).json()

    assert feed.feed.title == "Trending now · Trending arXiv"
    assert [e.id for e in feed.entries] == [
        f"https://arxiv.org/abs/{p['arxiv_id']}" for p in api["papers"]
    ]
    assert len(feed.entries) == 25
    assert feed.feed.links[0].href == f"{site.url}/feed.atom"


async def test_feed_takes_window_category_and_words(site: Site):
    feed = await read_feed(site, "?window=all&category=hep-th")

    assert feed.feed.title == "Most shared of all time in hep-th · Trending arXiv"
    assert [e.id for e in feed.entries] == [f"https://arxiv.org/abs/{OLD_ID}"]
    assert feed.feed.links[0].href == f"{site.url}/feed.atom?window=all&category=hep-th"

    found = await read_feed(site, "?window=all&q=Still")

    [entry] = found.entries
    assert entry.link == f"https://arxiv.org/abs/{TOP_ID}"
    assert entry.title == "Attention Is Still All You Need"
    assert [a.name for a in entry.authors][:2] == ["Author 0", "Grace Hopper"]
    assert {t.term for t in entry.tags} == {"cs.LG", "stat.ML"}
    assert entry.summary.startswith("#1 · 40 shares (X 14, Bluesky 13, Mastodon 13)")
    assert entry.published == "2026-11-01T00:00:00Z"


async def test_feed_keeps_a_hostile_title_as_text(site: Site):
    feed = await read_feed(site, "?window=all&page=2")

    [entry] = [e for e in feed.entries if e.id.endswith(HOSTILE_ID)]
    assert entry.title == HOSTILE


async def test_feed_refuses_bad_parameters(site: Site):
    answer = await site.http.get("/feed.atom?window=decade")

    assert answer.status_code == 400
    assert "The window is one of" in answer.text


async def test_feed_says_https_behind_a_router(site: Site):
    answer = await site.http.get("/feed.atom", headers={"X-Forwarded-Proto": "https"})

    assert 'href="https://127.0.0.1:' in answer.text
