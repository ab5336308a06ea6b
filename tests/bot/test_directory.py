import httpx
import pytest

from bot.directory import build_directory
from bot.settings import Settings, SettingsError
from core.ports import Account, SourceUnavailable
from tests.adapters.follows.support import Recorder, json_response, load

ENV = {
    "BLUESKY_APPVIEW_URL": "http://appview.test/xrpc/",
    "MASTODON_API_BASE": "http://fediverse.test/{instance}",
    "X_API_URL": "http://x-api.test",
}


def services(request: httpx.Request) -> httpx.Response:
    if request.url.host == "appview.test":
        return json_response(load("bluesky", "resolveHandle.json"))
    if request.url.host == "fediverse.test":
        return json_response(load("mastodon", "lookup.json"))
    return json_response(load("x", "user_by_username.json"))


async def test_each_network_is_asked_at_its_configured_base_url():
    server = Recorder(services)
    directory = build_directory(Settings.from_env(ENV | {"X_BEARER_TOKEN": "t0k"}), server.client())

    bluesky = await directory.resolve("bluesky", "alice.bsky.social")
    mastodon = await directory.resolve("mastodon", "@bob@sigmoid.social")
    x = await directory.resolve("x", "karpathy")

    assert (bluesky.key, mastodon.key, x.key) == (
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "bob@sigmoid.social",
        "karpathy",
    )
    assert [str(r.url).split("?")[0] for r in server.requests] == [
        "http://appview.test/xrpc/com.atproto.identity.resolveHandle",
        "http://fediverse.test/sigmoid.social/api/v1/accounts/lookup",
        "http://x-api.test/2/users/by/username/karpathy",
    ]


async def test_without_an_x_token_x_handles_resolve_but_follow_lists_need_one():
    server = Recorder(services)
    directory = build_directory(Settings.from_env(ENV), server.client())

    account = await directory.resolve("x", "Karpathy")
    with pytest.raises(SourceUnavailable, match="X_BEARER_TOKEN"):
        await directory.following(account, 5000)

    assert account == Account("x", "karpathy", "karpathy")
    assert server.requests == []


async def test_an_unknown_network_is_refused_naming_the_known_ones():
    directory = build_directory(Settings.from_env({}), Recorder(services).client())

    with pytest.raises(ValueError, match="unknown network 'threads'; known: bluesky, mastodon, x"):
        await directory.resolve("threads", "zuck")


async def test_no_follows_are_asked_for_when_none_are_wanted():
    server = Recorder(services)
    directory = build_directory(Settings.from_env(ENV), server.client())

    assert await directory.following(Account("bluesky", "did:web:a.example", "a.example"), 0) == []
    assert server.requests == []


@pytest.mark.parametrize(
    "value", ["http://fediverse.test", "fediverse.test/{instance}", "http://{instance} x"]
)
def test_a_mastodon_api_base_without_its_placeholder_or_not_a_url_is_a_problem(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MASTODON_API_BASE": value})

    assert caught.value.problems == [
        "MASTODON_API_BASE must be an http(s) URL with {instance} where the domain goes"
    ]


def test_a_bluesky_appview_url_must_be_a_url():
    with pytest.raises(SettingsError, match="BLUESKY_APPVIEW_URL must be a URL"):
        Settings.from_env({"BLUESKY_APPVIEW_URL": "public.api.bsky.app"})
