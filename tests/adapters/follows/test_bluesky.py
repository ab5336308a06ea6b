import re

import httpx
import pytest

from adapters.follows.bluesky import BlueskyFollows
from core.ports import Account, AccountNotFound, SourceUnavailable
from tests.adapters.follows.support import (
    Recorder,
    Sleeps,
    garbage,
    json_response,
    load,
    rate_limited,
    server_error,
)

BASE = "https://appview.test/xrpc"
ALICE_DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
ALICE = Account("bluesky", ALICE_DID, "alice.bsky.social")
FOLLOWED = [
    Account("bluesky", "did:plc:z72i7hdynmk6r22z27h6tvur", "bsky.app"),
    Account("bluesky", "did:plc:4llrhdclvdlmmynkwsmg5tdc", "karpathy.bsky.social"),
    Account("bluesky", "did:web:paper-feeds.example.org", "paper-feeds.example.org"),
    # An unverified handle reads "handle.invalid": the account is shown by its DID instead.
    Account("bluesky", "did:plc:vpkhqolt662uhesyj6nxm7ys", "did:plc:vpkhqolt662uhesyj6nxm7ys"),
    Account("bluesky", "did:plc:ragtjsm2j2vknwkz3zp4oxrd", "pfrazee.com"),
]


def appview(second_page=None):
    """Serve the recorded AppView answers; `second_page` replaces the page after the cursor."""

    def handler(request: httpx.Request) -> httpx.Response:
        method = request.url.path.removeprefix("/xrpc/")
        params = request.url.params
        if method == "com.atproto.identity.resolveHandle":
            if params["handle"] == "alice.bsky.social":
                return json_response(load("bluesky", "resolveHandle.json"))
            return json_response(load("bluesky", "error_unable_to_resolve.json"), 400)
        if method == "app.bsky.actor.getProfile":
            if params["actor"] == ALICE_DID:
                return json_response(load("bluesky", "getProfile.json"))
            return json_response(load("bluesky", "error_profile_not_found.json"), 400)
        assert method == "app.bsky.graph.getFollows"
        if params["actor"] != ALICE_DID:
            return json_response(load("bluesky", "error_profile_not_found.json"), 400)
        if "cursor" not in params:
            return json_response(load("bluesky", "getFollows_page1.json"))
        assert params["cursor"] == "3lbdsq5ysnk2a"
        if second_page is not None:
            return second_page(request)
        return json_response(load("bluesky", "getFollows_page2.json"))

    return Recorder(handler)


def directory(recorder: Recorder, sleeps: Sleeps | None = None) -> BlueskyFollows:
    return BlueskyFollows(recorder.client(), base_url=BASE, sleep=sleeps or Sleeps())


async def test_a_typed_handle_is_resolved_to_its_did_and_shown_lower_cased():
    server = appview()

    account = await directory(server).resolve("@Alice.bsky.social")

    assert account == ALICE
    (request,) = server.requests
    assert str(request.url) == f"{BASE}/com.atproto.identity.resolveHandle?handle=alice.bsky.social"
    assert request.headers["user-agent"].startswith("trending-arxiv/")


async def test_a_typed_did_is_kept_and_shown_by_its_profiles_handle():
    assert await directory(appview()).resolve(ALICE_DID) == ALICE


@pytest.mark.parametrize(
    "name", ["alice", "alice..bsky.social", "-alice.bsky.social", "did:plc:short", "al ice.com"]
)
async def test_a_malformed_name_is_refused_without_asking(name):
    server = appview()

    with pytest.raises(ValueError, match="Bluesky"):
        await directory(server).resolve(name)

    assert server.requests == []


@pytest.mark.parametrize("name", ["nobody.bsky.social", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"])
async def test_an_account_that_does_not_exist_is_not_found(name):
    with pytest.raises(AccountNotFound, match=f"{name} does not exist"):
        await directory(appview()).resolve(name)


async def test_following_reads_every_page_by_cursor():
    server = appview()

    followed = await directory(server).following(ALICE, 5000)

    assert followed == FOLLOWED
    first, second = server.requests
    assert first.url.params["limit"] == "100"
    assert "cursor" not in first.url.params
    assert second.url.params["cursor"] == "3lbdsq5ysnk2a"


async def test_following_stops_at_the_limit():
    server = appview()

    followed = await directory(server).following(ALICE, 2)

    assert followed == FOLLOWED[:2]
    (request,) = server.requests
    assert request.url.params["limit"] == "2"


async def test_following_of_an_account_that_does_not_exist_is_not_found():
    gone = Account("bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "gone.bsky.social")

    with pytest.raises(AccountNotFound, match=r"gone\.bsky\.social does not exist"):
        await directory(appview()).following(gone, 5000)


async def test_following_of_a_deactivated_account_says_so():
    server = Recorder(lambda _: json_response(load("bluesky", "error_deactivated.json"), 400))

    with pytest.raises(AccountNotFound, match="is deactivated"):
        await directory(server).following(ALICE, 5000)


async def test_a_rate_limited_page_is_asked_again_after_retry_after():
    answers = iter([rate_limited(3), json_response(load("bluesky", "getFollows_page2.json"))])
    server, sleeps = appview(second_page=lambda _: next(answers)), Sleeps()

    followed = await directory(server, sleeps).following(ALICE, 5000)

    assert followed == FOLLOWED
    assert len(sleeps.waits) == 1
    assert sleeps.waits[0] >= 3


async def test_a_rate_limit_that_lasts_fails_after_two_retries():
    server, sleeps = appview(second_page=lambda _: rate_limited(3)), Sleeps()

    with pytest.raises(SourceUnavailable, match="HTTP 429") as caught:
        await directory(server, sleeps).following(ALICE, 5000)

    assert len(sleeps.waits) == 2
    assert len(server.requests) == 4  # the first page, then the second three times
    assert caught.value.retry_after == 3


async def test_a_long_retry_after_is_not_waited_out():
    server, sleeps = appview(second_page=lambda _: rate_limited(3600)), Sleeps()

    with pytest.raises(SourceUnavailable, match="HTTP 429") as caught:
        await directory(server, sleeps).following(ALICE, 5000)

    assert sleeps.waits == []
    assert caught.value.retry_after == 3600


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("second_page", "reason"),
    [
        (lambda _: server_error(), "HTTP 500 from appview.test"),
        (lambda _: garbage(), "invalid JSON from appview.test"),
        (lambda _: json_response({"subject": {}, "cursor": "x"}), "getFollows gave no follows"),
        (timeout, "timeout from appview.test"),
    ],
)
async def test_a_page_failing_midway_fails_the_whole_list(second_page, reason):
    with pytest.raises(SourceUnavailable, match=re.escape(reason)):
        await directory(appview(second_page=second_page)).following(ALICE, 5000)


async def test_an_appview_repeating_its_cursor_is_not_followed_forever():
    server = appview(second_page=lambda _: json_response(load("bluesky", "getFollows_page1.json")))

    with pytest.raises(SourceUnavailable, match="repeated its cursor"):
        await directory(server).following(ALICE, 5000)

    assert len(server.requests) == 2
