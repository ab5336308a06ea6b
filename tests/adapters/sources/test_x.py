import json
from datetime import UTC, datetime

import httpx
import pytest

from adapters.sources.x import DEFAULT_X_QUERY, XSource
from core.models import Mention
from core.ports import SourceUnavailable
from tests.adapters.sources.support import (
    TRANSPORT_FAULTS,
    Switch,
    check_fault_then_recovery,
    client_for,
    json_response,
    load_json,
)

TOKEN = "AAAA-bearer-token"
PAGE1, PAGE2, EMPTY = (
    "search_recent_page1.json",
    "search_recent_page2.json",
    "search_recent_empty.json",
)
NEWEST = "1861000000000000006"


def serve(page1: object = None, page2: object = None):
    page1 = load_json("x", PAGE1) if page1 is None else page1
    page2 = load_json("x", PAGE2) if page2 is None else page2

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/2/tweets/search/recent"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return json_response(page2 if "next_token" in request.url.params else page1)

    return handler


def source_for(handler, clock, **options) -> XSource:
    return XSource(
        client_for(handler), clock=clock, bearer_token=TOKEN, min_request_interval=0, **options
    )


def keyed(batch) -> dict[tuple[str, str], Mention]:
    return {(m.author, m.arxiv_id): m for m in batch.mentions}


def cursor(since_id: str | None = NEWEST, day: str = "2026-11-26", requests: int = 0) -> str:
    state = {"day": day, "requests": requests} | ({"since_id": since_id} if since_id else {})
    return json.dumps(state)


async def test_first_poll_walks_the_pages_and_reads_every_link_form(clock):
    switch = Switch(serve())

    batch = await source_for(switch, clock).poll(None)

    first, second = switch.requests
    assert first.url.params["query"] == DEFAULT_X_QUERY
    assert first.url.params["max_results"] == "100"
    assert first.url.params["expansions"] == "author_id,referenced_tweets.id"
    assert set(first.url.params["tweet.fields"].split(",")) >= {
        "created_at", "entities", "referenced_tweets"
    }  # fmt: skip
    assert first.url.params["user.fields"] == "username"
    assert "since_id" not in first.url.params
    assert second.url.params["next_token"].startswith("b26v89")
    assert set(keyed(batch)) == {
        ("erin", "2406.00007"),
        ("erin", "2407.00006"),
        ("erin", "hep-th/9901001"),
        ("dave", "2411.01234"),
        ("carol_reads", "2411.01234"),
        ("aliceml", "2411.01234"),
        ("grace", "2409.00004"),
        ("grace", "2408.00005"),
    }
    assert json.loads(batch.cursor) == {"since_id": NEWEST, "day": "2026-11-26", "requests": 2}


async def test_a_retweet_is_a_share_by_the_retweeter_with_the_original_link(clock):
    mentions = keyed(await source_for(serve(), clock).poll(None))
    assert mentions[("carol_reads", "2411.01234")] == Mention(
        source="x",
        post_id="1861000000000000003",
        author="carol_reads",
        posted_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        kind="repost",
        arxiv_id="2411.01234",
        version=2,
        url="https://x.com/carol_reads/status/1861000000000000003",
        text=(
            "Our new paper on sparse attention for long-context transformers is out, "
            "with code and a pdf: https://t.co/pdf1"
        ),
        engagement=0,
    )
    quote = mentions[("dave", "2411.01234")]
    assert (quote.kind, quote.version, quote.engagement) == ("quote", 2, 5)
    original = mentions[("aliceml", "2411.01234")]
    assert (original.kind, original.engagement) == ("post", 92)


async def test_next_poll_asks_since_the_cursor(clock):
    switch = Switch(serve(page1=load_json("x", EMPTY)))
    batch = await source_for(switch, clock).poll(cursor(requests=3))
    assert switch.requests[0].url.params["since_id"] == NEWEST
    assert batch.mentions == ()
    assert json.loads(batch.cursor) == {"since_id": NEWEST, "day": "2026-11-26", "requests": 4}


async def test_the_daily_budget_stops_requests_and_survives_in_the_cursor(clock):
    switch = Switch(serve())
    source = source_for(switch, clock, daily_budget=5)

    spent = await source.poll(cursor(requests=5))
    assert switch.requests == []
    assert spent.mentions == ()
    assert json.loads(spent.cursor) == json.loads(cursor(requests=5))

    partial = await source.poll(cursor(requests=4))
    assert len(switch.requests) == 1
    assert json.loads(partial.cursor)["requests"] == 5


async def test_the_budget_resets_on_a_new_utc_day(clock):
    switch = Switch(serve())
    batch = await source_for(switch, clock, daily_budget=5).poll(
        cursor(day="2026-11-25", requests=5)
    )
    assert len(switch.requests) == 2
    assert json.loads(batch.cursor)["requests"] == 2


async def test_posts_without_their_expansions_do_not_crash(clock):
    page1 = load_json("x", PAGE1)
    del page1["includes"]
    page1["meta"].pop("next_token")
    batch = await source_for(serve(page1=page1), clock).poll(None)
    authors = {m.author for m in batch.mentions}
    assert authors == {"id:555"}  # erin's own links; the retweet and quote lost their source


async def test_posts_missing_a_field_are_skipped(clock):
    page1 = load_json("x", PAGE1)
    del page1["data"][1]["author_id"]  # erin's
    batch = await source_for(serve(page1=page1), clock).poll(None)
    assert "erin" not in {m.author for m in batch.mentions}
    assert len(batch.mentions) == 5


@pytest.mark.parametrize("body", [{"data": []}, {"errors": [{"title": "Invalid Request"}]}, []])
async def test_poll_fails_on_an_answer_without_meta(clock, body):
    with pytest.raises(SourceUnavailable, match="malformed"):
        await source_for(lambda r: json_response(body), clock).poll(None)


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
async def test_poll_fault_keeps_the_cursor_and_the_next_poll_recovers(clock, fault):
    switch = Switch(serve(), fault)
    source = source_for(switch, clock)
    repo = await check_fault_then_recovery(source, switch, clock, cursor(), secrets=(TOKEN,))
    assert len(repo.mentions) == 8
