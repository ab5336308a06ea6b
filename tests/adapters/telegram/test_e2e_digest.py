"""End to end against the Bot API emulator: digests sent by the sink, channels subscribed remotely.

The emulator answers every send with success and cannot resolve `@username`s, so flood control,
blocked bots and `@channel` lookups are covered by test_sink.py and test_admin.py instead.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from adapters.telegram.app import TelegramApp, build_application, start, stop
from adapters.telegram.sink import TelegramDigestSink
from core.models import ChatRef
from core.registry import Command, Registry, Request
from core.replies import PaperList, Reply, Text
from tests.adapters.telegram.emulator import Emulator
from tests.adapters.telegram.samples import make_paper, ranked
from tests.adapters.telegram.tg_html import assert_valid, visible_text
from tests.adapters.telegram.updates import ADMIN, GROUP, USER, Json, channel_post_update

pytestmark = [pytest.mark.enable_socket, pytest.mark.emulator]

BOT_ID = 666  # what the emulator's getMe answers
ADMIN_CHAT: Json = {"id": ADMIN["id"], "type": "private", "first_name": "Grace"}
USER_CHAT: Json = {"id": USER["id"], "type": "private", "first_name": "Ada"}
SUBSCRIBE_ARGS = ("07:30", "Europe/Berlin", "5", "cs.LG")
HOSTILE_TITLES = (
    '<script>alert("x")</script> & friends',
    "</a></b><i> unbalanced",
    "Stray <b>bold and &amp; and &notanentity;",
)


@dataclass
class Harness:
    emu: Emulator
    app: TelegramApp
    requests: list[Request]


def recording_registry(requests: list[Request]) -> Registry:
    async def subscribe(req: Request) -> Reply:
        requests.append(req)
        return Text((f"Subscribed chat {req.chat.chat_id}.",))

    async def unsubscribe(req: Request) -> Reply:
        requests.append(req)
        return Text((f"Unsubscribed chat {req.chat.chat_id}.",))

    return Registry(
        [
            Command(
                "subscribe", "/subscribe [HH:MM]", "Daily digest", "/subscribe", subscribe, True
            ),
            Command("unsubscribe", "/unsubscribe", "No digest", "/unsubscribe", unsubscribe, True),
        ]
    )


@pytest.fixture
async def tg(emulator_url: str) -> AsyncIterator[Harness]:
    token = f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}"  # fresh per test: isolation
    requests: list[Request] = []
    app = build_application(token, recording_registry(requests), api_url=emulator_url)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=30) as client:
        await start(app, poll_timeout=5)
        try:
            yield Harness(Emulator(client, token), app, requests)
        finally:
            await stop(app)


async def new_channel(emu: Emulator, *, bot_status: str, **bot_rights: bool) -> int:
    """A channel the emulator knows (getChat), with the bot's membership set."""
    channel_id = -1_000_000_000_000 - uuid.uuid4().int % 10**9  # members are global: fresh id
    body = {"id": channel_id, "type": "channel", "title": "Some channel", "username": "somechannel"}
    await emu._post("/_emu/chat", body)
    await emu._post(
        "/_emu/member",
        {"chat_id": channel_id, "user_id": BOT_ID, "status": bot_status, **bot_rights},
    )
    return channel_id


def text_of(message: Json) -> str:
    assert message["parse_mode"] == "HTML"
    return str(message["text"])


async def test_sink_posts_a_hostile_digest_as_html_without_previews(tg: Harness):
    papers = tuple(
        ranked(i, make_paper(i, title=title)) for i, title in enumerate(HOSTILE_TITLES, 1)
    )
    digest = PaperList("Trending arXiv · <Monday> & co", papers, footer="Not heard from: <x> & y.")
    chat = ChatRef("telegram", str(GROUP["id"]))

    message_id = await TelegramDigestSink(tg.app.bot).publish(chat, digest)

    (message,) = await tg.emu.replies(GROUP["id"])
    assert str(message["message_id"]) == message_id
    text = text_of(message)
    assert_valid(text)
    assert text.startswith("<b>Trending arXiv · &lt;Monday&gt; &amp; co</b>")
    for title in HOSTILE_TITLES:
        assert html.escape(title, quote=False) in text
        assert title in visible_text(text)
    assert "<i>Not heard from: &lt;x&gt; &amp; y.</i>" in text
    (call,) = await tg.emu.calls("sendMessage")
    assert call["params"]["link_preview_options"] == {"is_disabled": True}
    assert "reply_markup" not in call["params"]


async def test_channel_admin_subscribes_the_channel_from_a_private_chat(tg: Harness):
    emu = tg.emu
    channel_id = await new_channel(emu, bot_status="administrator", can_post_messages=True)
    await emu.set_member(channel_id, ADMIN["id"], "administrator")

    await emu.send(f"/subscribe {channel_id} {' '.join(SUBSCRIBE_ARGS)}", ADMIN_CHAT, ADMIN)

    reply = text_of(await emu.reply(ADMIN_CHAT["id"]))
    assert reply == f"Subscribed chat {channel_id}."
    channel = ChatRef("telegram", str(channel_id))
    assert tg.requests == [Request(channel, str(ADMIN["id"]), SUBSCRIBE_ARGS, is_admin=True)]
    (lookup,) = await emu.calls("getChat")
    assert lookup["params"]["chat_id"] == str(channel_id)

    await emu.send(f"/unsubscribe {channel_id}", ADMIN_CHAT, ADMIN)
    assert text_of(await emu.reply(ADMIN_CHAT["id"])) == f"Unsubscribed chat {channel_id}."
    assert tg.requests[-1] == Request(channel, str(ADMIN["id"]), (), is_admin=True)


async def test_plain_member_of_the_channel_is_refused(tg: Harness):
    emu = tg.emu
    channel_id = await new_channel(emu, bot_status="administrator", can_post_messages=True)
    await emu.set_member(channel_id, USER["id"], "member")

    await emu.send(f"/subscribe {channel_id} 07:30", USER_CHAT, USER)

    reply = text_of(await emu.reply(USER_CHAT["id"]))
    assert reply == f"⚠️ Only an admin of {channel_id} can subscribe it."
    assert tg.requests == []


async def test_channel_where_the_bot_is_only_a_member_is_refused(tg: Harness):
    emu = tg.emu
    channel_id = await new_channel(emu, bot_status="member")
    await emu.set_member(channel_id, ADMIN["id"], "creator")

    await emu.send(f"/subscribe {channel_id} 07:30", ADMIN_CHAT, ADMIN)

    reply = text_of(await emu.reply(ADMIN_CHAT["id"]))
    assert reply == (
        f"⚠️ I can't post in {channel_id}: make me an admin with the right to post messages."
    )
    assert tg.requests == []


async def test_a_bare_minus_100_is_an_argument_not_a_chat(tg: Harness):
    await tg.emu.send("/subscribe -100", ADMIN_CHAT, ADMIN)  # not a chat id: just an argument
    assert text_of(await tg.emu.reply(ADMIN_CHAT["id"])) == f"Subscribed chat {ADMIN['id']}."
    assert tg.requests == [
        Request(ChatRef("telegram", str(ADMIN["id"])), str(ADMIN["id"]), ("-100",), True)
    ]


async def test_subscribe_posted_in_the_channel_itself_is_by_an_admin(tg: Harness):
    channel_id = await new_channel(tg.emu, bot_status="administrator", can_post_messages=True)
    chat: Json = {"id": channel_id, "type": "channel", "title": "Some channel"}

    await tg.emu.update(channel_post_update("/subscribe 07:30", chat))

    assert text_of(await tg.emu.reply(channel_id)) == f"Subscribed chat {channel_id}."
    channel = ChatRef("telegram", str(channel_id))
    assert tg.requests == [Request(channel, str(channel_id), ("07:30",), is_admin=True)]
    assert await tg.emu.calls("getChatMember") == []
