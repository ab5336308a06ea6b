"""The digest sender's Discord side: post a digest to a channel, map failures to outcomes."""

from __future__ import annotations

import logging

import aiohttp
import discord
from discord.utils import MISSING

from adapters.discord.buttons import build_view
from adapters.discord.events import ChatEventCallback, ChatGone
from adapters.discord.render import render_reply
from core import delivery
from core.faults import log_failure
from core.models import ChatRef, Platform
from core.replies import Reply

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
# Discord's JSON error codes for a bot that may see a channel but lacks a right there (Send
# Messages, Embed Links...): Missing Access and Missing Permissions. They come with a 403, or a
# 400 for a message whose embeds it may not post; either way every later digest would fail too.
PERMISSION_CODES = frozenset({50001, 50013})
MISSING_PERMISSIONS = (
    "the bot lacks permissions in this channel (it needs View Channel, Send Messages and "
    "Embed Links)"
)


class DiscordDigestSink:
    """Sends replies to Discord channels by id; the digest sender's Discord side.

    Rate limits are discord.py's: it waits out 429s per bucket itself, so this class never
    sleeps. What still fails is raised as a `core.delivery.DeliveryError`:

    * `ChatGone` for 403 Forbidden or 404 Not Found (also reported to `on_chat_event`, which the
      Discord adapter uses for channels deleted or servers left), or a channel that cannot hold
      messages. A refusal for missing permissions (any status) is a `ChatGone` that says so:
      the sender pauses the subscription, and `/settings` shows why.
    * a plain `DeliveryError` for any other 4xx: Discord refused the message itself.
    * `RetryLater` for 5xx, a rate limit longer than discord.py would wait, or the network.
      A send that timed out may have arrived; retrying may double it, which DESIGN.md
      section 6 accepts for in-flight deliveries.

    A reply rendered as several messages is raised on the first failure, so a retry repeats the
    messages already sent rather than losing the rest.
    """

    platform: Platform = "discord"

    def __init__(
        self, client: discord.Client, on_chat_event: ChatEventCallback | None = None
    ) -> None:
        self._client = client
        self._on_chat_event = on_chat_event

    async def publish(self, chat: ChatRef, reply: Reply) -> str | None:
        """Send `reply` to the channel `chat`; return the id of its first message.

        Raises:
            core.delivery.ChatGone, core.delivery.RetryLater: see the class.
        """
        try:
            return await self._send(int(chat.chat_id), reply)
        except discord.HTTPException as exc:
            if exc.code in PERMISSION_CODES:
                logger.warning("discord channel %s: %s", chat.chat_id, exc.text)
                raise delivery.ChatGone(MISSING_PERMISSIONS) from exc
            raise await self._refused(chat, exc) from exc
        except discord.RateLimited as exc:
            raise delivery.RetryLater(exc.retry_after, "Discord rate limit") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise delivery.RetryLater(RETRY_SECONDS, f"network: {exc!r}") from exc

    async def _refused(self, chat: ChatRef, exc: discord.HTTPException) -> delivery.DeliveryError:
        """The error a refused send stands for."""
        if isinstance(exc, discord.Forbidden):
            return await self._gone(ChatGone(chat, "forbidden"), exc)
        if isinstance(exc, discord.NotFound):
            return await self._gone(ChatGone(chat, "not_found"), exc)
        if 400 <= exc.status < 500 and exc.status != 429:
            # Discord refused the message itself (a malformed embed): sending it again would
            # fail the same way.
            return delivery.DeliveryError(f"Discord refused the message ({exc.status})")
        return delivery.RetryLater(RETRY_SECONDS, f"Discord answered {exc.status}")

    async def _send(self, channel_id: int, reply: Reply) -> str | None:
        channel = await self._channel(channel_id)
        first: discord.Message | None = None
        for message in render_reply(reply):
            sent = await channel.send(
                message.content,
                embeds=message.embeds,
                view=build_view(message.buttons) or MISSING,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            first = first or sent
        return None if first is None else str(first.id)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            # A category or forum id: it will never hold a digest.
            raise delivery.ChatGone("not a text channel")
        return channel

    async def _gone(self, event: ChatGone, exc: discord.HTTPException) -> delivery.ChatGone:
        logger.warning(
            "discord channel %s is gone (%s): %s", event.chat.chat_id, event.reason, exc.text
        )
        if self._on_chat_event is not None:
            try:
                await self._on_chat_event(event)
            except Exception as exc:  # the sender deactivates the chat anyway, from the error
                log_failure(logger, exc, "on_chat_event failed for %s", event)
        return delivery.ChatGone(_REASONS.get(event.reason, event.reason))


_REASONS: dict[str, str] = {
    "forbidden": "forbidden",
    "not_found": "not found",
    "channel_deleted": "channel deleted",
    "removed_from_guild": "removed from server",
}
