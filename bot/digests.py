"""Digest wiring: the dispatcher and sender jobs, chat events, and the console preview."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping

from bot.wiring import Engine
from core.delivery import DigestSink
from core.digest import (
    DigestBuilder,
    SendReport,
    dispatch_due_digests,
    send_pending_deliveries,
)
from core.events import ChatEvent, OnChatEvent, apply_chat_event
from core.scheduling import Job

logger = logging.getLogger(__name__)
DISPATCH_SECONDS = 60.0
SEND_SECONDS = 10.0


def digest_jobs(engine: Engine, sinks: MutableMapping[str, DigestSink]) -> list[Job]:
    """The dispatcher (every minute) and the sender (every few seconds)."""

    async def dispatch() -> None:
        queued = await dispatch_due_digests(engine.subscriptions, engine.clock.now())
        if queued:
            logger.info("queued %d digests", queued)

    async def send() -> None:
        # One builder per sending run: each distinct digest is built once, not once a batch.
        builder = DigestBuilder(engine.repo, engine.clock.now())
        while sinks:
            report = await send_pending_deliveries(
                engine.subscriptions,
                engine.repo,
                sinks,
                engine.clock.now(),
                builder=builder,
                lease_seconds=engine.settings.digest_lease_seconds,
            )
            if report.sent or report.failed or report.empty:
                logger.info(
                    "digests: %d sent, %d empty, %d failed, %d to retry",
                    report.sent,
                    report.empty,
                    report.failed,
                    report.retried,
                )
            if report == SendReport():
                break

    return [
        Job("digest-dispatch", dispatch, DISPATCH_SECONDS),
        Job("digest-send", send, SEND_SECONDS, first_delay=2),
    ]


def chat_event_handler(engine: Engine) -> OnChatEvent:
    """The adapters' `on_chat_event`: chat events change the chat's subscription."""

    async def handle(event: ChatEvent) -> None:
        await apply_chat_event(engine.subscriptions, event)

    return handle
