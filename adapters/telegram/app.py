"""Build and run the Telegram bot inside the process's one event loop.

`run_polling()` would take over the loop, so the composition root starts and stops the
application by hand with `start` and `stop` (PTB issues #3687 and #4197).
"""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

from telegram import BotCommand, Update
from telegram.constants import BotCommandLimit, FloodLimit
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, ExtBot

from adapters.telegram.events import OnChatEvent
from adapters.telegram.handlers import button_handler, command_handlers
from adapters.telegram.lifecycle import error_handler, lifecycle_handlers
from adapters.telegram.logs import install_redaction
from adapters.telegram.markup import shorten
from adapters.telegram.retry import RetryingRateLimiter
from core.faults import describe_error
from core.registry import Registry

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
# Only what we handle; my_chat_member tells us when the bot is blocked or removed.
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)

TelegramApp: TypeAlias = Application[
    ExtBot[int],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    None,
]

_MENU_KEY = "adapters.telegram.menu"


def build_application(
    token: str,
    registry: Registry,
    *,
    api_url: str = DEFAULT_API_URL,
    on_chat_event: OnChatEvent | None = None,
    max_retries: int = 3,
    concurrent_updates: int = 16,
    overall_max_rate: float = FloodLimit.MESSAGES_PER_SECOND,
    group_max_rate: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
) -> TelegramApp:
    """Build the PTB application for `registry`'s commands; nothing is sent until `start`.

    Args:
        token: the bot token from @BotFather; it is redacted from the httpx/telegram logs.
        registry: the core commands; one handler per command, none hard-coded here.
        api_url: the Bot API server's root (a self-hosted server or a test emulator); the
            adapter appends `/bot<token>` and `/file/bot<token>`.
        on_chat_event: awaited with `ChatGone`/`ChatMoved` when a chat blocks, removes or
            migrates the bot.
        max_retries: how often one call waits out Telegram's `RetryAfter` before giving up.
        concurrent_updates: updates handled at once, so one slow command (an arXiv lookup)
            does not hold up every other chat.
        overall_max_rate: Bot API calls a second across all chats (Telegram allows about 30);
            0 turns the limit off. Every call made with `app.bot` is paced, including the
            digest sink's.
        group_max_rate: messages a minute to any one group or channel (Telegram allows 20).
    """
    install_redaction([token])
    root = api_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .rate_limiter(
            RetryingRateLimiter(
                overall_max_rate=overall_max_rate,
                group_max_rate=group_max_rate,
                max_retries=max_retries,
            )
        )
        .connect_timeout(5.0)
        .read_timeout(15.0)
        .write_timeout(15.0)
        .pool_timeout(5.0)
        .get_updates_connect_timeout(5.0)
        .get_updates_read_timeout(10.0)  # on top of the long-poll timeout
        .concurrent_updates(concurrent_updates)
        .job_queue(None)  # scheduling belongs to core/scheduling.py, not PTB's JobQueue
        .build()
    )
    app.add_handlers(command_handlers(registry))
    app.add_handler(button_handler(registry))
    app.add_handlers(lifecycle_handlers(on_chat_event))
    app.add_error_handler(error_handler(on_chat_event))
    app.bot_data[_MENU_KEY] = menu_commands(registry)
    return app


def menu_commands(registry: Registry) -> list[BotCommand]:
    """The command menu Telegram shows, one entry per registry command."""
    limit = BotCommandLimit.MAX_DESCRIPTION
    return [BotCommand(c.name, shorten(c.summary, limit) or c.name) for c in registry.commands]


async def start(app: TelegramApp, *, poll_timeout: int = 30) -> None:
    """Initialise, start, begin long polling and publish the command menu.

    Raises:
        telegram.error.InvalidToken: Telegram rejected the token.
        telegram.error.NetworkError: the Bot API server could not be reached.
    """
    if app.updater is None:
        raise RuntimeError("build the application with an Updater to poll")
    await app.initialize()
    try:
        await app.start()
        await app.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
    except BaseException:
        await stop(app)
        raise
    await publish_menu(app)


async def publish_menu(app: TelegramApp) -> None:
    """setMyCommands; a failure leaves the old menu in place and is only logged."""
    try:
        await app.bot.set_my_commands(app.bot_data[_MENU_KEY])
    except TelegramError as exc:
        logger.warning("setMyCommands failed: %s", describe_error(exc))


async def stop(app: TelegramApp) -> None:
    """Stop polling, finish the updates in hand and release the HTTP clients; idempotent."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
