"""DiscordDigestSink: what it posts, and what each Discord failure tells the digest sender."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import discord
import discord.ext.test as dpytest
import pytest

from adapters.discord import events
from adapters.discord.sink import DiscordDigestSink
from core.delivery import ChatGone, DeliveryError, DigestSink, RetryLater
from core.models import ChatRef
from tests.adapters.discord.fakes import paper_list

CHAT = ChatRef("discord", "4242")


def http_error(
    kind: type[discord.HTTPException], status: int, code: int = 0
) -> discord.HTTPException:
    """What discord.py raises for `status`, built on a stand-in for aiohttp's response."""
    return kind(SimpleNamespace(status=status, reason="x"), {"code": code, "message": "nope"})


class FakeChannel(discord.abc.Messageable):
    """A channel whose sends succeed with ids 1, 2... or raise the errors given, in order."""

    def __init__(self, *errors: BaseException | None) -> None:
        self.errors = list(errors)
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> Any:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.sent.append({"content": content, **kwargs})
        return SimpleNamespace(id=len(self.sent))


class FakeClient:
    """A client whose cache holds `cached`; fetching finds `fetched` or raises it."""

    def __init__(self, cached: object = None, fetched: object = None) -> None:
        self.cached, self.fetched = cached, fetched

    def get_channel(self, channel_id: int) -> object:
        return self.cached

    async def fetch_channel(self, channel_id: int) -> object:
        if isinstance(self.fetched, BaseException):
            raise self.fetched
        return self.fetched


def sink_over(client: FakeClient, on_chat_event=None) -> DiscordDigestSink:
    return DiscordDigestSink(cast(discord.Client, client), on_chat_event)


def test_sink_is_a_digest_sink():
    sink: DigestSink = sink_over(FakeClient())
    assert sink.platform == "discord"


async def test_sink_posts_embeds_without_mentions_and_returns_the_message_id(monkeypatch):
    # dpytest checks the bot's own permissions on send, which needs members cached; our bot
    # has no members intent, so any client with it stands in here.
    client = discord.Client(intents=discord.Intents.all())
    await client._async_setup_hook()
    dpytest.configure(client)
    channel = dpytest.get_config().channels[0]
    sent = []
    original = discord.TextChannel.send

    async def send(self, *args, **kwargs):
        sent.append(kwargs)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(discord.TextChannel, "send", send)

    message_id = await DiscordDigestSink(client).publish(
        ChatRef("discord", str(channel.id)), paper_list(3)
    )

    message = dpytest.get_message()
    assert message_id == str(message.id)
    assert message.embeds[0].title == "Trending now"
    assert len(message.embeds[0].fields) == 3
    assert sent[0]["allowed_mentions"].to_dict() == {"parse": []}
    await dpytest.empty_queue()


async def test_sink_fetches_an_uncached_channel():
    channel = FakeChannel()
    assert await sink_over(FakeClient(fetched=channel)).publish(CHAT, paper_list(2)) == "1"
    assert len(channel.sent) == 1


@pytest.mark.parametrize(
    ("error", "reason", "event_reason"),
    [
        (http_error(discord.Forbidden, 403), "forbidden", "forbidden"),
        (http_error(discord.NotFound, 404), "not found", "not_found"),
    ],
)
async def test_sink_gone_channel_raises_chat_gone_and_reports_it(error, reason, event_reason):
    reported: list[events.ChatEvent] = []

    async def on_chat_event(event: events.ChatEvent) -> None:
        reported.append(event)

    sink = sink_over(FakeClient(FakeChannel(error)), on_chat_event)
    with pytest.raises(ChatGone) as raised:
        await sink.publish(CHAT, paper_list(1))
    assert raised.value.reason == reason
    assert reported == [events.ChatGone(CHAT, event_reason)]


async def test_sink_channel_that_cannot_be_fetched_is_gone():
    missing = http_error(discord.NotFound, 404)
    with pytest.raises(ChatGone, match="not found"):
        await sink_over(FakeClient(fetched=missing)).publish(CHAT, paper_list(1))


async def test_sink_channel_that_cannot_hold_messages_is_gone():
    category = object()  # a category id: not Messageable
    with pytest.raises(ChatGone, match="not a text channel"):
        await sink_over(FakeClient(category)).publish(CHAT, paper_list(1))


async def test_sink_gone_channel_is_raised_even_if_the_report_fails(caplog):
    async def broken(event: events.ChatEvent) -> None:
        raise RuntimeError("database down")

    sink = sink_over(FakeClient(FakeChannel(http_error(discord.Forbidden, 403))), broken)
    with caplog.at_level(logging.ERROR), pytest.raises(ChatGone):
        await sink.publish(CHAT, paper_list(1))
    assert "on_chat_event failed" in caplog.text


@pytest.mark.parametrize(
    ("error", "seconds"),
    [
        (http_error(discord.DiscordServerError, 503), 30),
        (discord.RateLimited(120.0), 120),
        (aiohttp.ServerDisconnectedError(), 30),
        (TimeoutError(), 30),
        (OSError("connection reset"), 30),
    ],
)
async def test_sink_transient_failures_raise_retry_later(error, seconds):
    with pytest.raises(RetryLater) as raised:
        await sink_over(FakeClient(FakeChannel(error))).publish(CHAT, paper_list(1))
    assert raised.value.seconds == seconds
    assert raised.value.__cause__ is error


async def test_sink_refused_message_fails_without_retry():
    # A 400 means Discord rejected the message itself: the same message would fail again.
    error = http_error(discord.HTTPException, 400)
    with pytest.raises(DeliveryError) as raised:
        await sink_over(FakeClient(FakeChannel(error))).publish(CHAT, paper_list(1))
    assert not isinstance(raised.value, RetryLater | ChatGone)
    assert "400" in str(raised.value)


async def test_sink_failure_after_the_first_message_is_still_raised():
    # Repeating the first message beats losing the rest (see DiscordDigestSink).
    channel = FakeChannel(None, http_error(discord.DiscordServerError, 502))
    with pytest.raises(RetryLater):
        await sink_over(FakeClient(channel)).publish(CHAT, paper_list(60))
    assert len(channel.sent) == 1


@pytest.mark.parametrize(
    "error",
    [
        http_error(discord.Forbidden, 403, code=50013),
        http_error(discord.HTTPException, 400, code=50013),
        http_error(discord.Forbidden, 403, code=50001),
    ],
    ids=["403-missing-permissions", "400-missing-permissions", "403-missing-access"],
)
async def test_sink_missing_permissions_pause_the_chat_saying_what_is_missing(error):
    with pytest.raises(ChatGone) as raised:
        await sink_over(FakeClient(FakeChannel(error))).publish(CHAT, paper_list(1))
    assert raised.value.reason == (
        "the bot lacks permissions in this channel "
        "(it needs View Channel, Send Messages and Embed Links)"
    )
