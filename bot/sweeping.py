"""The sweep job of every long-running process (`run`, `web`, `chat`)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from bot.wiring import Engine
from core.locks import Locks
from core.scheduling import Job, pause
from core.sweeping import SWEEP_SECONDS, sweep_scores

logger = logging.getLogger(__name__)


def sweep_job(engine: Engine, locks: Locks) -> Job:
    """Sweep about once a minute, starting now (a change of weights is applied first)."""
    return Job("sweep", partial(sweep_scores, engine.repo, engine.clock, locks), SWEEP_SECONDS)


async def sweep_forever(engine: Engine, locks: Locks, stop: asyncio.Event) -> None:
    """The same without a scheduler, for the console chat: until `stop`, after a whole sweep."""
    while not stop.is_set():
        try:
            await sweep_scores(engine.repo, engine.clock, locks)
        except Exception:  # the chat must go on whatever the store does
            logger.exception("sweep failed")
        await pause(stop, SWEEP_SECONDS)
