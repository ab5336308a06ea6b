import base64
import json

import httpx
import pytest

from adapters.sources.reddit import RedditSource
from core.models import VoteSnapshot
from core.ports import SourceUnavailable
from tests.adapters.sources.support import (
    TRANSPORT_FAULTS,
    Switch,
    check_fault_then_recovery,
    client_for,
    json_response,
    load_json,
)
from tests.core.test_ingest import NOW

CASSETTE = "praw_betamax_r-all_search_q-praw-oauth-search_2016-07-12.json"
PAGE1 = "r_machinelearning_new_2026-11-26.json"
PAGE2 = "r_machinelearning_new_page2_2026-11-26.json"
CLIENT_ID, SECRET = "app-id", "app-s3cr3t"
HOUR = 3600.0


def cassette_body(index: int) -> object:
    """The raw body of one recorded interaction (betamax stores it as a string)."""
    cassette = load_json("reddit", CASSETTE)
    return json.loads(cassette["interactions"][index]["response"]["body"]["string"])


class FakeReddit:
    """Token endpoint plus listings; tokens are numbered so tests can see refreshes."""

    def __init__(self, pages: tuple[object, ...] | None = None) -> None:
        self.pages = pages or (load_json("reddit", PAGE1), load_json("reddit", PAGE2))
        self.tokens_issued = 0
        self.revoked: set[str] = set()
        self.requests: list[httpx.Request] = []

    def posts(self) -> dict[str, dict]:
        return {c["data"]["name"]: c for page in self.pages for c in page["data"]["children"]}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "www.reddit.com":
            self.tokens_issued += 1
            token = cassette_body(0) | {"access_token": f"token-{self.tokens_issued}"}
            return json_response(token)
        if request.headers["authorization"].removeprefix("bearer ") in self.revoked:
            return httpx.Response(401, content=b'{"message": "Unauthorized", "error": 401}')
        if request.url.path == "/api/info":
            wanted = request.url.params["id"].split(",")
            children = [c for name, c in self.posts().items() if name in wanted]
            return json_response({"kind": "Listing", "data": {"after": None, "children": children}})
        after = request.url.params.get("after")
        return json_response(self.pages[1] if after else self.pages[0])


def source_for(handler, clock, **options) -> RedditSource:
    return RedditSource(
        client_for(handler),
        clock=clock,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        min_request_interval=0,
        **options,
    )


async def test_first_poll_authenticates_and_snapshots_arxiv_posts(clock):
    reddit = FakeReddit()

    batch = await source_for(reddit, clock, contact_url="https://example.org/bot").poll(None)

    token, page1, page2 = reddit.requests
    assert token.method == "POST"
    assert str(token.url) == "https://www.reddit.com/api/v1/access_token"
    assert token.content == b"grant_type=client_credentials"
    credentials = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token.headers["authorization"] == f"Basic {credentials}"
    assert page1.url.path == "/r/MachineLearning/new"
    assert page1.url.params["limit"] == "100"
    assert page1.url.params["raw_json"] == "1"
    assert page1.headers["authorization"] == "bearer token-1"
    assert "+https://example.org/bot" in page1.headers["user-agent"]
    assert page2.url.params["after"] == "t3_1h00006"
    assert {(s.item_id, s.arxiv_id) for s in batch.snapshots} == {
        ("t3_1h00001", "2411.01234"),
        ("t3_1h00002", "2410.00003"),
        ("t3_1h00002", "2408.00005"),
        ("t3_1h00005", "hep-th/9901001"),
        ("t3_1h00005", "2406.00007"),
        ("t3_1h00006", "2409.00004"),
        ("t3_1g99999", "2410.00002"),
    }
    assert batch.snapshots[0] == VoteSnapshot(
        source="reddit",
        item_id="t3_1h00001",
        arxiv_id="2411.01234",
        taken_at=NOW,
        votes=120,
        comments=30,
        url="https://www.reddit.com/r/MachineLearning/comments/1h00001/[r]_sparse_attention_for_long_contexts/",
        title="[R] Sparse attention for long contexts",
    )
    cursor = json.loads(batch.cursor)
    assert cursor["newest"] == {"MachineLearning": NOW.timestamp() - HOUR}
    assert set(cursor["tracked"]) == {
        "t3_1h00001", "t3_1h00002", "t3_1h00005", "t3_1h00006", "t3_1g99999"
    }  # fmt: skip


async def test_next_poll_stops_at_known_posts_and_refreshes_tracked_ones(clock):
    reddit = FakeReddit()
    source = source_for(reddit, clock)
    first = await source.poll(None)
    reddit.requests.clear()
    clock.advance(600)

    batch = await source.poll(first.cursor)

    paths = [r.url.path for r in reddit.requests]
    assert paths == ["/r/MachineLearning/new", "/api/info"]  # same token, one page, one refresh
    assert reddit.requests[1].url.params["id"] == "t3_1g99999"
    assert len(batch.snapshots) == 7
    assert all(s.taken_at == clock.now() for s in batch.snapshots)


async def test_tracked_posts_are_dropped_after_a_week(clock):
    reddit = FakeReddit()
    source = source_for(reddit, clock)
    first = await source.poll(None)
    clock.advance(7 * 24 * HOUR - 2 * HOUR)  # t3_1g99999 (30 h old) has left the week

    batch = await source.poll(first.cursor)

    assert "t3_1g99999" not in json.loads(batch.cursor)["tracked"]
    assert "t3_1h00001" in json.loads(batch.cursor)["tracked"]


async def test_token_is_renewed_before_it_expires(clock):
    reddit = FakeReddit()
    source = source_for(reddit, clock)
    await source.poll(None)
    clock.advance(3600 - 61)
    await source.poll(None)
    assert reddit.tokens_issued == 1
    clock.advance(2)
    await source.poll(None)
    assert reddit.tokens_issued == 2


async def test_a_401_fetches_a_new_token_and_retries_once(clock):
    reddit = FakeReddit()
    source = source_for(reddit, clock)
    await source.poll(None)
    reddit.revoked.add("token-1")

    batch = await source.poll(None)

    assert reddit.tokens_issued == 2
    assert len(batch.snapshots) == 7


async def test_a_second_401_fails_the_poll(clock):
    def handler(request):
        if request.url.host == "www.reddit.com":
            return json_response({"access_token": "t", "expires_in": 3600})
        return httpx.Response(401)

    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        await source_for(handler, clock).poll(None)


async def test_a_token_answer_without_a_token_fails_without_leaking_the_secret(clock):
    def handler(request):
        return json_response({"error": "invalid_grant"})

    with pytest.raises(SourceUnavailable) as info:
        await source_for(handler, clock).poll(None)
    assert SECRET not in str(info.value)


async def test_poll_reads_the_recorded_listing(clock):
    recorded = cassette_body(1)
    reddit = FakeReddit(pages=(recorded, recorded))
    batch = await source_for(reddit, clock).poll(None)
    assert batch.snapshots == ()
    assert json.loads(batch.cursor)["tracked"] == {}


async def test_posts_missing_a_field_are_skipped(clock):
    page = load_json("reddit", PAGE1)
    del page["data"]["children"][0]["data"]["name"]
    reddit = FakeReddit(pages=(page, load_json("reddit", PAGE2)))
    batch = await source_for(reddit, clock).poll(None)
    assert "t3_1h00001" not in {s.item_id for s in batch.snapshots}
    assert len(batch.snapshots) == 6


async def test_an_empty_listing_returns_nothing(clock):
    empty = {"kind": "Listing", "data": {"after": None, "children": []}}
    batch = await source_for(FakeReddit(pages=(empty, empty)), clock).poll(None)
    assert batch.snapshots == ()


@pytest.mark.parametrize("listing", [{"kind": "Listing"}, {"data": {"children": "x"}}, []])
async def test_poll_fails_on_a_listing_without_children(clock, listing):
    with pytest.raises(SourceUnavailable, match="malformed"):
        await source_for(FakeReddit(pages=(listing, listing)), clock).poll(None)


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
async def test_poll_fault_keeps_the_cursor_and_the_next_poll_recovers(clock, fault):
    switch = Switch(FakeReddit(), fault)
    cursor = json.dumps({"newest": {"MachineLearning": NOW.timestamp() - 48 * HOUR}})
    source = source_for(switch, clock)
    repo = await check_fault_then_recovery(source, switch, clock, cursor, secrets=(SECRET,))
    assert repo.snapshots


async def test_every_subreddit_is_read(clock):
    reddit = FakeReddit()
    await source_for(reddit, clock, subreddits=("MachineLearning", "LocalLLaMA")).poll(
        json.dumps({"newest": {"MachineLearning": NOW.timestamp(), "LocalLLaMA": NOW.timestamp()}})
    )
    paths = [r.url.path for r in reddit.requests if r.method == "GET"]
    assert paths == ["/r/MachineLearning/new", "/r/LocalLLaMA/new"]
