"""`trending-arxiv run`: every adapter with a token, the scheduler and the background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from adapters.sources.jetstream_consumer import JetstreamConsumer
from bot.digests import chat_event_handler, digest_jobs
from bot.sources import Sources
from bot.sweeping import sweep_job
from bot.wiring import Engine
from core.delivery import DigestSink
from core.events import OnChatEvent
from core.ingest import SourceRunner
from core.locks import InProcessLocks
from core.scheduling import Job, Scheduler

logger = logging.getLogger(__name__)
METADATA_SECONDS = 60.0
POLL_SECONDS = 30.0
SHUTDOWN_SECONDS = 9.0  # within the 10 s we promise; in-flight digests get most of it


async def run(engine: Engine, sources: Sources, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM or SIGINT (or `stop`), then shut down in reverse order."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    sinks: dict[str, DigestSink] = {}
    on_chat_event = chat_event_handler(engine)
    runner = SourceRunner(
        sources.pollers, engine.repo, engine.clock, sources.account_filter, locks=sources.locks
    )
    jobs = [
        Job("metadata", engine.metadata.fill_missing, METADATA_SECONDS, first_delay=5),
        # Each source keeps its own interval and backoff inside the runner.
        Job("sources", runner.run_due, POLL_SECONDS),
        *digest_jobs(engine, sinks),
        sweep_job(engine, sources.locks or InProcessLocks()),
    ]
    stack = contextlib.AsyncExitStack()
    try:
        if engine.settings.telegram_token:
            sinks["telegram"] = await stack.enter_async_context(_telegram(engine, on_chat_event))
        if engine.settings.discord_token:
            sinks["discord"] = await stack.enter_async_context(
                _discord(engine, stop, on_chat_event)
            )
        if sources.jetstream is not None:
            await stack.enter_async_context(_stream(sources.jetstream, stop))
        if not sinks:
            logger.warning(
                "no TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN: running background work only"
            )
        scheduler = Scheduler(jobs, clock=engine.clock)
        scheduler.start()
        # Closed first on the way out: stop taking work before the adapters go.
        stack.push_async_callback(scheduler.stop)
        logger.info("running; stop with SIGTERM or Ctrl-C")
        await stop.wait()
        logger.info("stopping")
    finally:
        stop.set()
        await _close_within(stack, SHUTDOWN_SECONDS)
    return 0


async def _close_within(stack: contextlib.AsyncExitStack, seconds: float) -> None:
    """Close everything, giving up after `seconds`: a PaaS kills us 30 s after SIGTERM."""
    try:
        async with asyncio.timeout(seconds):
            await stack.aclose()
    except TimeoutError:
        logger.warning("shutdown took longer than %.0f s; exiting anyway", seconds)


@contextlib.asynccontextmanager
async def _stream(consumer: JetstreamConsumer, stop: asyncio.Event) -> AsyncIterator[None]:
    task = asyncio.create_task(consumer.run(stop), name="jetstream")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 3)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGTERM (a PaaS stopping us) and SIGINT (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


@contextlib.asynccontextmanager
async def _telegram(engine: Engine, on_chat_event: OnChatEvent) -> AsyncIterator[DigestSink]:
    from adapters.telegram.app import build_application, start, stop
    from adapters.telegram.logs import install_redaction
    from adapters.telegram.sink import TelegramDigestSink

    token = engine.settings.telegram_token or ""
    redaction = install_redaction([token])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    app = build_application(
        token,
        engine.registry,
        api_url=engine.settings.telegram_api_url,
        on_chat_event=on_chat_event,
        overall_max_rate=engine.settings.telegram_max_rate,
        group_max_rate=engine.settings.telegram_group_max_rate,
    )
    if engine.settings.telegram_webhook_url:
        # Updates arrive at the web process; polling would delete its webhook. This process
        # only sends (digests), so the bot is initialised without an updater.
        await app.initialize()
        logger.info("telegram adapter started (sending only; the web process takes updates)")
    else:
        await start(app)
        logger.info("telegram adapter started (long polling)")
    try:
        yield TelegramDigestSink(app.bot)
    finally:
        await stop(app)


@contextlib.asynccontextmanager
async def _discord(
    engine: Engine, stop: asyncio.Event, on_chat_event: OnChatEvent
) -> AsyncIterator[DigestSink]:
    from adapters.discord.app import build_bot, run_bot
    from adapters.discord.sink import DiscordDigestSink

    bot = build_bot(
        engine.registry,
        categories=engine.repo.categories,
        guild_ids=engine.settings.discord_guild_ids,
        on_chat_event=on_chat_event,
        shard_ids=engine.settings.discord_shard_ids,
        shard_count=engine.settings.discord_shard_count,
    )
    task = asyncio.create_task(run_bot(bot, engine.settings.discord_token or "", stop))
    task.add_done_callback(lambda t: _discord_ended(t, stop))
    try:
        yield DiscordDigestSink(bot, on_chat_event)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task


def _discord_ended(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    if task.cancelled() or task.exception() is None:
        return
    logger.error("discord adapter stopped: %s", task.exception().__class__.__name__)
    stop.set()
