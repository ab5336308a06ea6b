"""Digest wiring: the dispatcher and sender jobs, chat events, and the console preview."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from datetime import datetime

from bot.wiring import Engine
from core.delivery import DigestSink
from core.digest import MISSED_LOOKBACK, dispatch_due_digests
from core.events import ChatEvent, OnChatEvent, apply_chat_event
from core.scheduling import Job
from core.sending import send_due_deliveries

logger = logging.getLogger(__name__)
DISPATCH_SECONDS = 60.0
SEND_SECONDS = 10.0


def digest_jobs(engine: Engine, sinks: MutableMapping[str, DigestSink]) -> list[Job]:
    """The dispatcher (every minute) and the sender (every few seconds)."""
    last_dispatch: datetime | None = None

    async def dispatch() -> None:
        nonlocal last_dispatch
        now = engine.clock.now()
        # The first run after a start looks back a week, so the days the bot was down are
        # recorded as missed; later runs look back to the run before.
        since = last_dispatch or now - MISSED_LOOKBACK
        queued = await dispatch_due_digests(engine.subscriptions, now, since=since)
        last_dispatch = now
        if queued:
            logger.info("queued %d digests", queued)

    async def send() -> None:
        if not sinks:
            return
        # One run sends everything due, claiming more as sends finish: no pause between
        # batches, and each distinct digest is built once.
        report = await send_due_deliveries(
            engine.subscriptions,
            engine.repo,
            sinks,
            engine.clock,
            lease_seconds=engine.settings.digest_lease_seconds,
            follows=engine.follows,
        )
        if report.sent or report.failed or report.empty:
            logger.info(
                "digests: %d sent, %d empty, %d failed, %d to retry",
                report.sent,
                report.empty,
                report.failed,
                report.retried,
            )

    return [
        Job("digest-dispatch", dispatch, DISPATCH_SECONDS),
        Job("digest-send", send, SEND_SECONDS, first_delay=2),
    ]


def chat_event_handler(engine: Engine) -> OnChatEvent:
    """The adapters' `on_chat_event`: chat events change the chat's subscription."""

    async def handle(event: ChatEvent) -> None:
        await apply_chat_event(engine.subscriptions, event, engine.follows)

    return handle
