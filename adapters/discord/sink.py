"""Posting a reply to a channel outside any interaction (digests), with gone chats reported."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord.utils import MISSING

from adapters.discord.buttons import build_view
from adapters.discord.events import ChatEventCallback, ChatGone
from adapters.discord.render import render_reply
from core.models import ChatRef
from core.replies import Reply

logger = logging.getLogger(__name__)


class DiscordDigestSink:
    """Sends replies to Discord channels by id; the digest sender's Discord side.

    Rate limits are discord.py's: it waits out 429s per bucket itself. A channel that answers
    403 Forbidden or 404 Not Found is reported as `ChatGone`; other errors are raised so that
    the delivery is not marked sent.
    """

    platform: Literal["discord"] = "discord"

    def __init__(
        self, client: discord.Client, on_chat_event: ChatEventCallback | None = None
    ) -> None:
        self._client = client
        self._on_chat_event = on_chat_event

    async def publish(self, chat: ChatRef, reply: Reply) -> bool:
        """Send `reply` to the channel `chat`; False when the channel is gone or forbidden.

        Raises:
            discord.HTTPException: any other failure, e.g. Discord answering 5xx.
        """
        try:
            channel = await self._channel(int(chat.chat_id))
            for message in render_reply(reply):
                await channel.send(
                    message.content,
                    embeds=message.embeds,
                    view=build_view(message.buttons) or MISSING,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except discord.Forbidden as exc:
            await self._gone(ChatGone(chat, "forbidden"), exc)
            return False
        except discord.NotFound as exc:
            await self._gone(ChatGone(chat, "not_found"), exc)
            return False
        return True

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise TypeError(f"channel {channel_id} cannot receive messages")
        return channel

    async def _gone(self, event: ChatGone, exc: discord.HTTPException) -> None:
        logger.warning(
            "discord channel %s is gone (%s): %s", event.chat.chat_id, event.reason, exc.text
        )
        if self._on_chat_event is not None:
            await self._on_chat_event(event)
