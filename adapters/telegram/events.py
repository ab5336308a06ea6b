"""Chat lifecycle events Telegram tells us about, handed to the engine (digests act on them).

The events are core's (core/events.py): `ChatGone` deactivates a chat's subscription,
`ChatMoved` re-keys it. This module decides which Telegram errors and updates mean which.
"""

from __future__ import annotations

import logging
from typing import Literal

from telegram.error import BadRequest, ChatMigrated, Forbidden

from core.events import ChatEvent, ChatGone, ChatMoved, OnChatEvent
from core.faults import log_failure
from core.models import ChatRef

logger = logging.getLogger(__name__)

GoneReason = Literal["blocked", "kicked", "left", "deactivated", "deleted", "forbidden"]


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
    except Exception as exc:
        log_failure(logger, exc, "on_chat_event failed for %s", event)


__all__ = ["ChatEvent", "ChatGone", "ChatMoved", "GoneReason", "OnChatEvent"]
