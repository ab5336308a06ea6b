"""Discord adapter (discord.py): slash commands, embeds, buttons and a digest sink.

The composition root calls `build_bot` and `run_bot`, and passes `DiscordDigestSink(bot,
on_chat_event)` to the digest sender; `ChatGone` events arrive through the `on_chat_event` callback.
"""

from adapters.discord.app import build_bot, run_bot, sync_commands
from adapters.discord.events import ChatEvent, ChatEventCallback, ChatGone
from adapters.discord.render import render_reply
from adapters.discord.sink import DiscordDigestSink

__all__ = [
    "ChatEvent",
    "ChatEventCallback",
    "ChatGone",
    "DiscordDigestSink",
    "build_bot",
    "render_reply",
    "run_bot",
    "sync_commands",
]
