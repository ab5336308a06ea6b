"""Send and edit rendered messages; shared by the command handlers and the digest sink."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest

from adapters.telegram.render import RenderedMessage

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_rendered(
    bot: Bot,
    chat_id: int | str,
    messages: Sequence[RenderedMessage],
    *,
    reply_to: int | None = None,
) -> list[Message]:
    """Send `messages` in order as HTML; the first one replies to `reply_to` if it still exists.

    Raises:
        telegram.error.TelegramError: what the Bot API answered; the caller maps chat faults
            (Forbidden, ChatMigrated) with `events.chat_event_for`.
    """
    sent = []
    for i, message in enumerate(messages):
        reply = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None and i == 0
            else None
        )
        sent.append(
            await bot.send_message(
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=message.keyboard,
                link_preview_options=_NO_PREVIEW if message.disable_preview else None,
                reply_parameters=reply,
            )
        )
    return sent


async def edit_rendered(bot: Bot, target: Message, messages: Sequence[RenderedMessage]) -> None:
    """Replace `target` with the first message; any further ones are sent after it."""
    first, *rest = messages
    try:
        await bot.edit_message_text(
            first.text,
            chat_id=target.chat_id,
            message_id=target.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=first.keyboard,
            link_preview_options=_NO_PREVIEW if first.disable_preview else None,
        )
    except BadRequest as exc:
        # Pressing the button of the page already shown changes nothing; Telegram says so as 400.
        if "not modified" not in exc.message.lower():
            raise
    if rest:
        await send_rendered(bot, target.chat_id, rest)
