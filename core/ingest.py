"""Polling signal sources: one poll, committed with its cursor, and a runner that keeps them apart.

The cursor a source hands back is stored by `commit_batch` together with the
poll's rows, so a crash or a failed poll can only repeat work, never skip it. A failing source
backs off exponentially (honouring the delay the service asked for) while the others carry on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from core.backoff import Backoff, longest
from core.faults import is_expected, log_failure
from core.locks import LockLost, Locks
from core.models import ImportReport, Mention, SourceHealth
from core.ports import Batch, Clock, MentionSource, SourceUnavailable

logger = logging.getLogger(__name__)

MAX_BACKOFF = 6 * 3600.0
MAX_RETRY_AFTER = 24 * 3600.0
ERROR_TEXT_LIMIT = 200


class SourceStore(Protocol):
    """The part of `core.ports.PaperRepository` that polling needs."""

    async def get_cursor(self, source: str) -> str | None:
        """Return a source's stored cursor."""
        ...

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        """Store a poll's rows and its cursor in one transaction."""
        ...

    async def record_health(self, health: SourceHealth) -> None:
        """Store a source's health record."""
        ...

    async def health(self) -> list[SourceHealth]:
        """Return every source's health record."""
        ...


def _handle(text: str) -> str:
    return text.strip().lstrip("@").lower()


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Whose shares count: an optional allowlist per network and a blocklist.

    `allow` maps a network (a source name such as "x") to the only handles counted there;
    networks without an entry count everyone. `block` holds "network:handle" entries, or bare
    handles blocked on every network. Handles compare case-insensitively, without a leading "@".
    """

    allow: Mapping[str, frozenset[str]] = field(default_factory=dict)
    block: frozenset[str] = frozenset()

    def counts(self, mention: Mention) -> bool:
        """Whether this share's author counts."""
        handle = _handle(mention.author)
        if handle in self.block or f"{mention.source}:{handle}" in self.block:
            return False
        allowed = self.allow.get(mention.source)
        return allowed is None or handle in allowed

    def apply(self, batch: Batch) -> Batch:
        """Return the batch without the shares whose authors do not count."""
        kept = tuple(m for m in batch.mentions if self.counts(m))
        return batch if len(kept) == len(batch.mentions) else replace(batch, mentions=kept)


def _entries(path: str | None) -> list[str]:
    if not path:
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [e for e in (line.split("#", 1)[0].strip() for line in lines) if e]


def _split(entry: str) -> tuple[str | None, str]:
    network, sep, handle = entry.partition(":")
    return (network.strip().lower(), _handle(handle)) if sep else (None, _handle(entry))


def load_account_filter(allow_path: str | None, block_path: str | None) -> AccountFilter:
    """Read the allow- and blocklist files: one `network:handle` a line, `#` starts a comment.

    A bare handle in the blocklist is blocked on every network; in the allowlist it is ignored,
    because an allowlist only makes sense per network.

    Raises:
        OSError: a named file cannot be read.
    """
    allow: dict[str, set[str]] = {}
    for entry in _entries(allow_path):
        network, handle = _split(entry)
        if network is None:
            logger.warning("allowlist entry %r names no network; ignored", entry)
            continue
        allow.setdefault(network, set()).add(handle)
    block = set()
    for entry in _entries(block_path):
        network, handle = _split(entry)
        block.add(handle if network is None else f"{network}:{handle}")
    return AccountFilter({n: frozenset(h) for n, h in allow.items()}, frozenset(block))


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll did and when the source should be polled next.

    `skipped`: not polled, because another process held the source's lock.
    """

    source: str
    ok: bool
    next_due: datetime
    report: ImportReport | None = None
    error: str | None = None
    skipped: bool = False


def backoff_delay(
    poll_interval: float,
    failures: int,
    retry_after: float | None = None,
    cap: float = MAX_BACKOFF,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after `failures` failures in a row.

    At least the poll interval, at most the interval doubled once per failure and capped (full
    jitter in between, see core/backoff.py), and never shorter than the source's Retry-After.
    """
    delay = poll_interval
    if failures > 0:
        backoff = Backoff(first=poll_interval, cap=max(cap, poll_interval), jitter=jitter)
        delay = max(poll_interval, backoff.delay(failures))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def _error_text(exc: BaseException) -> str:
    # SourceUnavailable messages are written by our sources (status and host only). Other
    # exceptions may carry anything, a URL with a key or a token included, so only their type
    # is kept.
    text = str(exc) if isinstance(exc, SourceUnavailable) else type(exc).__name__
    return text[:ERROR_TEXT_LIMIT]


async def previous_health(repo: SourceStore, name: str) -> SourceHealth:
    """The source's stored health record, so counts carry on across polls and restarts."""
    try:
        records = await repo.health()
    except Exception as exc:  # advisory: without it the failure count merely restarts
        if not is_expected(exc):
            logger.exception("could not read the health of source %s", name)
        # An outage of the database fails the poll too, which says so in its own line.
        records = []
    return next((r for r in records if r.source == name), SourceHealth(source=name))


async def _poll_once(source: MentionSource, cursor: str | None, limit: float | None) -> Batch:
    if limit is None:
        return await source.poll(cursor)
    try:
        async with asyncio.timeout(limit):
            return await source.poll(cursor)
    except TimeoutError as exc:
        raise SourceUnavailable(f"poll timed out after {limit:g} s") from exc


async def poll_source(
    source: MentionSource,
    repo: SourceStore,
    clock: Clock,
    account_filter: AccountFilter | None = None,
    *,
    poll_timeout: float | None = None,
    max_backoff: float = MAX_BACKOFF,
    jitter: Callable[[], float] = random.random,
) -> PollOutcome:
    """Poll one source, commit its rows with its cursor and record its health.

    Never raises for a failing source (only for cancellation): the failure is logged, recorded
    in the source's health, the cursor stays where it was and the outcome says when to retry.
    """
    previous = await previous_health(repo, source.name)
    try:
        cursor = await repo.get_cursor(source.name)
        batch = await _poll_once(source, cursor, poll_timeout)
        if account_filter is not None:
            batch = account_filter.apply(batch)
        report = await repo.commit_batch(source.name, batch)
    except SourceUnavailable as exc:
        asked = exc.retry_after
        outcome = await _failed(source, repo, clock, previous, exc, asked, max_backoff, jitter)
        why = outcome.error
        logger.warning("source %s unavailable: %s; %s", source.name, why, _next_try(outcome, clock))
        return outcome
    except Exception as exc:  # a bug in one source must not stop the others
        outcome = await _failed(source, repo, clock, previous, exc, None, max_backoff, jitter)
        # The database or the network: one line, no traceback; a bug: its traceback.
        log_failure(logger, exc, "source %s failed", source.name, then=_next_try(outcome, clock))
        return outcome
    return await _succeeded(source, repo, clock, previous, batch, report)


def _next_try(outcome: PollOutcome, clock: Clock) -> str:
    return f"next try in {(outcome.next_due - clock.now()).total_seconds():.0f} s"


async def _succeeded(
    source: MentionSource,
    repo: SourceStore,
    clock: Clock,
    previous: SourceHealth,
    batch: Batch,
    report: ImportReport,
) -> PollOutcome:
    now = clock.now()
    # A listing brings papers, not shares: they are items seen all the same.
    seen = previous.items_seen + len(batch.mentions) + len(batch.snapshots) + len(batch.papers)
    health = replace(previous, last_success=now, items_seen=seen, consecutive_failures=0)
    await _record(repo, health)
    next_due = now + timedelta(seconds=source.poll_interval)
    return PollOutcome(source.name, ok=True, next_due=next_due, report=report)


async def _failed(
    source: MentionSource,
    repo: SourceStore,
    clock: Clock,
    previous: SourceHealth,
    exc: BaseException,
    retry_after: float | None,
    max_backoff: float,
    jitter: Callable[[], float],
) -> PollOutcome:
    now = clock.now()
    failures = previous.consecutive_failures + 1
    text = _error_text(exc)
    await _record(
        repo, replace(previous, last_error=text, last_error_at=now, consecutive_failures=failures)
    )
    delay = backoff_delay(source.poll_interval, failures, retry_after, max_backoff, jitter)
    return PollOutcome(source.name, ok=False, next_due=now + timedelta(seconds=delay), error=text)


async def _record(repo: SourceStore, health: SourceHealth) -> None:
    try:
        await repo.record_health(health)
    except Exception as exc:  # the health record is advisory; losing one must not fail the poll
        if not is_expected(exc):
            logger.exception("could not record the health of source %s", health.source)


class SourceRunner:
    """Keeps each source's next due time and polls the due ones concurrently.

    A scheduler calls `run_due` every so often; each source still follows its own interval and
    backoff. A poll that hangs is cut off after `poll_timeout` seconds and counts as a failure,
    so one stuck source cannot hold up the others' next round.

    With `locks` (several processes sharing one database), a source is polled only while this
    process holds the lock `source:<name>`. A source whose lock another process holds is
    skipped, with nothing recorded, and tried again at the next call. Once the lock is taken,
    a source another process polled recently is left until its stored health says it is due,
    so the replicas together poll each source once per interval, not once each.
    """

    def __init__(
        self,
        sources: Iterable[MentionSource],
        repo: SourceStore,
        clock: Clock,
        account_filter: AccountFilter | None = None,
        *,
        poll_timeout: float = 300.0,
        max_backoff: float = MAX_BACKOFF,
        locks: Locks | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sources = _by_name(sources)
        self._repo = repo
        self._clock = clock
        self._filter = account_filter
        self._poll_timeout = poll_timeout
        self._max_backoff = max_backoff
        self._locks = locks
        self._jitter = jitter
        self._due: dict[str, datetime] = {}
        self._running: set[str] = set()

    def next_due(self, name: str) -> datetime | None:
        """When a source is next due; None means at the next call of `run_due`."""
        return self._due.get(name)

    async def run_due(self, now: datetime | None = None) -> list[PollOutcome]:
        """Poll every source due at `now` (default: the clock's time) and return the outcomes.

        Sources skipped because of `locks` have no outcome.
        """
        now = self._clock.now() if now is None else now
        due = [
            source
            for name, source in self._sources.items()
            if name not in self._running and (name not in self._due or self._due[name] <= now)
        ]
        # Marked before any poll starts, so an overlapping call cannot start them twice.
        names = {source.name for source in due}
        self._running |= names
        try:
            outcomes = await asyncio.gather(*(self._run(source, now) for source in due))
        finally:
            self._running -= names
        return [outcome for outcome in outcomes if outcome is not None]

    async def _run(self, source: MentionSource, now: datetime) -> PollOutcome | None:
        if self._locks is None:
            return await self._poll(source)
        try:
            async with self._locks.hold(f"source:{source.name}") as held:
                if not held:
                    logger.debug("source %s is polled by another process; skipped", source.name)
                    return None
                stored = await previous_health(self._repo, source.name)
                due = _stored_due(stored, source.poll_interval, self._max_backoff)
                if due is not None and due > now:
                    self._due[source.name] = due
                    return None
                return await self._poll(source)
        except LockLost:
            logger.warning("lost the lock of source %s while polling; next round", source.name)
        except Exception as exc:  # the lock's database: polling would fail too, so wait for it
            # Only the type, as for a failed poll: a driver's message may quote the URL.
            logger.warning(
                "could not lock source %s (%s); next round", source.name, _error_text(exc)
            )
        return None

    async def _poll(self, source: MentionSource) -> PollOutcome:
        outcome = await poll_source(
            source,
            self._repo,
            self._clock,
            self._filter,
            poll_timeout=self._poll_timeout,
            max_backoff=self._max_backoff,
            jitter=self._jitter,
        )
        self._due[source.name] = outcome.next_due
        return outcome


def _stored_due(health: SourceHealth, poll_interval: float, max_backoff: float) -> datetime | None:
    """When the last poll recorded in `health`, by whichever process, makes the source due.

    The other process drew its own jitter; waiting out the longest it could have drawn keeps
    the replicas from polling a failing source sooner than any one of them would.
    """
    last = max((t for t in (health.last_success, health.last_error_at) if t), default=None)
    if last is None:
        return None
    failures = health.consecutive_failures if last == health.last_error_at else 0
    delay = backoff_delay(poll_interval, failures, cap=max_backoff, jitter=longest)
    return last + timedelta(seconds=delay)


def _by_name(sources: Iterable[MentionSource]) -> dict[str, MentionSource]:
    # Two sources with one name would share, and overwrite, one cursor.
    index: dict[str, MentionSource] = {}
    for source in sources:
        if source.name in index:
            raise ValueError(f"two sources are named {source.name!r}")
        index[source.name] = source
    return index
