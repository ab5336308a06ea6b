"""Who may administer a chat (subscribe it to a digest, change its settings)."""

from __future__ import annotations

import logging
from typing import Protocol

from telegram import ChatMember, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

logger = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


class MemberLookup(Protocol):
    """The one Bot API call the check needs (a `telegram.Bot`, or a fake in tests)."""

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> ChatMember:
        """Return what the chat says about `user_id`."""
        ...


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
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        logger.warning("getChatMember failed for chat %s: %s", chat.id, exc)
        return False
    return member.status in _ADMIN_STATUSES
