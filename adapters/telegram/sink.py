"""The digest sender's Telegram side: post a digest, turn the Bot API's answer into an outcome."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from adapters.telegram.events import gone_reason, telegram_chat
from adapters.telegram.outbox import send_rendered
from adapters.telegram.pacing import retry_after_seconds
from adapters.telegram.render import render_reply
from core.delivery import ChatGone, ChatMoved, DeliveryError, RetryLater
from core.models import ChatRef, Platform
from core.replies import Reply

logger = logging.getLogger(__name__)

NETWORK_RETRY_SECONDS = 30.0

# 400 answers that mean the chat, not the message, is the problem: retrying cannot help.
_GONE_ON_BAD_REQUEST = (
    ("chat not found", "chat not found"),
    ("peer_id_invalid", "chat not found"),
    ("chat_write_forbidden", "no right to post"),
    ("need administrator rights", "no right to post"),
    ("not enough rights", "no right to post"),
    ("have no rights to send", "no right to post"),
    ("group chat was deactivated", "deactivated"),
)


class TelegramDigestSink:
    """Posts digests to Telegram chats by id, as HTML with link previews off.

    Pass the application's bot (`app.bot` from `build_application`): its rate limiter paces
    every call (about 30 messages a second overall, 20 a minute per group) and waits out
    Telegram's `RetryAfter` a few times, so this class never sleeps. What is still failing
    after that is raised as a `DeliveryError` for the sender:

    * `ChatGone`: the bot was blocked, kicked or may not post, or the chat no longer exists.
    * `ChatMoved`: a group became a supergroup; the sender re-keys it and sends there.
    * `RetryLater`: flood control, or the network. A send that timed out may still have been
      delivered; it is retried anyway, so a slow Bot API can double that one digest. DESIGN.md
      section 6 accepts repeats of in-flight deliveries, and a lost digest is worse.
    * `DeliveryError`: any other 400, i.e. Telegram rejected the message itself (our bug);
      sending it again would fail the same way, so it is not retried.

    A digest too long for one message goes out in several; if a later one fails, the error is
    raised all the same, so a retry repeats the first part rather than losing the rest.
    """

    platform: Platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def publish(self, chat: ChatRef, reply: Reply) -> str | None:
        """Send `reply` to `chat`; return the id of its (first) message.

        Raises:
            ChatGone, ChatMoved, RetryLater, DeliveryError: see the class.
            telegram.error.TelegramError: an answer none of those explain (an invalid token);
                the sender retries those with backoff.
        """
        messages = [replace(m, disable_preview=True) for m in render_reply(reply)]
        try:
            sent = await send_rendered(self._bot, _chat_id(chat), messages)
        except TelegramError as exc:
            error = delivery_error(exc)
            if error is None:
                raise
            # A rejected message is our bug; the other outcomes are the chat's or the network's.
            level = logging.ERROR if type(error) is DeliveryError else logging.WARNING
            logger.log(level, "digest to telegram chat %s failed: %s", chat.chat_id, error)
            raise error from exc
        return str(sent[0].message_id) if sent else None


def delivery_error(error: TelegramError) -> DeliveryError | None:
    """What the sender should do after `error`, or None when it is not a delivery outcome."""
    # BadRequest subclasses NetworkError, so it is matched first.
    if isinstance(error, ChatMigrated):
        return ChatMoved(telegram_chat(error.new_chat_id))
    if isinstance(error, RetryAfter):
        return RetryLater(retry_after_seconds(error), "Telegram flood control")
    if isinstance(error, Forbidden):
        return ChatGone(gone_reason(error.message))
    if isinstance(error, BadRequest):
        text = error.message.lower()
        for needle, reason in _GONE_ON_BAD_REQUEST:
            if needle in text:
                return ChatGone(reason)
        return DeliveryError(f"Telegram rejected the message: {error.message}")
    if isinstance(error, NetworkError):  # TimedOut included: see TelegramDigestSink
        return RetryLater(NETWORK_RETRY_SECONDS, f"network: {error.message}")
    return None


def _chat_id(chat: ChatRef) -> int | str:
    # The rate limiter (retry.py) applies the per-group limit to negative ids and @names; a
    # private chat's id goes out as an int, as the Bot API documents it, with the overall
    # limit only.
    text = chat.chat_id
    return int(text) if text.removeprefix("-").isdigit() else text
