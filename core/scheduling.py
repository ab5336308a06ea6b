"""When shared work runs: interval jobs on APScheduler (the only module that imports it).

What runs is plain coroutines elsewhere in core, tested without a scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.failure_log import FailureLog
from core.ports import Clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A coroutine to run every `seconds`, under a stable id."""

    id: str
    run: Callable[[], Awaitable[object]]
    seconds: float
    first_delay: float = 0.0


class Scheduler:
    """Interval jobs in the running loop; jobs coalesce and never overlap themselves.

    A failing job is logged as `FailureLog` does: one line per expected failure, a summary while
    it repeats, one line when it recovers, and a traceback only for a bug.
    """

    def __init__(self, jobs: Sequence[Job], *, clock: Clock | None = None) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[object]] = set()
        self._failures = FailureLog(logger, clock)
        self.last_run: dict[str, datetime] = {}
        now = datetime.now(UTC)
        for job in jobs:
            self._scheduler.add_job(
                self._guarded(job),
                "interval",
                seconds=job.seconds,
                id=job.id,
                name=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(job.seconds)),
                next_run_time=now + timedelta(seconds=job.first_delay),
            )

    def start(self) -> None:
        """Start running jobs; call inside the running event loop."""
        self._scheduler.start()

    async def stop(self, grace: float = 5.0) -> None:
        """Take no new runs; let the ones in flight finish for `grace` seconds, then cancel them.

        Finishing beats cancelling: a digest cancelled between the platform's answer and our
        record of it would be sent again.
        """
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await finish(set(self._running), grace)

    def _guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job.run()
                self.last_run[job.id] = datetime.now(UTC)
                self._failures.succeeded(f"job {job.id}")
            except asyncio.CancelledError:
                logger.info("job %s cancelled at shutdown", job.id)
            except Exception as exc:  # one failing job must not stop the others or the scheduler
                self._failures.failed(f"job {job.id}", exc, f"next try in {job.seconds:g} s")
            finally:
                if task is not None:
                    self._running.discard(task)

        return run


async def finish(tasks: Collection[asyncio.Task[Any]], grace: float) -> None:
    """Let `tasks` finish for `grace` seconds, then cancel those still running and wait for them.

    A task cancelled mid-statement leaves its connection to be rolled back while the engine may
    be closing: let a step in flight end first.
    """
    if tasks:
        await asyncio.wait(tasks, timeout=grace)
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
