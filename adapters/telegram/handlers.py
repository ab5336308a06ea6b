"""Thin glue from Telegram updates to the core registry: parse, dispatch, render, send."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from adapters.telegram.admin import admin_request
from adapters.telegram.events import telegram_chat
from adapters.telegram.outbox import edit_rendered, send_rendered
from adapters.telegram.render import render_reply
from core.faults import describe_error
from core.grammar import split_command
from core.registry import Command, Registry, Request, decode_callback, read_arguments
from core.replies import PaperList, Problem, Reply

logger = logging.getLogger(__name__)

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

# New messages and channel posts; an edited command is not run a second time.
COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
EXPIRED_BUTTON = "This button no longer works. Send the command again."
APOLOGY = "Sorry, something went wrong on our side. Please try again later."


def request_from_update(
    update: Update, args: Sequence[str], bot_username: str | None
) -> Request | None:
    """The core request for a command message or channel post, or None if it is not for us.

    In a channel the post has no user, so the chat stands in; an anonymous group admin posts as
    the group (`sender_chat`), which identifies them better than the shared anonymous-admin user.
    """
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not addressed_to(message, bot_username):
        return None
    if message.sender_chat is not None:
        user_id = message.sender_chat.id
    elif update.effective_user is not None:
        user_id = update.effective_user.id
    else:
        user_id = chat.id
    return Request(chat=telegram_chat(chat.id), user_id=str(user_id), args=tuple(args))


def addressed_to(message: Message, bot_username: str | None) -> bool:
    """False for `/top@OtherBot`; true for `/top` and `/top@OurBot` (any letter case)."""
    words = (message.text or message.caption or "").split(maxsplit=1)
    _, at, target = (words[0] if words else "").partition("@")
    return not at or (bot_username is not None and target.lower() == bot_username.lower())


def command_handlers(registry: Registry) -> list[CommandHandler[ContextTypes.DEFAULT_TYPE, None]]:
    """One CommandHandler per registry command, for messages and channel posts alike."""
    return [
        CommandHandler(command.name, command_callback(registry, command), filters=COMMAND_UPDATES)
        for command in registry.commands
    ]


def command_callback(registry: Registry, command: Command) -> Callback:
    """The PTB callback that runs `command` and replies to the message that asked for it."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        # Core reads the arguments (quotes group words), not PTB's whitespace split.
        parsed = split_command(message.text or message.caption or "")
        args = read_arguments(parsed[1] if parsed else "")
        request = request_from_update(
            update, () if isinstance(args, Problem) else args, context.bot.username
        )
        if request is None:
            return
        if isinstance(args, Problem):
            reply: Reply = args
        else:
            reply = await _dispatch(registry, command, request, update, context)
        await send_rendered(
            context.bot, message.chat_id, render_reply(reply), reply_to=message.message_id
        )

    return run


def button_handler(registry: Registry) -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    """The CallbackQueryHandler for every inline button made by `render`."""
    return CallbackQueryHandler(button_callback(registry))


def button_callback(registry: Registry) -> Callback:
    """Re-run the command a button encodes; paging edits the list in place, the rest replies."""

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        notice: str | None = APOLOGY  # kept if running the button raises
        try:
            notice = await _run_button(registry, update, context, query)
        finally:
            # Always answer, or the user's client shows a spinner until Telegram gives up.
            await _answer(query, notice)

    return press


async def _run_button(
    registry: Registry, update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery
) -> str | None:
    decoded = decode_callback(query.data) if isinstance(query.data, str) else None
    command = registry.get(decoded[0]) if decoded else None
    message = query.message
    if decoded is None or command is None or message is None:
        return EXPIRED_BUTTON
    request = Request(telegram_chat(message.chat.id), str(query.from_user.id), decoded[1])
    reply = await _dispatch(registry, command, request, update, context)
    rendered = render_reply(reply)
    # A message older than 48 h is inaccessible and cannot be edited; answer with a new one.
    if isinstance(reply, PaperList) and reply.paging is not None and isinstance(message, Message):
        await edit_rendered(context.bot, message, rendered)
    else:
        await send_rendered(context.bot, message.chat.id, rendered)
    return None


async def _dispatch(
    registry: Registry,
    command: Command,
    request: Request,
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
) -> Reply:
    if not command.admin_only:  # only then: getChatMember is one more API call per command
        return await registry.dispatch(command.name, request)
    checked = await admin_request(context.bot, update, request, command.name)
    if isinstance(checked, Problem):  # a chat named from a private chat was refused
        return checked
    return await registry.dispatch(command.name, checked)


async def _answer(query: CallbackQuery, text: str | None) -> None:
    try:
        await query.answer(text)
    except BadRequest as exc:  # "query is too old": the press was long ago; nothing to fix
        logger.info("could not answer callback query: %s", describe_error(exc))
