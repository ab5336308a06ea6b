"""What the Discord adapter tells core about chats, beyond replies to commands.

The events are core's (core/events.py); the composition root passes an `on_chat_event`
callback to `build_bot` that applies them to the subscription store.
"""

from __future__ import annotations

from typing import Literal

from core.events import ChatEvent, ChatGone, OnChatEvent
from core.models import ChatRef

GoneReason = Literal["forbidden", "not_found", "channel_deleted", "removed_from_guild"]


ChatEventCallback = OnChatEvent


def channel_chat(channel_id: int) -> ChatRef:
    """The neutral reference to a Discord channel (a DM channel too)."""
    return ChatRef("discord", str(channel_id))


__all__ = ["ChatEvent", "ChatEventCallback", "ChatGone", "GoneReason"]
