"""Faults and chat lifecycle: the PTB error handler, group migrations, the bot being removed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, ContextTypes, MessageHandler, filters

from adapters.telegram.events import (
    ChatGone,
    ChatMoved,
    GoneReason,
    OnChatEvent,
    chat_event_for,
    report,
    telegram_chat,
)
from adapters.telegram.handlers import APOLOGY, Callback
from core.faults import describe_error

logger = logging.getLogger(__name__)

ErrorCallback = Callable[[object, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def error_handler(on_chat_event: OnChatEvent | None) -> ErrorCallback:
    """PTB error handler: chat faults become events; anything else is logged and apologised for.

    A user never meets silence: if a handler raised, they get a short apology (when the chat can
    still be written to). Tracebacks go to the log only.
    """

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if error is None:
            return
        chat = update.effective_chat if isinstance(update, Update) else None
        event = chat_event_for(error, chat.id) if chat is not None else None
        if event is not None:
            await report(on_chat_event, event)
            return
        logger.error("handling a Telegram update failed", exc_info=error)
        # A failed button press was already answered with the apology (handlers.button_callback).
        pressed = isinstance(update, Update) and update.callback_query is not None
        if chat is not None and not pressed:
            await _apologise(context.bot, chat.id)

    return on_error


async def _apologise(bot: Bot, chat_id: int) -> None:
    try:
        await bot.send_message(chat_id, APOLOGY)
    except TelegramError as exc:
        logger.warning("could not apologise to chat %s: %s", chat_id, describe_error(exc))


def lifecycle_handlers(
    on_chat_event: OnChatEvent | None,
) -> list[MessageHandler[ContextTypes.DEFAULT_TYPE, None] | ChatMemberHandler[Any, None]]:
    """Handlers that turn migrations and removals of the bot into chat events."""
    return [
        MessageHandler(filters.StatusUpdate.MIGRATE, _on_migrate(on_chat_event)),
        ChatMemberHandler(_on_my_member(on_chat_event), ChatMemberHandler.MY_CHAT_MEMBER),
    ]


def _on_migrate(on_chat_event: OnChatEvent | None) -> Callback:
    async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        # The old group gets `migrate_to_chat_id`, the new supergroup `migrate_from_chat_id`:
        # report the move once.
        if message is not None and message.migrate_to_chat_id is not None:
            old, new = message.chat_id, message.migrate_to_chat_id
            await report(on_chat_event, ChatMoved(telegram_chat(old), telegram_chat(new)))

    return migrated


def _on_my_member(on_chat_event: OnChatEvent | None) -> Callback:
    async def member_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        if status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            return
        reason: GoneReason = "left"
        if status == ChatMemberStatus.BANNED:
            reason = "blocked" if change.chat.type == ChatType.PRIVATE else "kicked"
        await report(on_chat_event, ChatGone(telegram_chat(change.chat.id), reason))

    return member_changed
