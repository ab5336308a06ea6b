import logging

import httpx
import pytest

from adapters.follows.x import XFollows
from core.ports import Account, AccountNotFound, SourceUnavailable
from tests.adapters.follows.support import Recorder, Sleeps, json_response, load, server_error

BASE = "https://x-api.test"
TOKEN = "AAAA-bearer-token-secret"
KARPATHY = Account("x", "karpathy", "karpathy")
FOLLOWED = [
    Account("x", "xdevelopers", "xdevelopers"),
    Account("x", "x", "x"),
    Account("x", "sama", "sama"),
]


def api(second_page=None, following=None):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = request.url.path
        if path.startswith("/2/users/by/username/"):
            if path.removeprefix("/2/users/by/username/") == "karpathy":
                return json_response(load("x", "user_by_username.json"))
            return json_response(load("x", "user_not_found.json"))
        assert path == "/2/users/33836629/following"
        if following is not None:
            return following(request)
        if "pagination_token" not in request.url.params:
            return json_response(load("x", "following_page1.json"))
        assert request.url.params["pagination_token"] == "DFEDBNRFT3MHCZZZ"
        if second_page is not None:
            return second_page(request)
        return json_response(load("x", "following_page2.json"))

    return Recorder(handler)


def directory(recorder: Recorder, token: str | None = TOKEN) -> XFollows:
    return XFollows(recorder.client(), bearer_token=token, base_url=BASE, sleep=Sleeps())


async def test_with_a_token_a_handle_is_looked_up_and_kept_lower_cased():
    server = api()

    assert await directory(server).resolve("@Karpathy") == KARPATHY
    (request,) = server.requests
    assert request.url.path == "/2/users/by/username/karpathy"


async def test_without_a_token_a_well_formed_handle_is_taken_as_typed():
    server = api()

    assert await directory(server, token=None).resolve("@Karpathy") == KARPATHY
    assert server.requests == []


async def test_without_a_token_follow_lists_cannot_be_read():
    server = api()

    with pytest.raises(SourceUnavailable, match="X_BEARER_TOKEN"):
        await directory(server, token=None).following(KARPATHY, 5000)

    assert server.requests == []


@pytest.mark.parametrize("name", ["", "@", "sixteen_letters_", "kar-pathy", "karpathy@x.com"])
async def test_a_malformed_handle_is_refused(name):
    with pytest.raises(ValueError, match="X handle"):
        await directory(api(), token=None).resolve(name)


async def test_an_account_that_does_not_exist_is_not_found():
    with pytest.raises(AccountNotFound, match="nosuchuser_42 does not exist"):
        await directory(api()).resolve("nosuchuser_42")


async def test_following_reads_every_page_by_next_token():
    server = api()

    assert await directory(server).following(KARPATHY, 5000) == FOLLOWED
    first, second = (r for r in server.requests if r.url.path.endswith("/following"))
    assert first.url.params["max_results"] == "1000"
    assert second.url.params["pagination_token"] == "DFEDBNRFT3MHCZZZ"


async def test_following_of_a_protected_account_is_refused_as_hidden():
    server = api(following=lambda _: json_response(load("x", "following_protected.json")))

    with pytest.raises(AccountNotFound, match="protected"):
        await directory(server).following(KARPATHY, 5000)


async def test_a_page_failing_midway_fails_the_whole_list_and_keeps_the_token_out(caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceUnavailable, match=r"HTTP 500 from x-api\.test") as caught:
        await directory(api(second_page=lambda _: server_error())).following(KARPATHY, 5000)

    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text
