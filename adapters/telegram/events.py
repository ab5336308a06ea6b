"""Chat lifecycle events Telegram tells us about, handed to the engine (digests act on them).

These are plain frozen values so that core can own them later without touching the adapter's
callers: `ChatGone` deactivates a chat's subscription, `ChatMoved` re-keys it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from telegram.error import BadRequest, ChatMigrated, Forbidden

from core.models import ChatRef

logger = logging.getLogger(__name__)

GoneReason = Literal["blocked", "kicked", "left", "deactivated", "deleted", "forbidden"]


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The bot can no longer write to `chat`: blocked, removed, or the chat was deleted."""

    chat: ChatRef
    reason: GoneReason


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """A group became a supergroup; everything kept for `old` now belongs to `new`."""

    old: ChatRef
    new: ChatRef


ChatEvent = ChatGone | ChatMoved
OnChatEvent = Callable[[ChatEvent], Awaitable[None]]


def telegram_chat(chat_id: int | str) -> ChatRef:
    """The `ChatRef` of a Telegram chat id."""
    return ChatRef("telegram", str(chat_id))


def gone_reason(description: str) -> GoneReason:
    """Classify a Forbidden/BadRequest description like "Forbidden: bot was blocked by the user"."""
    text = description.lower()
    if "blocked" in text:
        return "blocked"
    if "kicked" in text:
        return "kicked"
    if "deactivated" in text:
        return "deactivated"
    if "not a member" in text or "left" in text:
        return "left"
    if "chat not found" in text or "deleted" in text:
        return "deleted"
    return "forbidden"


def chat_event_for(error: BaseException, chat_id: int | str) -> ChatEvent | None:
    """The lifecycle event a failed call to `chat_id` means, or None for other failures.

    Shared by the command handlers and the digest sink, which both send to chats that may be gone.
    """
    if isinstance(error, Forbidden):
        return ChatGone(telegram_chat(chat_id), gone_reason(error.message))
    if isinstance(error, ChatMigrated):
        return ChatMoved(telegram_chat(chat_id), telegram_chat(error.new_chat_id))
    # A deleted chat answers 400 "chat not found"; other BadRequests are our fault, not the chat's.
    if isinstance(error, BadRequest) and "chat not found" in error.message.lower():
        return ChatGone(telegram_chat(chat_id), "deleted")
    return None


async def report(on_chat_event: OnChatEvent | None, event: ChatEvent) -> None:
    """Hand `event` to the engine; its failures are logged, never raised into a handler."""
    logger.info("telegram chat event: %s", event)
    if on_chat_event is None:
        return
    try:
        await on_chat_event(event)
    except Exception:
        logger.exception("on_chat_event failed for %s", event)
