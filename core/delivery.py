"""How a platform tells the digest sender what happened to a message."""

from __future__ import annotations

from typing import Protocol

from core.models import ChatRef, Platform
from core.replies import Reply


class DeliveryError(Exception):
    """A digest could not be sent; subclasses say what to do about it."""


class ChatGone(DeliveryError):
    """The chat blocked or removed the bot, or no longer exists: stop sending to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMoved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup): send there instead."""

    def __init__(self, new_chat: ChatRef) -> None:
        super().__init__(f"moved to {new_chat.chat_id}")
        self.new_chat = new_chat


class RetryLater(DeliveryError):
    """The platform asked us to wait (a rate limit) or failed for now."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class DigestSink(Protocol):
    """Sends a digest to chats of one platform."""

    platform: Platform

    async def publish(self, chat: ChatRef, reply: Reply) -> str | None:
        """Send `reply` to `chat` and return the platform's message id, if it gives one.

        Raises:
            ChatGone, ChatMoved, RetryLater: the send failed in a way the sender acts on.
        """
        ...
