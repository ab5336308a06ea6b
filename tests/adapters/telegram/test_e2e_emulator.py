"""End to end: the adapter polls a Telegram Bot API emulator; users talk to it over HTTP."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from adapters.telegram.app import build_application, start, stop
from adapters.telegram.events import ChatEvent, ChatGone, ChatMoved
from adapters.telegram.handlers import APOLOGY
from core.models import ChatRef
from tests.adapters.telegram.emulator import Emulator, buttons
from tests.adapters.telegram.samples import build_registry
from tests.adapters.telegram.updates import (
    ADMIN,
    CHANNEL,
    GROUP,
    PRIVATE,
    SUPERGROUP,
    USER,
    Json,
    channel_post_update,
    command_message,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.emulator]


@dataclass
class Harness:
    emu: Emulator
    events: list[ChatEvent]


@pytest.fixture
async def tg(emulator_url: str) -> AsyncIterator[Harness]:
    token = f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}"  # fresh per test: isolation
    events: list[ChatEvent] = []

    async def collect(event: ChatEvent) -> None:
        events.append(event)

    app = build_application(token, build_registry(), api_url=emulator_url, on_chat_event=collect)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=30) as client:
        await start(app, poll_timeout=5)
        try:
            yield Harness(Emulator(client, token), events)
        finally:
            await stop(app)


def html(message: Json) -> str:
    assert message["parse_mode"] == "HTML"
    return str(message["text"])


async def test_private_chat_every_command(tg: Harness):
    emu, chat = tg.emu, PRIVATE["id"]
    (menu,) = await emu.calls("setMyCommands")
    names = [c["command"] for c in menu["params"]["commands"]]
    assert names == ["start", "help", "top", "new", "paper", "search", "subscribe", "boom"]

    await emu.send("/start", PRIVATE)
    assert "I tell you which arXiv papers" in html(await emu.reply(chat))
    await emu.send("/help", PRIVATE)
    assert "<code>/paper &lt;id or link&gt;</code> — One paper" in html(await emu.reply(chat))

    await emu.send("/top", PRIVATE)
    top = await emu.reply(chat)
    assert "<b>Top 5 papers — trending</b>" in html(top)
    assert [b["callback_data"] for b in buttons(top)] == ["top page=2"]
    await emu.send("/top 3 week cs.LG", PRIVATE)
    assert "<b>Top 3 papers — week · cs.LG</b>" in html(await emu.reply(chat))

    sends = await emu.calls("sendMessage")
    assert all(c["params"]["link_preview_options"] == {"is_disabled": True} for c in sends[2:])


async def test_private_chat_paging_edits_the_list_in_place(tg: Harness):
    emu, chat = tg.emu, PRIVATE["id"]
    await emu.send("/new", PRIVATE)
    first = await emu.reply(chat)
    assert "page 1" in html(first)
    (next_page,) = buttons(first)
    await emu.press(first, next_page["callback_data"])

    (edit,) = await emu.eventually("editMessageText")
    assert edit["params"]["message_id"] == str(first["message_id"])
    assert edit["params"]["parse_mode"] == "HTML"
    assert "New papers people shared — page 2" in edit["params"]["text"]
    datas = [b["callback_data"] for b in edit["params"]["reply_markup"]["inline_keyboard"][0]]
    assert datas == ["new page=1", "new page=3"]
    await emu.eventually("answerCallbackQuery")
    assert len(await emu.calls("sendMessage")) == 1  # edited, not sent again


async def test_private_chat_paper_and_search(tg: Harness):
    emu, chat = tg.emu, PRIVATE["id"]
    await emu.send("/paper 2401.01234", PRIVATE)
    card = await emu.reply(chat)
    assert "arXiv:2401.01234" in html(card)
    assert [b["text"] for b in buttons(card)] == ["Abstract", "PDF", "HTML"]

    await emu.send("/paper https://arxiv.org/pdf/2307.09288v2.pdf", PRIVATE)
    assert "arXiv:2307.09288" in html(await emu.reply(chat))
    await emu.send("/paper <junk>&", PRIVATE)
    problem = html(await emu.reply(chat))
    assert problem == (
        "⚠️ Give an arXiv id or link, like 2401.01234.\n"
        "Usage: <code>/paper &lt;id or link&gt;</code>"
    )

    await emu.press(card, buttons(card)[0]["callback_data"])  # "Abstract": a new message
    abstract = await emu.reply(chat)
    assert "it beats &lt;baselines&gt;" in html(abstract)
    await emu.eventually("answerCallbackQuery")
    assert await emu.calls("editMessageText") == []

    await emu.send("/search diffusion models", PRIVATE)
    assert "<b>Papers matching “diffusion + models”</b>" in html(await emu.reply(chat))
    # Core reads the words, as on every platform: quotes keep a phrase together.
    await emu.send('/search "graph  neural" “nets”', PRIVATE)
    assert "<b>Papers matching “graph neural + nets”</b>" in html(await emu.reply(chat))


async def test_group_commands_addressed_to_this_bot_only(tg: Harness):
    emu, chat = tg.emu, GROUP["id"]
    await emu.send("/top@TestNameBot 2", GROUP)
    assert "<b>Top 2 papers — trending</b>" in html(await emu.reply(chat))
    await emu.send("/top@OtherBot", GROUP)
    await emu.send("/help@TestNameBot", GROUP)
    assert "I tell you" in html(await emu.reply(chat))
    await asyncio.sleep(0.2)
    assert len(await emu.calls("sendMessage")) == 2  # nothing for /top@OtherBot
    assert await emu.calls("getChatMember") == []  # only admin-only commands ask


async def test_group_admin_only_command(tg: Harness):
    emu, chat = tg.emu, SUPERGROUP["id"]
    await emu.send("/subscribe", SUPERGROUP, USER)
    assert "Only an admin of this chat can use /subscribe" in html(await emu.reply(chat))
    await emu.set_member(chat, ADMIN["id"], "administrator")
    await emu.send("/subscribe@TestNameBot 09:00", SUPERGROUP, ADMIN)
    assert "Subscribed this chat" in html(await emu.reply(chat))
    lookups = [
        (c["params"]["chat_id"], c["params"]["user_id"]) for c in await emu.calls("getChatMember")
    ]
    assert lookups == [(str(chat), str(USER["id"])), (str(chat), str(ADMIN["id"]))]

    anonymous = command_message("/subscribe", SUPERGROUP, sender_chat=SUPERGROUP)
    anonymous["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    await emu.update({"message": anonymous})
    assert "Subscribed this chat" in html(await emu.reply(chat))
    assert len(await emu.calls("getChatMember")) == 2


async def test_channel_post_commands(tg: Harness):
    emu, chat = tg.emu, CHANNEL["id"]
    await emu.update(channel_post_update("/top 1"))
    assert "<b>Top 1 papers — trending</b>" in html(await emu.reply(chat))
    await emu.update(channel_post_update("/subscribe"))
    assert "Subscribed this chat" in html(await emu.reply(chat))
    assert await emu.calls("getChatMember") == []


async def test_handler_error_is_logged_and_apologised_for(tg: Harness, caplog):
    with caplog.at_level(logging.ERROR, logger="adapters.telegram"):
        await tg.emu.send("/boom", PRIVATE)
        assert (await tg.emu.reply(PRIVATE["id"]))["text"] == APOLOGY
    assert "handling a Telegram update failed" in caplog.text


async def test_removal_and_migration_become_chat_events(tg: Harness):
    kicked = {
        "chat": GROUP,
        "from": ADMIN,
        "date": 1_700_000_000,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 666, "is_bot": True, "first_name": "B"},
        },
        "new_chat_member": {
            "status": "kicked",
            "until_date": 0,
            "user": {"id": 666, "is_bot": True, "first_name": "B"},
        },
    }
    await tg.emu.update({"my_chat_member": kicked})
    migrated = {"message_id": 3, "date": 1_700_000_000, "chat": GROUP, "from": ADMIN}
    await tg.emu.update({"message": {**migrated, "migrate_to_chat_id": SUPERGROUP["id"]}})
    for _ in range(100):
        if len(tg.events) == 2:
            break
        await asyncio.sleep(0.05)
    assert set(tg.events) == {
        ChatGone(ChatRef("telegram", str(GROUP["id"])), "kicked"),
        ChatMoved(
            ChatRef("telegram", str(GROUP["id"])), ChatRef("telegram", str(SUPERGROUP["id"]))
        ),
    }
