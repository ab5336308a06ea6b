"""What the Discord adapter tells core about chats, beyond replies to commands.

The composition root passes an `on_chat_event` callback to `build_bot` and forwards the events
to the subscription store (bot/digests.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from core.models import ChatRef

GoneReason = Literal["forbidden", "not_found", "channel_deleted", "removed_from_guild"]


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The bot can no longer post to a chat: core should deactivate its subscription.

    `reason` says why: Discord answered 403 Forbidden or 404 Not Found for the channel,
    the channel was deleted, or the bot was removed from (or banned in) its server.
    """

    chat: ChatRef
    reason: GoneReason


ChatEvent = ChatGone
ChatEventCallback = Callable[[ChatEvent], Awaitable[None]]


def channel_chat(channel_id: int) -> ChatRef:
    """The neutral reference to a Discord channel (a DM channel too)."""
    return ChatRef("discord", str(channel_id))
