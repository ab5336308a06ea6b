"""`trending-arxiv ingest` and `sources`, and the first ingest on an empty store."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from bot.sources import Sources
from bot.wiring import Engine
from core.ingest import PollOutcome, SourceRunner, poll_source
from core.locks import LockLost
from core.models import SourceHealth
from core.ports import MentionSource
from core.scheduling import pause

STREAM_SECONDS = 15.0  # how long a one-off ingest listens to the Bluesky stream
TITLE_BATCHES = 3  # arXiv requests (100 ids each) after a one-off ingest, 3 s apart


@dataclass
class Progress:
    """A one-line progress bar on a terminal, plain lines elsewhere."""

    total: int
    out: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    mentions: int = 0
    votes: int = 0

    @property
    def is_tty(self) -> bool:
        """Whether to redraw one line instead of printing many."""
        return self.out.isatty()

    def advance(self, outcome: PollOutcome) -> None:
        """Count one finished source and show it."""
        self.done += 1
        if outcome.report:
            self.mentions += outcome.report.mentions
            self.votes += outcome.report.snapshots
        if outcome.skipped:
            what = "skipped: another process is polling it"
        else:
            what = "ok" if outcome.ok else f"failed ({outcome.error})"
        if self.is_tty:
            width = 20
            filled = width * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.out.write(
                f"\r[{bar}] {self.done}/{self.total} sources · {self.mentions:,} shares · "
                f"{self.votes:,} votes · {outcome.source} {what}\033[K"
            )
            if self.done == self.total:
                self.out.write("\n")
        else:
            self.out.write(f"{outcome.source}: {what}\n")
        self.out.flush()


async def ingest_once(
    engine: Engine, sources: Sources, names: Iterable[str] = (), *, out: TextIO | None = None
) -> list[PollOutcome]:
    """Poll the chosen sources once (all by default), listen to Bluesky a moment, fetch titles."""
    wanted = set(names) or set(sources.names)
    pollers = [p for p in sources.pollers if p.name in wanted]
    listen = sources.jetstream is not None and "bluesky" in wanted
    progress = Progress(len(pollers) + int(listen), out or sys.stderr)
    jobs = [_poll(engine, sources, p) for p in pollers]
    if listen and sources.jetstream is not None:
        jobs.append(_listen(engine, sources))
    outcomes: list[PollOutcome] = []
    for job in asyncio.as_completed(jobs):
        outcome = await job
        progress.advance(outcome)
        outcomes.append(outcome)
    await _fetch_titles(engine)
    return outcomes


async def _poll(engine: Engine, sources: Sources, poller: MentionSource) -> PollOutcome:
    """Poll one source now, under its lock when replicas share the database.

    As the scheduled polls do (core.ingest.SourceRunner): two processes polling one source at
    once would spend a billed request budget (X) twice. A source whose lock another process
    holds is skipped.
    """
    if sources.locks is None:
        return await _poll_now(engine, sources, poller)
    try:
        async with sources.locks.hold(f"source:{poller.name}") as held:
            if held:
                return await _poll_now(engine, sources, poller)
    except LockLost:
        return PollOutcome(poller.name, False, engine.clock.now(), error="lost its lock")
    except Exception as exc:  # the lock's database: polling would fail the same way
        error = f"could not lock it ({type(exc).__name__})"
        return PollOutcome(poller.name, False, engine.clock.now(), error=error)
    return PollOutcome(poller.name, False, engine.clock.now(), skipped=True)


async def _poll_now(engine: Engine, sources: Sources, poller: MentionSource) -> PollOutcome:
    return await poll_source(
        poller,
        engine.repo,
        engine.clock,
        sources.account_filter,
        poll_timeout=120.0,
    )


async def _listen(engine: Engine, sources: Sources) -> PollOutcome:
    assert sources.jetstream is not None
    stop = asyncio.Event()
    # A stream that cannot be reached sets `stop` itself: offline, the listen ends at once.
    task = asyncio.create_task(sources.jetstream.run(stop, end_when_unreachable=True))
    await pause(stop, STREAM_SECONDS)
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 10)
    health = {h.source: h for h in await engine.repo.health()}.get("bluesky")
    ok = health is not None and health.consecutive_failures == 0 and health.last_success is not None
    error = None if ok else (health.last_error if health else "no connection")
    return PollOutcome("bluesky", ok, engine.clock.now(), error=error)


async def _fetch_titles(engine: Engine) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(engine.metadata.fill_missing(limit=100 * TITLE_BATCHES), 30)


async def first_ingest(engine: Engine, sources: Sources) -> None:
    """On an empty store, ingest once so a newcomer's first /top shows real papers."""
    if not sources.names or not await engine.repo.is_empty():
        return
    print("The store is empty: asking the sources what people share now…", file=sys.stderr)
    outcomes = [o for o in await ingest_once(engine, sources) if not o.skipped]
    if outcomes and not any(o.ok for o in outcomes):
        print(
            "No network: no source could be reached; carrying on with an empty store.",
            file=sys.stderr,
        )


async def ingest_forever(
    engine: Engine, sources: Sources, names: Iterable[str], stop: asyncio.Event
) -> None:
    """Poll the chosen sources on their own schedules and listen to Bluesky until `stop`."""
    wanted = set(names) or set(sources.names)
    runner = SourceRunner(
        [p for p in sources.pollers if p.name in wanted],
        engine.repo,
        engine.clock,
        sources.account_filter,
        locks=sources.locks,
    )
    tasks = []
    if sources.jetstream is not None and "bluesky" in wanted:
        tasks.append(asyncio.create_task(sources.jetstream.run(stop)))
    while not stop.is_set():
        for outcome in await runner.run_due():
            print(f"{outcome.source}: {'ok' if outcome.ok else outcome.error}", file=sys.stderr)
        await pause(stop, 30)
    await asyncio.gather(*tasks, return_exceptions=True)


def health_table(enabled: Iterable[str], records: Iterable[SourceHealth], now: datetime) -> str:
    """A plain table of every enabled source's health."""
    by_name = {r.source: r for r in records}
    names = list(dict.fromkeys([*enabled, *by_name]))
    rows = [("source", "state", "last success", "items", "failures", "last error")]
    for name in names:
        record = by_name.get(name)
        state = _state(name in enabled, record)
        rows.append(
            (
                name,
                state,
                _ago(record.last_success, now) if record else "-",
                f"{record.items_seen:,}" if record else "-",
                str(record.consecutive_failures) if record else "-",
                (record.last_error or "-")[:60] if record else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _state(enabled: bool, record: SourceHealth | None) -> str:
    if not enabled:
        return "disabled"
    if record is None:
        return "never run"
    if record.consecutive_failures == 0:
        return "healthy"
    return "retrying" if record.healthy else "unhealthy"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"
