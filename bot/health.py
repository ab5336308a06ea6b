"""What `/healthz` says: the database, each adapter, each source and the scheduler.

A PaaS router polls it and restarts or stops routing to a process that answers slowly, so the
report must come back within a second even when the database hangs: each look at the database
has its own short timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.wiring import Engine
from core.models import SourceHealth
from core.scheduling import Scheduler

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT = 0.5
SOURCES_TIMEOUT = 0.3


async def health_report(
    engine: Engine, adapters: Mapping[str, str], scheduler: Scheduler | None
) -> tuple[int, dict[str, Any]]:
    """Return the HTTP status (200, or 503 when the database does not answer) and JSON body.

    Args:
        engine: whose database and source health records are checked.
        adapters: each adapter's state as its owner reports it, e.g. `{"telegram": "webhook"}`.
        scheduler: the process's scheduler, for each job's last run; None where there is none.
    """
    database = await database_state(engine.database)
    reachable = bool(database["reachable"])
    body: dict[str, Any] = {
        "status": "ok" if reachable else "database unreachable",
        "database": database,
        "adapters": dict(adapters),
        # Without the database there is nothing to read the sources' health from.
        "sources": await sources_state(engine) if reachable else None,
        "scheduler": None if scheduler is None else last_runs(scheduler),
    }
    return (200 if reachable else 503), body


async def database_state(database: AsyncEngine) -> dict[str, Any]:
    """`SELECT 1` within DATABASE_TIMEOUT seconds: reachable, latency, or the error's kind."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with database.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return {"reachable": False, "error": f"no answer within {DATABASE_TIMEOUT} s"}
    except Exception as exc:  # any failure means unreachable; the message may hold the URL
        return {"reachable": False, "error": type(exc).__name__}
    return {"reachable": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


async def sources_state(engine: Engine) -> dict[str, Any] | None:
    """Each source's health record by name; None when they cannot be read quickly."""
    try:
        records = await asyncio.wait_for(engine.repo.health(), SOURCES_TIMEOUT)
    except Exception as exc:  # advisory: the database itself answered
        logger.warning("healthz: source health unreadable (%s)", type(exc).__name__)
        return None
    return {r.source: source_entry(r) for r in records}


def source_entry(record: SourceHealth) -> dict[str, Any]:
    """One source's health as JSON values."""
    return {
        "healthy": record.healthy,
        "last_success": _iso(record.last_success),
        "last_error": record.last_error,  # written to be shown: status and host, or a type
        "last_error_at": _iso(record.last_error_at),
        "consecutive_failures": record.consecutive_failures,
        "items_seen": record.items_seen,
    }


def last_runs(scheduler: Scheduler) -> dict[str, str | None]:
    """When each job last finished, by job id."""
    return {job: _iso(at) for job, at in sorted(scheduler.last_run.items())}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
