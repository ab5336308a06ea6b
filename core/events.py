"""What platforms tell the engine about chats outside any command, and what it does about it.

The adapters report these while serving commands (a `my_chat_member` update, a deleted Discord
channel); the digest sender raises their counterparts in core/delivery.py while sending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.follows import FollowLists
from core.models import ChatRef
from core.subscriptions import SubscriptionStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The bot can no longer write to `chat`: blocked, removed, or the chat was deleted."""

    chat: ChatRef
    reason: str


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """A group became a supergroup; everything kept for `old` now belongs to `new`."""

    old: ChatRef
    new: ChatRef


ChatEvent = ChatGone | ChatMoved
OnChatEvent = Callable[[ChatEvent], Awaitable[None]]


async def apply_chat_event(
    store: SubscriptionStore, event: ChatEvent, follows: FollowLists | None = None
) -> None:
    """Deactivate a gone chat's digest, or carry a moved chat's digest and follows over."""
    match event:
        case ChatMoved(old=old, new=new):
            logger.info("chat %s:%s moved to %s", old.platform, old.chat_id, new.chat_id)
            await store.move(old, new)
            if follows is not None:
                await follows.move(old, new)
        case ChatGone(chat=chat, reason=reason):
            logger.info("chat %s:%s is gone (%s)", chat.platform, chat.chat_id, reason)
            await store.deactivate(chat, reason)
