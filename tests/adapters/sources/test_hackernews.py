import copy
import json
import math
import re
from datetime import timedelta

import httpx
import pytest

from adapters.sources.hackernews import DEFAULT_HN_QUERIES, HackerNewsSource
from core.models import Mention, VoteSnapshot
from core.ports import SourceUnavailable
from core.views import build_counts
from tests.adapters.sources.support import (
    TRANSPORT_FAULTS,
    Switch,
    check_fault_then_recovery,
    client_for,
    json_response,
    load_json,
)
from tests.core.test_ingest import NOW

ARXIV_STORIES = "arxiv_stories_2026-11-26.json"
ARXIV_COMMENTS = "arxiv_comments_2026-11-26.json"
RECORDED_2026 = "newsfeedagents_search_by_date_query-AI_tags-story_hits5_2026-08-09.json"
RECORDED_2014 = "node-hacker-news-api_fixtures_26requests_hitsPerPage1_2014-06.json"
UNTIL = int(NOW.timestamp())
WEEK_AGO = int((NOW - timedelta(days=7)).timestamp())


def empty_page() -> dict:
    page = copy.deepcopy(load_json("hackernews", RECORDED_2026))
    page.update(hits=[], nbHits=0, nbPages=0)
    return page


def serve(arxiv_page: object, comments_page: object | None = None):
    """Answer the arxiv.org story query with `arxiv_page`, its comment query with `comments_page`.

    Every other query gets an empty page.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["query"] == "arxiv.org":
            if request.url.params["tags"] == "story":
                return json_response(arxiv_page)
            if comments_page is not None:
                return json_response(comments_page)
        return json_response(empty_page())

    return handler


def recorded_2014_story() -> dict:
    fixtures = load_json("hackernews", RECORDED_2014)
    (entry,) = [
        f for f in fixtures if f["url"] == "/api/v1/search_by_date?hitsPerPage=1&tags=(story)"
    ]
    return entry["reply"]


def source_for(handler, clock, **options) -> HackerNewsSource:
    return HackerNewsSource(client_for(handler), clock=clock, min_request_interval=0, **options)


async def test_poll_snapshots_stories_linking_arxiv_in_every_form(clock):
    source = source_for(serve(load_json("hackernews", ARXIV_STORIES)), clock)

    batch = await source.poll(None)

    found = {(s.item_id, s.arxiv_id) for s in batch.snapshots}
    assert found == {
        ("49300001", "2411.01234"),
        ("49300002", "2411.01234"),
        ("49300003", "2410.00002"),
        ("49300004", "2410.00003"),
        ("49300005", "2409.00004"),
        ("49300006", "2408.00005"),
        ("49300007", "2407.00006"),
        ("49300008", "2406.00007"),
        ("49300009", "hep-th/9901001"),
        ("49300010", "math/0309136"),
        ("49300014", "2404.00014"),  # Show HN: the paper is linked in the text
        ("49300015", "2403.00015"),  # Ask HN: the paper is named in the text, without a link
    }
    assert batch.snapshots[0] == VoteSnapshot(
        source="hackernews",
        item_id="49300001",
        arxiv_id="2411.01234",
        taken_at=NOW,
        votes=152,
        comments=48,
        url="https://news.ycombinator.com/item?id=49300001",
        title="Sparse attention for long contexts",
    )
    assert batch.mentions == ()
    assert json.loads(batch.cursor) == {"until": UNTIL, "comments": UNTIL}


async def test_poll_asks_algolia_for_stories_of_the_last_week_by_url(clock):
    switch = Switch(serve(empty_page()))
    source = source_for(switch, clock, contact_url="https://example.org/bot")

    await source.poll(None)

    stories = [r for r in switch.requests if r.url.params["tags"] == "story"]
    assert [r.url.params["query"] for r in stories] == list(DEFAULT_HN_QUERIES)
    params = switch.requests[0].url.params
    assert switch.requests[0].url.path == "/api/v1/search_by_date"
    assert params["tags"] == "story"
    assert params["restrictSearchableAttributes"] == "url,story_text"
    assert params["numericFilters"] == f"created_at_i>={WEEK_AGO},created_at_i<{UNTIL}"
    assert "+https://example.org/bot" in switch.requests[0].headers["user-agent"]


@pytest.mark.parametrize(("days_since_last_poll", "window_days"), [(0.1, 7), (10, 10), (45, 30)])
async def test_poll_catches_up_after_downtime_up_to_a_limit(
    clock, days_since_last_poll, window_days
):
    switch = Switch(serve(empty_page()))
    last = int((NOW - timedelta(days=days_since_last_poll)).timestamp())
    await source_for(switch, clock).poll(json.dumps({"until": last}))
    since = int((NOW - timedelta(days=window_days)).timestamp())
    assert switch.requests[0].url.params["numericFilters"].startswith(f"created_at_i>={since},")


async def test_poll_reads_the_recorded_2026_and_2014_formats(clock):
    # The recorded pages claim millions of hits (their queries were not restricted to arXiv),
    # so these polls also run the slicing into its request cap.
    recorded = load_json("hackernews", RECORDED_2026)
    assert (await source_for(serve(recorded), clock).poll(None)).snapshots == ()

    old = recorded_2014_story()
    assert (await source_for(serve(old), clock).poll(None)).snapshots == ()
    old["hits"][0]["url"] = "http://arxiv.org/abs/1404.1234v1"  # a 2014 four-digit id
    batch = await source_for(serve(old), clock).poll(None)
    points = old["hits"][0]["points"]
    assert [(s.arxiv_id, s.votes) for s in batch.snapshots] == [("1404.1234", points)]


def algolia(items: list[dict], *, tag: str = "story"):
    """A fake Algolia that, like the real one, serves only the first 1,000 hits of a query.

    It holds items of one `tag` and answers queries for the other tag with nothing; `requests`
    records the queries for its tag.
    """
    requests: list[tuple[int, int, int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params["tags"] != tag:
            return json_response({"hits": [], "nbHits": 0, "nbPages": 0, "page": 0})
        lo, hi = map(int, re.findall(r"\d+", params["numericFilters"]))
        per_page, page = int(params["hitsPerPage"]), int(params["page"])
        matching = [s for s in items if lo <= s["created_at_i"] < hi]
        matching.sort(key=lambda s: -s["created_at_i"])
        reachable = matching[:1000]
        requests.append((lo, hi, page, len(matching)))
        hits = reachable[page * per_page : (page + 1) * per_page]
        pages = math.ceil(len(reachable) / per_page)
        return json_response(
            {"hits": hits, "nbHits": len(matching), "nbPages": pages, "page": page}
        )

    return handler, requests


def story(n: int, created: int) -> dict:
    url = f"https://arxiv.org/abs/2411.{n:05d}"
    return {"objectID": str(n), "url": url, "points": n, "num_comments": 0, "created_at_i": created}


async def test_poll_halves_time_slices_until_none_passes_the_1000_hit_cap(clock):
    span = UNTIL - WEEK_AGO
    stories = [story(n, WEEK_AGO + (n - 1) * span // 2500) for n in range(1, 2501)]
    handler, requests = algolia(stories)
    source = source_for(handler, clock, queries=("arxiv.org",))

    batch = await source.poll(None)

    assert {s.item_id for s in batch.snapshots} == {str(n) for n in range(1, 2501)}
    walked = [r for r in requests if r[2] > 0 or r[3] <= 1000]
    assert all(nb_hits <= 1000 for *_, nb_hits in walked)
    assert any(nb_hits > 1000 for *_, nb_hits in requests)


async def test_poll_walks_every_page_of_a_slice(clock):
    stories = [story(n, UNTIL - n) for n in range(1, 451)]
    handler, requests = algolia(stories)
    batch = await source_for(handler, clock, queries=("arxiv.org",), hits_per_page=100).poll(None)
    assert len(batch.snapshots) == 450
    assert [r[2] for r in requests] == [0, 1, 2, 3, 4]


async def test_poll_stops_at_its_request_cap_without_failing(clock):
    stories = [story(n, UNTIL - n) for n in range(1, 451)]
    handler, requests = algolia(stories)
    source = source_for(handler, clock, queries=("arxiv.org",), hits_per_page=100, max_requests=2)
    batch = await source.poll(None)
    assert len(requests) == 2
    assert len(batch.snapshots) == 200


async def test_poll_with_an_empty_page_returns_nothing_and_moves_on(clock):
    batch = await source_for(serve(empty_page()), clock).poll(json.dumps({"until": UNTIL - 60}))
    assert batch.snapshots == ()
    assert json.loads(batch.cursor) == {"until": UNTIL, "comments": UNTIL}


@pytest.mark.parametrize("page", [{"nbHits": 3}, {"hits": "none"}, ["not", "an", "object"]])
async def test_poll_fails_on_a_page_without_its_hits_list(clock, page):
    with pytest.raises(SourceUnavailable, match="malformed"):
        await source_for(serve(page), clock).poll(None)


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
async def test_poll_fault_keeps_the_cursor_and_the_next_poll_recovers(clock, fault):
    pages = load_json("hackernews", ARXIV_STORIES), load_json("hackernews", ARXIV_COMMENTS)
    switch = Switch(serve(*pages), fault)
    cursor = json.dumps({"until": UNTIL - 600, "comments": UNTIL - 600})
    repo = await check_fault_then_recovery(source_for(switch, clock), switch, clock, cursor)
    assert len(repo.snapshots) == 12
    assert len(repo.mentions) == 5


# --- comments -----------------------------------------------------------------------------------


def comments_source(clock, **options) -> HackerNewsSource:
    pages = empty_page(), load_json("hackernews", ARXIV_COMMENTS)
    return source_for(serve(*pages), clock, **options)


async def test_poll_counts_comments_linking_arxiv_as_shares_by_their_accounts(clock):
    batch = await comments_source(clock).poll(None)

    found = {(m.post_id, m.author, m.arxiv_id, m.version) for m in batch.mentions}
    assert found == {
        ("49300101", "alice", "2411.01234", 2),
        ("49300102", "alice", "2411.01234", None),
        ("49300103", "bob", "2410.00002", None),  # named in the text
        ("49300103", "bob", "2408.00005", 1),  # linked under other words
        ("49300108", "bob", "2411.01234", 1),
    }
    (related,) = [m for m in batch.mentions if m.arxiv_id == "2410.00002"]
    assert related == Mention(
        source="hackernews",
        post_id="49300103",
        author="bob",
        posted_at=NOW - timedelta(minutes=50),
        kind="post",
        arxiv_id="2410.00002",
        url="https://news.ycombinator.com/item?id=49300103",
        text="Related: arXiv:2410.00002 and the alphaXiv page. Both beat <the baseline>.",
    )
    assert batch.snapshots == ()


async def test_poll_asks_algolia_for_comments_in_their_text(clock):
    switch = Switch(serve(empty_page()))

    await source_for(switch, clock).poll(None)

    comments = [r.url.params for r in switch.requests if r.url.params["tags"] == "comment"]
    assert [params["query"] for params in comments] == list(DEFAULT_HN_QUERIES)
    assert {params["restrictSearchableAttributes"] for params in comments} == {"comment_text"}
    window = f"created_at_i>={WEEK_AGO},created_at_i<{UNTIL}"
    assert {params["numericFilters"] for params in comments} == {window}


@pytest.mark.parametrize(
    ("cursor", "since"),
    [
        ({"until": UNTIL - 600, "comments": UNTIL - 600}, UNTIL - 600 - 3600),
        ({"until": UNTIL - 600}, WEEK_AGO),  # a cursor written before comments were read
        ({"until": UNTIL - 600, "comments": UNTIL - 45 * 86400}, UNTIL - 30 * 86400),
    ],
)
async def test_poll_reads_comments_from_an_hour_before_the_last_poll(clock, cursor, since):
    switch = Switch(serve(empty_page()))

    batch = await source_for(switch, clock).poll(json.dumps(cursor))

    comments = [r.url.params for r in switch.requests if r.url.params["tags"] == "comment"]
    assert comments[0]["numericFilters"] == f"created_at_i>={since},created_at_i<{UNTIL}"
    assert json.loads(batch.cursor)["comments"] == UNTIL


def arxiv_comment(n: int, created: int) -> dict:
    link = f"https:&#x2F;&#x2F;arxiv.org&#x2F;abs&#x2F;2411.{n:05d}"
    text = f'See <a href="{link}" rel="nofollow">{link}</a>'
    return {"objectID": str(n), "author": f"user{n}", "comment_text": text, "created_at_i": created}


async def test_a_poll_cut_short_leaves_the_unread_comments_to_the_next(clock):
    span = UNTIL - WEEK_AGO
    comments = [arxiv_comment(n, WEEK_AGO + (n - 1) * span // 2500) for n in range(1, 2501)]
    handler, _ = algolia(comments, tag="comment")
    options = {"queries": ("arxiv.org",), "max_requests": 12}

    first = await source_for(handler, clock, **options).poll(None)
    cursor = json.loads(first.cursor)
    assert len(first.mentions) < 2500, "the request cap must cut this poll short"
    assert WEEK_AGO < cursor["comments"] < UNTIL
    assert cursor["until"] == UNTIL

    clock.advance(600)
    polls = [first]
    while len({m.post_id for b in polls for m in b.mentions}) < 2500 and len(polls) < 10:
        polls.append(await source_for(handler, clock, **options).poll(polls[-1].cursor))

    assert {m.post_id for b in polls for m in b.mentions} == {str(n) for n in range(1, 2501)}


async def test_a_poll_cut_short_before_the_comments_keeps_their_cursor(clock):
    switch = Switch(serve(empty_page()))
    source = source_for(switch, clock, max_requests=len(DEFAULT_HN_QUERIES))
    cursor = {"until": UNTIL - 600, "comments": UNTIL - 600}

    batch = await source.poll(json.dumps(cursor))

    assert {r.url.params["tags"] for r in switch.requests} == {"story"}
    assert json.loads(batch.cursor) == {"until": UNTIL, "comments": UNTIL - 600}


async def test_poll_reads_the_recorded_2014_comment_format(clock):
    fixtures = load_json("hackernews", RECORDED_2014)
    (entry,) = [
        f for f in fixtures if f["url"] == "/api/v1/search_by_date?hitsPerPage=1&tags=(comment)"
    ]
    page = entry["reply"]
    assert (await comments_for(page, clock)).mentions == ()
    hit = page["hits"][0]
    hit["comment_text"] += (
        '<p><a href="http:&#x2F;&#x2F;arxiv.org&#x2F;abs&#x2F;1311.2901">paper</a>'
    )
    hit["created_at_i"] = UNTIL - 60  # inside the window the fake would have been asked for

    (mention,) = (await comments_for(page, clock)).mentions

    assert (mention.author, mention.arxiv_id) == (hit["author"], "1311.2901")
    assert mention.url == f"https://news.ycombinator.com/item?id={hit['objectID']}"
    assert mention.text is not None
    assert "What's fascinating" in mention.text


async def comments_for(page: dict, clock):
    return await source_for(serve(empty_page(), page), clock).poll(None)


@pytest.mark.parametrize("broken", [None, 42, "text", ["a", "list"]])
async def test_poll_skips_a_comment_it_cannot_read_and_keeps_the_rest(clock, broken):
    page = load_json("hackernews", ARXIV_COMMENTS)
    page["hits"].insert(0, broken)
    page["hits"][1]["comment_text"] = {"not": "html"}

    batch = await source_for(serve(empty_page(), page), clock).poll(None)

    assert {m.post_id for m in batch.mentions} == {"49300102", "49300103", "49300108"}


async def test_shares_in_comments_and_votes_on_stories_read_together_on_a_card(clock, repo):
    pages = load_json("hackernews", ARXIV_STORIES), load_json("hackernews", ARXIV_COMMENTS)
    batch = await source_for(serve(*pages), clock).poll(None)
    await repo.add_mentions(batch.mentions)
    await repo.add_snapshots(batch.snapshots)

    stats = await repo.paper_stats("2411.01234", "week", NOW)

    assert stats is not None
    # alice linked it twice and bob once: two sharers; the two stories had 152 and 7 points.
    assert build_counts(stats.sources).line == "2 shares (HN 2) · HN 159 pts"
