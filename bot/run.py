"""`trending-arxiv run`: every adapter with a token, the scheduler and the background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from bot.wiring import Engine
from core.scheduling import Job, Scheduler

logger = logging.getLogger(__name__)
METADATA_SECONDS = 60.0


async def run(engine: Engine, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM or SIGINT (or `stop`), then shut down in reverse order."""
    stop = stop or asyncio.Event()
    _on_signals(stop)
    jobs = [Job("metadata", engine.metadata.fill_missing, METADATA_SECONDS, first_delay=5)]
    scheduler = Scheduler(jobs)
    scheduler.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            started = 0
            if engine.settings.telegram_token:
                await stack.enter_async_context(_telegram(engine))
                started += 1
            if engine.settings.discord_token:
                await stack.enter_async_context(_discord(engine, stop))
                started += 1
            if not started:
                logger.warning(
                    "no TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN: running background work only"
                )
            logger.info("running; stop with SIGTERM or Ctrl-C")
            await stop.wait()
            logger.info("stopping")
    finally:
        await scheduler.stop()
    return 0


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


@contextlib.asynccontextmanager
async def _telegram(engine: Engine) -> AsyncIterator[None]:
    from adapters.telegram.app import build_application, start, stop
    from adapters.telegram.logs import install_redaction

    token = engine.settings.telegram_token or ""
    redaction = install_redaction([token])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    app = build_application(token, engine.registry, api_url=engine.settings.telegram_api_url)
    await start(app)
    logger.info("telegram adapter started")
    try:
        yield
    finally:
        await stop(app)


@contextlib.asynccontextmanager
async def _discord(engine: Engine, stop: asyncio.Event) -> AsyncIterator[None]:
    from adapters.discord.app import build_bot, run_bot

    bot = build_bot(
        engine.registry,
        categories=engine.repo.categories,
        guild_ids=engine.settings.discord_guild_ids,
    )
    task = asyncio.create_task(run_bot(bot, engine.settings.discord_token or "", stop))
    task.add_done_callback(lambda t: _discord_ended(t, stop))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task


def _discord_ended(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    if task.cancelled() or task.exception() is None:
        return
    logger.error("discord adapter stopped: %s", task.exception().__class__.__name__)
    stop.set()
