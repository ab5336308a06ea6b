import re

import httpx
import pytest

from adapters.follows.mastodon import MastodonFollows
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

BOB = Account("mastodon", "bob@sigmoid.social", "bob@sigmoid.social")
BOB_ID = "109314123456789012"
FOLLOWING = f"https://sigmoid.social/api/v1/accounts/{BOB_ID}/following"
PAGE2 = f"{FOLLOWING}?limit=80&max_id=7628164"
# The instance's own accounts come without @domain: they are given the instance's.
FOLLOWED = [
    Account("mastodon", "carol@sigmoid.social", "carol@sigmoid.social"),
    Account("mastodon", "gargron@mastodon.social", "gargron@mastodon.social"),
    Account("mastodon", "dave_ml@fediscience.org", "dave_ml@fediscience.org"),
    Account("mastodon", "erin@sigmoid.social", "erin@sigmoid.social"),
]


def link(next_url: str) -> dict[str, str]:
    prev = f"{FOLLOWING}?limit=80&since_id=7628165"
    return {"link": f'<{next_url}>; rel="next", <{prev}>; rel="prev"'}


def instance(profile=None, first_page=None, second_page=None):
    """Serve sigmoid.social's recorded answers; the arguments replace one answer each."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "sigmoid.social"
        if request.url.path == "/api/v1/accounts/lookup":
            if request.url.params["acct"] != "bob":
                return json_response(load("mastodon", "error_not_found.json"), 404)
            return json_response(load("mastodon", "lookup.json") if profile is None else profile)
        assert request.url.path == f"/api/v1/accounts/{BOB_ID}/following"
        if "max_id" not in request.url.params:
            assert request.url.params["limit"] == "80"
            if first_page is not None:
                return first_page(request)
            return json_response(load("mastodon", "following_page1.json"), headers=link(PAGE2))
        assert str(request.url) == PAGE2
        if second_page is not None:
            return second_page(request)
        return json_response(load("mastodon", "following_page2.json"))

    return Recorder(handler)


def directory(recorder: Recorder, sleeps: Sleeps | None = None, **options) -> MastodonFollows:
    return MastodonFollows(recorder.client(), sleep=sleeps or Sleeps(), **options)


def bob_with(**changes) -> dict[str, object]:
    profile = load("mastodon", "lookup.json")
    assert isinstance(profile, dict)
    return profile | changes


async def test_an_account_is_looked_up_on_its_instance_and_kept_lower_cased():
    server = instance()

    account = await directory(server).resolve("@Bob@Sigmoid.social")

    assert account == BOB
    (request,) = server.requests
    assert str(request.url) == "https://sigmoid.social/api/v1/accounts/lookup?acct=bob"


async def test_the_api_base_template_points_every_instance_elsewhere():
    server = Recorder(lambda _: json_response(load("mastodon", "lookup.json")))
    fake = directory(server, api_base="http://127.0.0.1:8081/{instance}")

    await fake.resolve("bob@sigmoid.social")

    (request,) = server.requests
    assert (
        str(request.url) == "http://127.0.0.1:8081/sigmoid.social/api/v1/accounts/lookup?acct=bob"
    )


@pytest.mark.parametrize(
    "name", ["bob", "bob@", "@bob", "@bob@localhost", "bo b@sigmoid.social", "bob@sig_moid.social"]
)
async def test_a_malformed_account_is_refused_without_asking(name):
    server = instance()

    with pytest.raises(ValueError, match="Mastodon"):
        await directory(server).resolve(name)

    assert server.requests == []


@pytest.mark.parametrize(
    "name", ["bob@mastodon.local", "bob@metadata.google.internal", "bob@router.home.arpa"]
)
async def test_an_instance_on_a_private_network_is_never_asked(name):
    server = instance()

    with pytest.raises(ValueError, match="public domain name"):
        await directory(server).resolve(name)
    with pytest.raises(ValueError, match="public domain name"):
        await directory(server).following(Account("mastodon", name, name), 10)

    assert server.requests == []


async def test_an_account_its_instance_does_not_know_is_not_found():
    with pytest.raises(AccountNotFound, match=r"nobody@sigmoid\.social does not exist"):
        await directory(instance()).resolve("nobody@sigmoid.social")


async def test_following_reads_every_page_by_the_link_header():
    server = instance()

    followed = await directory(server).following(BOB, 5000)

    assert followed == FOLLOWED
    assert [r.url.path for r in server.requests] == [
        "/api/v1/accounts/lookup",
        f"/api/v1/accounts/{BOB_ID}/following",
        f"/api/v1/accounts/{BOB_ID}/following",
    ]


async def test_following_stops_at_the_limit():
    server = instance()

    followed = await directory(server).following(BOB, 2)

    assert followed == FOLLOWED[:2]
    assert len(server.requests) == 2


async def test_follows_hidden_by_the_account_are_refused_before_any_page():
    server = instance(profile=bob_with(hide_collections=True))

    with pytest.raises(AccountNotFound, match=r"bob@sigmoid\.social hides whom it follows"):
        await directory(server).following(BOB, 5000)

    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "first_page",
    [
        lambda _: json_response({"error": "This action is not allowed"}, 403),
        # Servers without hide_collections in the account answer an empty list instead.
        lambda _: json_response([]),
    ],
)
async def test_follows_hidden_by_the_instance_are_refused(first_page):
    server = instance(profile=bob_with(hide_collections=None), first_page=first_page)

    with pytest.raises(AccountNotFound, match="hides whom it follows"):
        await directory(server).following(BOB, 5000)


async def test_an_account_following_nobody_has_an_empty_list():
    server = instance(profile=bob_with(following_count=0), first_page=lambda _: json_response([]))

    assert await directory(server).following(BOB, 5000) == []


async def test_a_next_link_to_another_server_is_not_followed():
    elsewhere = link("https://attacker.example/api/v1/accounts/1/following?max_id=1")
    first = lambda _: json_response(load("mastodon", "following_page1.json"), headers=elsewhere)  # noqa: E731
    server = instance(first_page=first)

    with pytest.raises(SourceUnavailable, match="another server"):
        await directory(server).following(BOB, 5000)

    assert all(r.url.host == "sigmoid.social" for r in server.requests)


async def test_a_rate_limited_page_is_asked_again():
    answers = iter([rate_limited(2), json_response(load("mastodon", "following_page2.json"))])
    server, sleeps = instance(second_page=lambda _: next(answers)), Sleeps()

    assert await directory(server, sleeps).following(BOB, 5000) == FOLLOWED
    assert len(sleeps.waits) == 1
    assert sleeps.waits[0] >= 2


@pytest.mark.parametrize(
    ("second_page", "reason"),
    [
        (lambda _: server_error(), "HTTP 500 from sigmoid.social"),
        (lambda _: garbage(), "invalid JSON from sigmoid.social"),
        (lambda _: json_response({"error": "oops"}), "not a list"),
        (lambda _: rate_limited(600), "HTTP 429 from sigmoid.social"),
    ],
)
async def test_a_page_failing_midway_fails_the_whole_list(second_page, reason):
    with pytest.raises(SourceUnavailable, match=re.escape(reason)):
        await directory(instance(second_page=second_page)).following(BOB, 5000)


async def test_an_instance_that_cannot_be_reached_is_unavailable():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(SourceUnavailable, match=r"ConnectError from sigmoid\.social"):
        await directory(Recorder(refuse)).resolve("bob@sigmoid.social")


async def test_an_instance_serving_the_same_page_again_is_not_followed_forever():
    again = lambda _: json_response(load("mastodon", "following_page1.json"), headers=link(PAGE2))  # noqa: E731
    server = instance(second_page=again)

    with pytest.raises(SourceUnavailable, match="repeated the last"):
        await directory(server).following(BOB, 5000)

    assert len(server.requests) == 3
