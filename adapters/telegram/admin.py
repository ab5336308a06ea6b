"""Who may administer a chat (subscribe it to a digest, change its settings).

Usually the chat the command was sent in. From a private chat, an admin may instead name a group
or channel as the first argument (`/subscribe @channel 07:30 ...`), so that nothing has to be
posted in the channel itself (DESIGN.md section 6).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Protocol

from telegram import ChatFullInfo, ChatMember, ChatMemberAdministrator, ChatMemberRestricted, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from adapters.telegram.events import telegram_chat
from core.faults import describe_error
from core.models import ChatRef
from core.registry import Request
from core.replies import Problem

logger = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
# Supergroup and channel ids; a basic group's short id cannot be told from a typo.
_CHAT_ID = re.compile(r"-100\d+")
_ACTIONS = {
    "subscribe": "subscribe it",
    "unsubscribe": "unsubscribe it",
    "follow": "change whom it follows",
    "unfollow": "change whom it follows",
}


class MemberLookup(Protocol):
    """The one Bot API call the check needs (a `telegram.Bot`, or a fake in tests)."""

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        """Return what the chat says about `user_id`."""
        ...


class ChatLookup(MemberLookup, Protocol):
    """What checking a chat named from a private chat needs (a `telegram.Bot`, or a fake)."""

    @property
    def id(self) -> int:
        """The bot's own user id."""
        ...

    async def get_chat(self, chat_id: int | str) -> ChatFullInfo:
        """Return the chat `@username` or id names."""
        ...


class Refused(Exception):
    """The sender may not administer the named chat from here; the message says why."""


async def may_administer(bot: MemberLookup, update: Update) -> bool:
    """Whether whoever sent `update` may administer its chat.

    A private chat belongs to its user. Only a channel's admins can post in it, so a channel post
    qualifies; a button pressed under a channel message does not, as any subscriber can press it.
    In groups an anonymous admin posts as the group itself (`sender_chat == chat`); anyone else
    is asked about with getChatMember. A failed lookup means no.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE or update.channel_post is not None:
        return True
    message = update.message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    return await is_admin(bot, chat.id, user.id)


async def is_admin(bot: MemberLookup, chat_id: int | str, user_id: int) -> bool:
    """Whether `user_id` is the creator or an administrator of the chat; a failed lookup is no."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        logger.warning("getChatMember failed for chat %s: %s", chat_id, describe_error(exc))
        return False
    return member.status in _ADMIN_STATUSES


def names_chat(arg: str) -> bool:
    """Whether a first argument names a chat: `@username` or a `-100…` id."""
    return (arg.startswith("@") and len(arg) > 1) or _CHAT_ID.fullmatch(arg) is not None


async def admin_request(
    bot: ChatLookup, update: Update, request: Request, command: str
) -> Request | Problem:
    """`request` with `is_admin` settled, re-aimed at a chat named from a private chat.

    Returns:
        The request to dispatch, or a one-line `Problem` saying why the named chat is refused.
    """
    chat, user = update.effective_chat, update.effective_user
    named = request.args[0] if request.args else ""
    if chat is None or chat.type != ChatType.PRIVATE or user is None or not names_chat(named):
        return replace(request, is_admin=await may_administer(bot, update))
    try:
        target = await resolve_target(bot, user.id, named, command)
    except Refused as exc:
        logger.info("user %s may not /%s %s: %s", user.id, command, named, exc)
        return Problem(str(exc))
    return Request(target, request.user_id, request.args[1:], is_admin=True)


async def resolve_target(bot: ChatLookup, user_id: int, name: str, command: str) -> ChatRef:
    """The chat `name` refers to, if the bot may post there and `user_id` administers it.

    The bot is checked first: in a channel where it is not an admin, Telegram will not tell it
    who the admins are, and "only an admin can..." would send a real admin the wrong way.

    Raises:
        Refused: the chat is unknown or private, the bot may not post, or the user is no admin.
    """
    try:
        chat = await bot.get_chat(name if name.startswith("@") else int(name))
    except TelegramError as exc:
        raise Refused(f"I can't find {name}.") from exc
    if chat.type == ChatType.PRIVATE:
        raise Refused(f"{name} is a person, not a group or channel.")
    if not await bot_may_post(bot, chat):
        if chat.type == ChatType.CHANNEL:
            raise Refused(
                f"I can't post in {name}: make me an admin with the right to post messages."
            )
        raise Refused(f"I can't post in {name}: add me to it and let me send messages.")
    if not await is_admin(bot, chat.id, user_id):
        action = _ACTIONS.get(command, f"use /{command} for it")
        raise Refused(f"Only an admin of {name} can {action}.")
    return telegram_chat(chat.id)


async def bot_may_post(bot: ChatLookup, chat: ChatFullInfo) -> bool:
    """Whether the bot can send messages to `chat`; a failed lookup is no.

    In a channel only admins with `can_post_messages` can; in a group any member who is not
    muted can.
    """
    try:
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError as exc:
        logger.info("getChatMember for the bot failed in chat %s: %s", chat.id, describe_error(exc))
        return False
    if chat.type == ChatType.CHANNEL:
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return member.status in (*_ADMIN_STATUSES, ChatMemberStatus.MEMBER)
