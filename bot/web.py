"""`trending-arxiv web`: the PaaS `web` process, on $PORT.

It always serves the web pages (`/`, `/new`, `/paper/<id>`, `/feed.atom`, `/api/...`, see
`adapters.web`) and `GET /healthz`. With TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_URL it also serves
Telegram's webhook at that URL's path and keeps the webhook registered; it comes up even while
Telegram is unreachable and retries in the background. It sweeps stored window scores about once
a minute (one process at a time); everything else (Discord, the pollers, digests) is the
`worker` process's job.

On SIGTERM it stops within 10 s (platforms kill after 30): the listening socket first, then the
updates in hand (at most TELEGRAM_STOP_SECONDS), then the Telegram HTTP clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableMapping

from aiohttp import web

from adapters.telegram.app import TelegramApp, build_application, publish_menu
from adapters.telegram.app import stop as stop_application
from adapters.telegram.logs import install_redaction
from adapters.telegram.webhook import (
    DEFAULT_BACKOFF,
    OnState,
    add_webhook_route,
    register_webhook,
    start_webhook_bot,
    webhook_path,
)
from adapters.web.site import add_site_routes
from bot.digests import chat_event_handler
from bot.health import health_report
from bot.settings import HEALTH_PATH
from bot.sweeping import sweep_job
from bot.wiring import Engine, StartupError
from core.backoff import Backoff
from core.scheduling import Scheduler
from core.storage.locks import locks_for

logger = logging.getLogger(__name__)

HTTP_SHUTDOWN_SECONDS = 2.0  # in-flight requests only enqueue, so this is plenty
TELEGRAM_STOP_SECONDS = 5.0


async def serve_web(
    engine: Engine,
    stop: asyncio.Event,
    *,
    host: str = "0.0.0.0",
    backoff: Backoff = DEFAULT_BACKOFF,
) -> int:
    """Serve the pages, /healthz (and Telegram's webhook when configured) on `host`:$PORT.

    Until `stop` is set.

    Raises:
        StartupError: the port cannot be bound.
    """
    settings = engine.settings
    adapters = adapter_states(engine)
    web_app = build_web_app(engine, adapters, None)
    async with contextlib.AsyncExitStack() as stack:
        url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
        if settings.telegram_token and url and secret:
            telegram = await stack.enter_async_context(
                telegram_webhook(engine, url, secret, adapters, stop, backoff)
            )
            add_webhook_route(web_app, telegram, webhook_path(url), secret)
        # Entered last, so left first: no new requests while the updates in hand finish.
        await stack.enter_async_context(web_server(web_app, host, settings.port))
        # Window scores stay current while only web processes run (one sweeper at a time).
        scheduler = Scheduler([sweep_job(engine, locks_for(engine.database))])
        scheduler.start()
        stack.push_async_callback(scheduler.stop)
        await stop.wait()
        logger.info("web: stopping")
    logger.info("web: stopped")
    return 0


def adapter_states(engine: Engine) -> dict[str, str]:
    """Each adapter's state as this process sees it before starting anything."""
    settings = engine.settings
    telegram = "off"
    if settings.telegram_token:
        telegram = "starting" if settings.telegram_webhook_url else "polled by the worker"
    discord = "in the worker" if settings.discord_token else "off"
    return {"telegram": telegram, "discord": discord}


def build_web_app(
    engine: Engine, adapters: MutableMapping[str, str], scheduler: Scheduler | None
) -> web.Application:
    """The aiohttp application with the web pages and `GET /healthz`.

    Add the webhook route before serving.
    """

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health_report(engine, adapters, scheduler)
        return web.json_response(body, status=status)

    web_app = web.Application()
    web_app.router.add_get(HEALTH_PATH, healthz)
    add_site_routes(web_app, engine.registry, engine.repo, engine.clock)
    return web_app


@contextlib.asynccontextmanager
async def web_server(web_app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    """Listen on `host`:`port` inside the running loop (`web.run_app` would own the loop)."""
    # One line per event: the access log would add one per health check.
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=HTTP_SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    logger.info("web: listening on %s:%d", host, port)
    try:
        yield
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def telegram_webhook(
    engine: Engine,
    url: str,
    secret: str,
    adapters: MutableMapping[str, str],
    stop: asyncio.Event,
    backoff: Backoff,
) -> AsyncIterator[TelegramApp]:
    """A Telegram application taking updates from the webhook, started in the background.

    Yields at once, so /healthz is served while Telegram is unreachable; the webhook route
    answers 503 until the application runs.
    """
    app = build_telegram(engine)

    def on_state(state: str) -> None:
        adapters["telegram"] = state

    task = asyncio.create_task(
        _bring_up(app, url, secret, stop, backoff, on_state), name="telegram-webhook"
    )
    try:
        yield app
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        adapters["telegram"] = "stopped"
        await stop_telegram(app)


def build_telegram(engine: Engine) -> TelegramApp:
    """The PTB application with the registry's handlers; the token is redacted from every log."""
    settings = engine.settings
    token = settings.telegram_token or ""
    redaction = install_redaction([token])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    return build_application(
        token,
        engine.registry,
        api_url=settings.telegram_api_url,
        on_chat_event=chat_event_handler(engine),
        overall_max_rate=settings.telegram_max_rate,
        group_max_rate=settings.telegram_group_max_rate,
    )


async def _bring_up(
    app: TelegramApp,
    url: str,
    secret: str,
    stop: asyncio.Event,
    backoff: Backoff,
    on_state: OnState,
) -> None:
    try:
        if not await start_webhook_bot(app, stop, backoff, on_state):
            return
        logger.info("telegram adapter started (webhook, no polling)")
        if await register_webhook(app, url, secret, stop, backoff, on_state):
            await publish_menu(app)
    except Exception:  # /healthz must go on serving, and the state must say so
        logger.exception("telegram adapter failed to start")
        on_state("failed")


async def stop_telegram(app: TelegramApp) -> None:
    """Finish the updates in hand for at most TELEGRAM_STOP_SECONDS, then close the clients."""
    try:
        await asyncio.wait_for(stop_application(app), TELEGRAM_STOP_SECONDS)
    except TimeoutError:
        logger.warning(
            "telegram: updates still in hand after %.0f s were dropped", TELEGRAM_STOP_SECONDS
        )
    # A never-initialised application skips this in its shutdown; its HTTP clients are open.
    await app.bot.shutdown()
    logger.info("telegram adapter stopped")
