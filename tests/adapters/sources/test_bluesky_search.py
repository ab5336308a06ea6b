"""Bluesky searchPosts back-fill over recorded-shape post views and a fake transport."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.sources.bluesky_search import BlueskySearchSource
from core.ports import SourceUnavailable

DATA = Path(__file__).parents[2] / "data" / "sources" / "bluesky"
PAGES = {
    None: (DATA / "searchPosts_arxiv_page1.json").read_bytes(),
    "3": (DATA / "searchPosts_arxiv_page2.json").read_bytes(),
}
BASE = "https://bsky.test/xrpc"
PASSWORD = "abcd-efgh-ijkl-mnop"
ACCESS = "eyJhbGciOiJFUzI1NiJ9.access-token-1"


class FakeBluesky:
    """createSession and searchPosts; `expire` makes the next search answer ExpiredToken."""

    def __init__(self) -> None:
        self.sessions = 0
        self.searches: list[httpx.Request] = []
        self.expire = False
        self.session_status = 200
        self.search_status = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/xrpc/com.atproto.server.createSession":
            assert request.method == "POST"
            assert json.loads(request.content) == {
                "identifier": "bot.bsky.social",
                "password": PASSWORD,
            }
            self.sessions += 1
            body = {
                "did": "did:plc:bot",
                "accessJwt": f"{ACCESS}{self.sessions}",
                "refreshJwt": "r",
            }
            return httpx.Response(self.session_status, json=body)
        assert request.url.path == "/xrpc/app.bsky.feed.searchPosts"
        self.searches.append(request)
        if self.expire:
            self.expire = False
            return httpx.Response(
                400, json={"error": "ExpiredToken", "message": "Token has expired"}
            )
        if self.search_status != 200:
            return httpx.Response(self.search_status, headers={"Retry-After": "30"})
        assert request.headers["Authorization"] == f"Bearer {ACCESS}{self.sessions}"
        return httpx.Response(200, content=PAGES[request.url.params.get("cursor")])


@pytest.fixture
def bluesky() -> FakeBluesky:
    return FakeBluesky()


@pytest.fixture
async def source(bluesky: FakeBluesky) -> AsyncIterator[BlueskySearchSource]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(bluesky.handle)) as client:
        yield BlueskySearchSource(client, "bot.bsky.social", PASSWORD, f"{BASE}/")


async def test_poll_reads_shares_from_link_facets_cards_and_quotes(
    source: BlueskySearchSource, bluesky: FakeBluesky
) -> None:
    batch = await source.poll(None)

    shares = {(m.post_id.rsplit("/", 1)[1], m.kind, m.arxiv_id, m.version) for m in batch.mentions}
    assert shares == {
        ("3lpjneeyp6c2w", "post", "2505.10468", 1),  # facet and card, text shortened
        ("3lpjl6vjfes2b", "quote", "2505.09912", None),  # the quoted post links the paper
        ("3lpk2r5h5ec2j", "post", "2505.04321", None),  # an alphaxiv link card
    }  # the osf.io post has no paper; the post view without a uri is skipped
    first = next(m for m in batch.mentions if m.arxiv_id == "2505.10468")
    assert first.source == "bluesky"
    assert first.author == "did:plc:clxs5bimkdx2zvxzrbs6v3pw"
    assert first.engagement == 20 + 5 + 1
    assert first.posted_at == datetime(2025, 5, 19, 13, 8, 40, 742000, tzinfo=UTC)
    assert (
        first.url == "https://bsky.app/profile/did:plc:clxs5bimkdx2zvxzrbs6v3pw/post/3lpjneeyp6c2w"
    )
    assert batch.cursor == "2025-05-19T17:10:09.561858Z"  # the newest post, with or without paper
    assert [dict(r.url.params) for r in bluesky.searches] == [
        {"q": "arxiv.org", "limit": "100", "sort": "latest"},
        {"q": "arxiv.org", "limit": "100", "sort": "latest", "cursor": "3"},
    ]
    assert bluesky.sessions == 1


async def test_poll_asks_only_for_posts_since_the_cursor(
    source: BlueskySearchSource, bluesky: FakeBluesky
) -> None:
    await source.poll("2025-05-19T17:10:09.561858Z")

    assert bluesky.searches[0].url.params["since"] == "2025-05-19T17:10:09.561858Z"


async def test_poll_signs_in_again_when_the_token_expired(
    source: BlueskySearchSource, bluesky: FakeBluesky
) -> None:
    await source.poll(None)
    bluesky.expire = True

    batch = await source.poll(None)

    assert bluesky.sessions == 2
    assert len(batch.mentions) == 3


async def test_failures_are_source_unavailable_and_never_show_secrets(
    source: BlueskySearchSource, bluesky: FakeBluesky, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bluesky.session_status = 401
    with pytest.raises(SourceUnavailable) as refused:
        await source.poll(None)
    bluesky.session_status, bluesky.search_status = 200, 503
    with pytest.raises(SourceUnavailable) as down:
        await source.poll(None)

    assert str(refused.value) == "Bluesky sign-in failed: HTTP 401"
    assert down.value.retry_after == 30
    shown = caplog.text + str(refused.value) + str(down.value) + repr(source)
    assert PASSWORD not in shown
    assert ACCESS not in shown


async def test_an_empty_search_keeps_the_cursor() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createSession"):
            return httpx.Response(200, json={"accessJwt": ACCESS})
        return httpx.Response(200, json={"posts": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        source = BlueskySearchSource(client, "bot.bsky.social", PASSWORD, BASE, name="bluesky")
        batch = await source.poll("2025-05-19T00:00:00Z")

    assert batch.mentions == ()
    assert batch.cursor == "2025-05-19T00:00:00Z"
    assert source.name == "bluesky"
