import json
from datetime import UTC, datetime

import httpx
import pytest

from adapters.sources.mastodon import MastodonSource
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
from tests.core.test_ingest import NOW

TIMELINE = "tag_arxiv_2026-11-26.json"
TRENDS = "trends_links_2026-11-26.json"
SOCIAL = "https://mastodon.social"
KEY = f"{SOCIAL}#arxiv"


def serve(statuses: list | None = None, trends: object = None, trends_status: int = 200):
    """A Mastodon instance: the tag timeline honours `min_id` and `limit` as the real one does."""
    statuses = load_json("mastodon", TIMELINE) if statuses is None else statuses
    trends = load_json("mastodon", TRENDS) if trends is None else trends

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/trends/links":
            return json_response(trends, trends_status)
        assert request.url.path == "/api/v1/timelines/tag/arxiv"
        limit = int(request.url.params["limit"])
        if "min_id" not in request.url.params:
            return json_response(statuses[:limit])
        newer = [s for s in statuses if int(s["id"]) > int(request.url.params["min_id"])]
        return json_response(newer[-limit:])

    return handler


def source_for(handler, clock, **options) -> MastodonSource:
    return MastodonSource(client_for(handler), clock=clock, min_request_interval=0, **options)


def keyed(batch) -> dict[tuple[str, str], Mention]:
    return {(m.author, m.arxiv_id): m for m in batch.mentions}


async def test_poll_reads_shares_from_the_tag_timeline(clock):
    switch = Switch(serve())

    batch = await source_for(switch, clock).poll(None)

    assert set(keyed(batch)) == {
        ("alice@mastodon.social", "2411.01234"),
        ("bob@sigmoid.social", "2410.00003"),
        ("bob@sigmoid.social", "2407.00006"),
        ("carol@mastodon.social", "2410.00003"),
        ("carol@mastodon.social", "2407.00006"),
        ("dave@mastodon.social", "2409.00004"),
        ("frank@mastodon.social", "hep-th/9901001"),
        ("frank@mastodon.social", "math/0309136"),
        ("frank@mastodon.social", "2406.00007"),
        ("frank@mastodon.social", "2408.00005"),
    }
    assert keyed(batch)[("alice@mastodon.social", "2411.01234")] == Mention(
        source="mastodon",
        post_id="https://mastodon.social/users/alice/statuses/113500000000000001",
        author="alice@mastodon.social",
        posted_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        kind="post",
        arxiv_id="2411.01234",
        version=2,
        url="https://mastodon.social/@alice/113500000000000001",
        text="New paper on sparse attention: https://arxiv.org/abs/2411.01234v2 #arxiv",
        engagement=14,
    )
    assert json.loads(batch.cursor) == {"since": {KEY: "113500000000000007"}}
    timeline = switch.requests[0]
    assert timeline.url.params["limit"] == "40"
    assert "min_id" not in timeline.url.params


async def test_a_reblog_is_a_share_by_the_booster_and_a_quote_counts_as_a_quote(clock):
    mentions = keyed(await source_for(serve(), clock).poll(None))
    boost = mentions[("carol@mastodon.social", "2410.00003")]
    assert boost.kind == "repost"
    assert boost.post_id.endswith("/113500000000000003/activity")
    assert boost.version == 1
    assert boost.engagement == 0
    original = mentions[("bob@sigmoid.social", "2410.00003")]
    assert original.kind == "post"
    assert original.post_id == "https://sigmoid.social/users/bob/statuses/113500000000000002"
    quote = mentions[("dave@mastodon.social", "2409.00004")]
    assert (quote.kind, quote.version) == ("quote", 1)


async def test_poll_turns_trending_links_into_vote_snapshots(clock):
    batch = await source_for(serve(), clock).poll(None)
    votes = {(s.arxiv_id, s.votes) for s in batch.snapshots}
    assert votes == {("2411.01234", 48), ("2410.00003", 2)}
    snap = next(s for s in batch.snapshots if s.arxiv_id == "2411.01234")
    assert snap.item_id == "mastodon.social https://arxiv.org/abs/2411.01234"
    assert snap.taken_at == NOW
    assert snap.title == "Sparse attention for long contexts"


async def test_poll_pages_forward_from_the_cursor_with_min_id(clock):
    switch = Switch(serve(trends=[]))
    cursor = json.dumps({"since": {KEY: "113500000000000002"}})

    batch = await source_for(switch, clock, page_limit=2).poll(cursor)

    timeline = [r for r in switch.requests if "timelines" in r.url.path]
    assert [r.url.params["min_id"] for r in timeline] == [
        "113500000000000002",
        "113500000000000004",
        "113500000000000006",
    ]
    assert {m.author for m in batch.mentions} == {
        "carol@mastodon.social",
        "dave@mastodon.social",
        "frank@mastodon.social",
    }
    assert json.loads(batch.cursor) == {"since": {KEY: "113500000000000007"}}


async def test_an_empty_timeline_keeps_the_cursor(clock):
    cursor = json.dumps({"since": {KEY: "113500000000000007"}})
    batch = await source_for(serve(statuses=[], trends=[]), clock).poll(cursor)
    assert batch.mentions == ()
    assert json.loads(batch.cursor) == {"since": {KEY: "113500000000000007"}}


async def test_one_failing_instance_does_not_stop_the_others(clock):
    good = serve()

    def handler(request):
        if request.url.host == "down.example":
            return httpx.Response(502)
        return good(request)

    instances = [SOCIAL, "https://down.example", "https://also.example"]
    cursor = json.dumps({"since": {"https://down.example#arxiv": "42"}})
    batch = await source_for(handler, clock, instances=instances).poll(cursor)

    # also.example federates the same statuses: their uri makes them one share each.
    assert len(batch.mentions) == 10
    assert json.loads(batch.cursor)["since"] == {
        KEY: "113500000000000007",
        "https://down.example#arxiv": "42",
        "https://also.example#arxiv": "113500000000000007",
    }


async def test_poll_fails_when_every_instance_fails(clock):
    def handler(request):
        return httpx.Response(429, headers={"Retry-After": "30"})

    source = source_for(handler, clock, instances=[SOCIAL, "https://b.example"])
    with pytest.raises(SourceUnavailable, match="every instance failed") as info:
        await source.poll(None)
    assert info.value.retry_after == 30


async def test_instances_without_a_trends_api_still_give_shares(clock):
    batch = await source_for(serve(trends={"error": "Not Found"}, trends_status=404), clock).poll(
        None
    )
    assert batch.snapshots == ()
    assert len(batch.mentions) == 10


async def test_trends_can_be_switched_off(clock):
    switch = Switch(serve())
    await source_for(switch, clock, trends=False).poll(None)
    assert all("trends" not in r.url.path for r in switch.requests)


@pytest.mark.parametrize("body", [{"error": "This method requires an authenticated user"}, "x"])
async def test_poll_fails_on_a_timeline_that_is_not_a_list(clock, body):
    with pytest.raises(SourceUnavailable):
        await source_for(lambda r: json_response(body), clock).poll(None)


async def test_statuses_missing_a_field_are_skipped(clock):
    statuses = load_json("mastodon", TIMELINE)
    del statuses[-1]["created_at"]  # alice's
    batch = await source_for(serve(statuses=statuses), clock).poll(None)
    assert "alice@mastodon.social" not in {m.author for m in batch.mentions}
    assert len(batch.mentions) == 9


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
async def test_poll_fault_keeps_the_cursor_and_the_next_poll_recovers(clock, fault):
    switch = Switch(serve(), fault)
    cursor = json.dumps({"since": {KEY: "113500000000000000"}})
    repo = await check_fault_then_recovery(source_for(switch, clock), switch, clock, cursor)
    assert len(repo.mentions) == 10
