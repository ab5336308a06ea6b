"""Administering a group or channel named from a private chat: `/subscribe @channel ...`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import (
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    Update,
    User,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.telegram.admin import ChatLookup, admin_request, names_chat
from core.models import ChatRef
from core.registry import Request
from core.replies import Problem
from tests.adapters.telegram.updates import GROUP, PRIVATE, Json, message_update

BOT_ID = 666
USER_ID = PRIVATE["id"]
CHANNEL_ID = -1009001
BOT = User(BOT_ID, "Bot", True)
USER = User(USER_ID, "Ada", False)
ARGS = ("@somechannel", "07:30", "Europe/Berlin", "5", "cs.LG")


def admin(user: User, **rights: bool) -> ChatMemberAdministrator:
    granted: dict[str, Any] = dict.fromkeys(
        [
            "can_be_edited",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ],
        False,
    )
    return ChatMemberAdministrator(user, is_anonymous=False, **{**granted, **rights})


def restricted(user: User, *, can_send: bool, is_member: bool = True) -> ChatMemberRestricted:
    flags = [
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_manage_topics",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_edit_tag",
        "can_react_to_messages",
    ]
    denied: dict[str, Any] = dict.fromkeys(flags, False)
    forever = datetime(1970, 1, 1, tzinfo=UTC)
    return ChatMemberRestricted(
        user, is_member, until_date=forever, can_send_messages=can_send, **denied
    )


class FakeChats:
    """getChat and getChatMember answered from dicts; every call is recorded."""

    id = BOT_ID

    def __init__(
        self,
        chats: dict[int | str, ChatFullInfo],
        members: dict[tuple[int, int], ChatMember | TelegramError],
    ) -> None:
        self.chats = chats
        self.members = members
        self.calls: list[tuple[Any, ...]] = []

    async def get_chat(self, chat_id: int | str) -> ChatFullInfo:
        self.calls.append(("getChat", chat_id))
        if chat_id not in self.chats:
            raise BadRequest("Chat not found")
        return self.chats[chat_id]

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        self.calls.append(("getChatMember", chat_id, user_id))
        answer = self.members.get(
            (int(chat_id), user_id), ChatMemberMember(User(user_id, "U", False))
        )
        if isinstance(answer, TelegramError):
            raise answer
        return answer


def chat_info(chat_type: str, chat_id: int = CHANNEL_ID) -> ChatFullInfo:
    gifts = dict.fromkeys(
        [
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        ],
        False,
    )
    data = {"id": chat_id, "type": chat_type, "title": "Feed", "accent_color_id": 0}
    return ChatFullInfo.de_json(
        {**data, "max_reaction_count": 11, "accepted_gift_types": gifts}, None
    )


def channel_bot(user: ChatMember, bot: ChatMember | TelegramError, kind: str = "channel"):
    info = chat_info(kind)
    return FakeChats(
        {"@somechannel": info, CHANNEL_ID: info},
        {(CHANNEL_ID, BOT_ID): bot, (CHANNEL_ID, USER_ID): user},
    )


async def ask(bot: ChatLookup, args=ARGS, chat: Json = PRIVATE, command="subscribe"):
    update = Update.de_json(message_update(f"/{command} " + " ".join(args), chat), None)
    request = Request(ChatRef("telegram", str(chat["id"])), str(USER_ID), tuple(args))
    return await admin_request(bot, update, request, command)


@pytest.mark.parametrize(
    ("arg", "named"),
    [
        ("@somechannel", True),
        ("-1001234567890", True),
        ("@", False),
        ("-2001", False),
        ("07:30", False),
        ("cs.LG", False),
    ],
)
def test_names_chat(arg, named):
    assert names_chat(arg) is named


async def test_admin_of_channel_where_bot_posts_subscribes_it_from_a_private_chat():
    bot = channel_bot(ChatMemberOwner(USER, is_anonymous=False), admin(BOT, can_post_messages=True))
    assert await ask(bot) == Request(
        ChatRef("telegram", str(CHANNEL_ID)), str(USER_ID), ARGS[1:], is_admin=True
    )
    assert bot.calls == [
        ("getChat", "@somechannel"),
        ("getChatMember", CHANNEL_ID, BOT_ID),
        ("getChatMember", CHANNEL_ID, USER_ID),
    ]


async def test_numeric_channel_id_is_looked_up_as_an_int():
    bot = channel_bot(admin(USER), admin(BOT, can_post_messages=True))
    request = await ask(bot, (str(CHANNEL_ID), "09:00"))
    assert request == Request(ChatRef("telegram", str(CHANNEL_ID)), str(USER_ID), ("09:00",), True)
    assert bot.calls[0] == ("getChat", CHANNEL_ID)


async def test_unsubscribe_works_the_same_way():
    bot = channel_bot(admin(USER), admin(BOT, can_post_messages=True))
    request = await ask(bot, ("@somechannel",), command="unsubscribe")
    assert request == Request(ChatRef("telegram", str(CHANNEL_ID)), str(USER_ID), (), True)


async def test_plain_member_is_refused():
    bot = channel_bot(ChatMemberMember(USER), admin(BOT, can_post_messages=True))
    assert await ask(bot) == Problem("Only an admin of @somechannel can subscribe it.")


async def test_failed_member_lookup_is_refused():
    bot = channel_bot(
        Forbidden("Forbidden: member list is inaccessible"),  # type: ignore[arg-type]
        admin(BOT, can_post_messages=True),
    )
    assert await ask(bot, command="unsubscribe") == Problem(
        "Only an admin of @somechannel can unsubscribe it."
    )


@pytest.mark.parametrize(
    "bot_member",
    [
        ChatMemberMember(BOT),
        admin(BOT, can_post_messages=False),
        Forbidden("Forbidden: bot is not a member of the channel chat"),
    ],
)
async def test_channel_where_the_bot_cannot_post_is_refused(bot_member):
    bot = channel_bot(admin(USER), bot_member)
    assert await ask(bot) == Problem(
        "I can't post in @somechannel: make me an admin with the right to post messages."
    )
    assert ("getChatMember", CHANNEL_ID, USER_ID) not in bot.calls


@pytest.mark.parametrize(
    ("bot_member", "allowed"),
    [
        (ChatMemberMember(BOT), True),
        (admin(BOT), True),
        (restricted(BOT, can_send=True), True),
        (restricted(BOT, can_send=False), False),
        (restricted(BOT, can_send=True, is_member=False), False),
    ],
)
async def test_group_needs_the_bot_to_be_a_member_that_may_send(bot_member, allowed):
    bot = channel_bot(admin(USER), bot_member, kind="supergroup")
    result = await ask(bot)
    if allowed:
        assert isinstance(result, Request)
        assert result.chat == ChatRef("telegram", str(CHANNEL_ID))
    else:
        assert result == Problem(
            "I can't post in @somechannel: add me to it and let me send messages."
        )


async def test_unknown_chat_is_refused():
    bot = FakeChats({}, {})
    assert await ask(bot, ("@nosuchchannel", "09:00")) == Problem("I can't find @nosuchchannel.")


async def test_a_person_is_not_a_chat_to_subscribe():
    bot = FakeChats({"@someone": chat_info("private", 4242)}, {})
    assert await ask(bot, ("@someone",)) == Problem("@someone is a person, not a group or channel.")


async def test_without_a_named_chat_the_private_chat_itself_is_administered():
    bot = FakeChats({}, {})
    request = await ask(bot, ("07:30", "Europe/Berlin"))
    assert request == Request(
        ChatRef("telegram", str(USER_ID)), str(USER_ID), ("07:30", "Europe/Berlin"), is_admin=True
    )
    assert bot.calls == []


async def test_in_a_group_a_named_chat_is_just_an_argument():
    bot = FakeChats({}, {(GROUP["id"], USER_ID): admin(USER)})
    request = await ask(bot, ARGS, chat=GROUP)
    assert request == Request(ChatRef("telegram", str(GROUP["id"])), str(USER_ID), ARGS, True)
    assert bot.calls == [("getChatMember", GROUP["id"], USER_ID)]
