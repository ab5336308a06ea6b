"""Bot API update payloads for unit tests and the emulator, as Telegram sends them."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

BOT_USERNAME = "TestNameBot"  # what the emulator's getMe answers
USER: Json = {"id": 1001, "is_bot": False, "first_name": "Ada"}
ADMIN: Json = {"id": 1002, "is_bot": False, "first_name": "Grace"}
PRIVATE: Json = {"id": 1001, "type": "private", "first_name": "Ada"}
GROUP: Json = {"id": -2001, "type": "group", "title": "Reading group"}
SUPERGROUP: Json = {"id": -1002003, "type": "supergroup", "title": "ML papers"}
CHANNEL: Json = {"id": -1003004, "type": "channel", "title": "Paper feed"}


def command_message(text: str, chat: Json, sender: Json | None = USER, **extra: Any) -> Json:
    """A message whose first word is a bot command, with the entity PTB needs to see it."""
    message: Json = {
        "message_id": 10,
        "date": 1_700_000_000,
        "chat": chat,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    if sender is not None:
        message["from"] = sender
    message.update(extra)
    return message


def message_update(text: str, chat: Json, sender: Json | None = USER, **extra: Any) -> Json:
    return {"update_id": 1, "message": command_message(text, chat, sender, **extra)}


def channel_post_update(text: str, chat: Json = CHANNEL) -> Json:
    return {"update_id": 1, "channel_post": command_message(text, chat, None, sender_chat=chat)}
