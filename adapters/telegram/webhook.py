"""Telegram's webhook on an aiohttp server, and keeping the webhook registered.

Telegram POSTs each update to the registered URL with our secret in
`X-Telegram-Bot-Api-Secret-Token`. The route only checks and enqueues, so Telegram gets its 200
at once; the PTB application, started without an Updater polling, runs the same handlers as
in polling mode. Any replica can take any update: nothing here is kept between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, TelegramError

from adapters.telegram.app import ALLOWED_UPDATES, TelegramApp
from core.backoff import Backoff

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OnState = Callable[[str], None]


DEFAULT_BACKOFF = Backoff(first=1.0, cap=60.0)


def webhook_path(url: str) -> str:
    """The path of `url`, where the web server must answer Telegram's POSTs."""
    return urlsplit(url).path or "/"


def add_webhook_route(
    web_app: web.Application, application: TelegramApp, path: str, secret: str
) -> None:
    """Serve Telegram's POSTs at `path`, handing each update to `application`."""
    web_app.router.add_post(path, webhook_handler(application, secret))


def webhook_handler(application: TelegramApp, secret: str) -> Handler:
    """The route: 403 without the secret, 503 before `application` runs, 400 for junk, else 200."""
    expected = secret.encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        # Encoding with "replace" keeps a non-ASCII header comparable (and never equal).
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            logger.warning("telegram webhook: refused a request without the right secret")
            return web.Response(status=403, text="forbidden\n")
        if not application.running:
            # Telegram keeps the update and tries again later.
            return web.Response(status=503, text="starting\n", headers={"Retry-After": "5"})
        update = await _read_update(request, application)
        if update is None:
            return web.Response(status=400, text="not a Telegram update\n")
        await application.update_queue.put(update)
        return web.Response(text="ok\n")

    return handle


async def _read_update(request: web.Request, application: TelegramApp) -> Update | None:
    try:
        data = json.loads(await request.read())
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        logger.warning("telegram webhook: body is not JSON")
        return None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        logger.warning("telegram webhook: body is not an update")
        return None
    try:
        return Update.de_json(data, application.bot)
    except Exception as exc:  # de_json of hostile JSON can raise anything; answer 400, not 500
        logger.warning("telegram webhook: update %d unreadable (%s)", update_id, type(exc).__name__)
        return None


async def start_webhook_bot(
    application: TelegramApp,
    stop: asyncio.Event,
    backoff: Backoff = DEFAULT_BACKOFF,
    on_state: OnState = lambda _state: None,
) -> bool:
    """Initialise and start `application` without polling, retrying while Telegram is away.

    Returns:
        True once the application runs; False when `stop` came first or the token was rejected.
    """
    if not await _retry("getMe", application.initialize, stop, backoff, on_state):
        return False
    await application.start()
    return True


async def register_webhook(
    application: TelegramApp,
    url: str,
    secret: str,
    stop: asyncio.Event,
    backoff: Backoff = DEFAULT_BACKOFF,
    on_state: OnState = lambda _state: None,
) -> bool:
    """Call setWebhook until Telegram accepts it, waiting longer after each failure.

    Returns:
        True once registered; False when `stop` came first or the token was rejected.
    """

    async def set_webhook() -> None:
        await application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    if not await _retry("setWebhook", set_webhook, stop, backoff, on_state):
        return False
    logger.info("telegram webhook registered for %s", webhook_path(url))
    on_state("webhook")
    return True


async def _retry(
    what: str,
    call: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    backoff: Backoff,
    on_state: OnState,
) -> bool:
    delays = backoff.delays()
    while not stop.is_set():
        try:
            await call()
            return True
        except InvalidToken:
            # Retrying cannot help, and PTB's message quotes the token: log neither.
            logger.error("telegram %s: the token was rejected; not retrying", what)
            on_state("token rejected")
            return False
        except TelegramError as exc:
            delay = next(delays)
            logger.warning(
                "telegram %s failed (%s); retrying in %.3g s", what, type(exc).__name__, delay
            )
            on_state("retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return False
