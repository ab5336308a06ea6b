"""Keeping stored window scores current as time passes, one process at a time (DESIGN.md §4).

Every long-running process runs `sweep_scores` about once a minute; on PostgreSQL the lock keeps
it to one replica at a time, the others skip their turn. What a sweep does is the store's
business (`core.ports.IngestWrites.sweep`): reads never do it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from core.locks import Locks
from core.ports import Clock, SweepReport

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0
SWEEP_LOCK = "sweep"


class ScoreSweeper(Protocol):
    """The part of the store that sweeps."""

    async def sweep(self, now: datetime) -> SweepReport:
        """Bring stored window counts up to `now`."""
        ...


async def sweep_scores(store: ScoreSweeper, clock: Clock, locks: Locks) -> SweepReport | None:
    """Sweep now unless another process is sweeping; return what was done, or None."""
    async with locks.hold(SWEEP_LOCK) as held:
        if not held:
            return None
        report = await store.sweep(clock.now())
    if report.rescored:
        logger.info("rescored %d papers with the configured weights and half-life", report.rescored)
    return report
