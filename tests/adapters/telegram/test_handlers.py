"""Update-to-Request translation, the admin check, chat events and the error handler."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram import ChatMember, Update, User
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError

from adapters.telegram.admin import may_administer
from adapters.telegram.events import ChatEvent, ChatGone, ChatMoved, chat_event_for
from adapters.telegram.handlers import APOLOGY, addressed_to, request_from_update
from adapters.telegram.lifecycle import error_handler
from core.models import ChatRef
from core.registry import Request
from tests.adapters.telegram.updates import (
    ADMIN,
    BOT_USERNAME,
    CHANNEL,
    GROUP,
    PRIVATE,
    SUPERGROUP,
    USER,
    Json,
    channel_post_update,
    message_update,
)


def update_of(data: Json) -> Update:
    return Update.de_json(data, None)


def tg(chat_id: int) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


# ---------------------------------------------------------------- Update -> Request


def test_request_from_private_message():
    update = update_of(message_update("/top 3 week cs.LG", PRIVATE))
    request = request_from_update(update, ["3", "week", "cs.LG"], BOT_USERNAME)
    assert request == Request(tg(1001), "1001", ("3", "week", "cs.LG"))


def test_request_from_group_command_addressed_to_us():
    update = update_of(message_update("/top@TestNameBot 5", GROUP))
    assert request_from_update(update, ["5"], BOT_USERNAME) == Request(tg(-2001), "1001", ("5",))


def test_request_from_group_addressing_is_case_insensitive():
    update = update_of(message_update("/top@testnamebot", SUPERGROUP))
    assert request_from_update(update, [], BOT_USERNAME) == Request(tg(-1002003), "1001")


def test_request_ignores_command_for_another_bot():
    update = update_of(message_update("/top@OtherBot 5", GROUP))
    assert request_from_update(update, ["5"], BOT_USERNAME) is None


def test_request_from_channel_post_uses_the_chat():
    update = update_of(channel_post_update("/top"))
    assert request_from_update(update, [], BOT_USERNAME) == Request(tg(-1003004), "-1003004")


def test_request_from_anonymous_admin_uses_the_group():
    data = message_update("/top", SUPERGROUP, sender_chat=SUPERGROUP)
    data["message"]["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    request = request_from_update(update_of(data), [], BOT_USERNAME)
    assert request is not None
    assert request.user_id == "-1002003"


def test_request_is_none_without_a_message():
    update = update_of({"update_id": 1, "my_chat_member": None})
    assert request_from_update(update, [], BOT_USERNAME) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/top", True), ("/top@TestNameBot x", True), ("/top@OtherBot", False), ("/top@", False)],
)
def test_addressed_to(text, expected):
    message = update_of(message_update(text, GROUP)).message
    assert message is not None
    assert addressed_to(message, BOT_USERNAME) is expected


# ---------------------------------------------------------------- admin helper


class FakeMembers:
    """A bot whose getChatMember answers from a Json and records each call."""

    def __init__(self, statuses: dict[tuple[int, int], str] | None = None, error=None):
        self.statuses = statuses or {}
        self.error = error
        self.calls: list[tuple[int | str, int]] = []

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        self.calls.append((chat_id, user_id))
        if self.error is not None:
            raise self.error
        status = self.statuses.get((int(chat_id), user_id), ChatMember.MEMBER)
        return ChatMember(User(user_id, "U", False), status)


async def test_may_administer_private_chat_without_lookup():
    bot = FakeMembers()
    assert await may_administer(bot, update_of(message_update("/subscribe", PRIVATE)))
    assert bot.calls == []


async def test_may_administer_channel_post_without_lookup():
    bot = FakeMembers()
    assert await may_administer(bot, update_of(channel_post_update("/subscribe")))
    assert bot.calls == []


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (ChatMember.OWNER, True),
        (ChatMember.ADMINISTRATOR, True),
        (ChatMember.MEMBER, False),
        (ChatMember.RESTRICTED, False),
        (ChatMember.LEFT, False),
    ],
)
async def test_may_administer_group_asks_get_chat_member(status, allowed):
    bot = FakeMembers({(-2001, 1002): status})
    update = update_of(message_update("/subscribe", GROUP, ADMIN))
    assert await may_administer(bot, update) is allowed
    assert bot.calls == [(-2001, 1002)]


async def test_may_administer_anonymous_admin_posting_as_the_group():
    bot = FakeMembers()
    data = message_update("/subscribe", SUPERGROUP, sender_chat=SUPERGROUP)
    data["message"]["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    assert await may_administer(bot, update_of(data))
    assert bot.calls == []


async def test_may_administer_refuses_a_user_posting_as_another_channel():
    bot = FakeMembers()
    update = update_of(message_update("/subscribe", SUPERGROUP, sender_chat=CHANNEL))
    assert not await may_administer(bot, update)


async def test_may_administer_button_in_channel_asks_get_chat_member():
    bot = FakeMembers({(-1003004, 1001): ChatMember.MEMBER})
    message = {"message_id": 5, "date": 1_700_000_000, "chat": CHANNEL, "text": "list"}
    query = {"id": "1", "from": USER, "chat_instance": "c", "data": "x", "message": message}
    assert not await may_administer(bot, update_of({"update_id": 1, "callback_query": query}))
    assert bot.calls == [(-1003004, 1001)]


async def test_may_administer_says_no_when_lookup_fails():
    bot = FakeMembers(error=Forbidden("Forbidden: bot is not a member of the group chat"))
    assert not await may_administer(bot, update_of(message_update("/subscribe", GROUP)))


# ---------------------------------------------------------------- chat events and errors


@pytest.mark.parametrize(
    ("error", "event"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), ChatGone(tg(-5), "blocked")),
        (Forbidden("Forbidden: bot was kicked from the group chat"), ChatGone(tg(-5), "kicked")),
        (Forbidden("Forbidden: user is deactivated"), ChatGone(tg(-5), "deactivated")),
        (Forbidden("Forbidden: bot is not a member of the channel chat"), ChatGone(tg(-5), "left")),
        (BadRequest("Chat not found"), ChatGone(tg(-5), "deleted")),
        (ChatMigrated(-1009), ChatMoved(tg(-5), tg(-1009))),
        (BadRequest("Message is too long"), None),
        (NetworkError("connection reset"), None),
    ],
)
def test_chat_event_for(error, event):
    assert chat_event_for(error, -5) == event


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[int | str, str]] = []

    async def send_message(self, chat_id: int | str, text: str, **kwargs: Any) -> None:
        self.sent.append((chat_id, text))


async def run_error_handler(error: Exception, update: object, on_event=None) -> FakeSender:
    bot = FakeSender()
    context = cast(Any, SimpleNamespace(error=error, bot=bot))
    await error_handler(on_event)(update, context)
    return bot


async def test_error_handler_reports_blocked_chat_and_does_not_apologise():
    events: list[ChatEvent] = []

    async def collect(event: ChatEvent) -> None:
        events.append(event)

    update = update_of(message_update("/top", PRIVATE))
    bot = await run_error_handler(
        Forbidden("Forbidden: bot was blocked by the user"), update, collect
    )
    assert events == [ChatGone(tg(1001), "blocked")]
    assert bot.sent == []


async def test_error_handler_reports_migration():
    events: list[ChatEvent] = []

    async def collect(event: ChatEvent) -> None:
        events.append(event)

    await run_error_handler(
        ChatMigrated(-1002001), update_of(message_update("/top", GROUP)), collect
    )
    assert events == [ChatMoved(tg(-2001), tg(-1002001))]


async def test_error_handler_logs_and_apologises(caplog):
    update = update_of(message_update("/top", GROUP))
    with caplog.at_level(logging.ERROR, logger="adapters.telegram"):
        bot = await run_error_handler(RuntimeError("render exploded"), update)
    assert bot.sent == [(-2001, APOLOGY)]
    (record,) = [r for r in caplog.records if r.name == "adapters.telegram.lifecycle"]
    assert record.exc_info is not None
    assert "render exploded" in str(record.exc_info[1])


async def test_error_handler_leaves_a_failed_button_press_to_its_answer():
    message = {"message_id": 5, "date": 1_700_000_000, "chat": GROUP, "text": "list"}
    query = {"id": "1", "from": USER, "chat_instance": "c", "data": "top", "message": message}
    update = update_of({"update_id": 1, "callback_query": query})
    bot = await run_error_handler(RuntimeError("edit failed"), update)
    assert bot.sent == []  # the query was answered with the apology; the group is not spammed


async def test_error_handler_survives_a_failing_event_callback(caplog):
    async def broken(event: ChatEvent) -> None:
        raise RuntimeError("database down")

    update = update_of(message_update("/top", PRIVATE))
    await run_error_handler(Forbidden("Forbidden: bot was blocked by the user"), update, broken)
    assert "on_chat_event failed" in caplog.text


async def test_error_handler_without_update_only_logs(caplog):
    bot = await run_error_handler(NetworkError("polling hiccup"), None)
    assert bot.sent == []
    assert "polling hiccup" in caplog.text
