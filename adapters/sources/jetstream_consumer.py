"""Bluesky Jetstream consumer: keep the arXiv shares from the live stream of posts and reposts.

`JetstreamConsumer` commits a batch of shares together with the `time_us` of its last event and
resumes a little before that cursor after a disconnect; storage is idempotent per
`(source, post_id, paper)`, so the replayed seconds neither lose nor double anything.
Given `locks`, it consumes only while it holds `source:bluesky`: of several replicas one reads
the stream and the others stand by, trying the lock again every `standby_seconds`.
Decoding the messages is `jetstream`'s part.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from adapters.sources.bluesky_record import SOURCE
from adapters.sources.jetstream import (
    DeleteEvent,
    JetstreamEvent,
    PostEvent,
    RepostEvent,
    decode_message,
    event_mention,
    message_time,
    subscribe_url,
)
from core.backoff import Backoff
from core.faults import describe_error, is_expected
from core.ingest import AccountFilter, SourceStore, previous_health
from core.locks import LockLost, Locks
from core.models import Mention, MentionKind, SourceHealth
from core.ports import Batch, Clock

logger = logging.getLogger(__name__)

Lookup = Callable[[str], Awaitable[Sequence[str]]]
Sleep = Callable[[float], Awaitable[None]]

_NETWORK_ERRORS = (OSError, TimeoutError, WebSocketException)


@dataclass(frozen=True, slots=True)
class JetstreamOptions:
    """How the consumer batches, resumes, backs off and caches."""

    batch_size: int = 500  # events per commit at most
    batch_seconds: float = 1.0  # and at least one commit a second while events arrive
    rewind_seconds: float = 5.0  # Jetstream's docs advise resuming a few seconds early
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    backoff_jitter: Callable[[], float] = field(default=random.random, compare=False)
    cache_size: int = 50_000  # sharing posts remembered, and as many non-sharing subjects
    health_interval: float = 60.0  # seconds between health records while all is well
    open_timeout: float = 10.0
    standby_seconds: float = 30.0  # between tries of the lock while another replica holds it


class _ShareCache:
    """Which posts share which papers: recent sharing posts, then `lookup` for the rest."""

    def __init__(self, lookup: Lookup, size: int) -> None:
        self._lookup = lookup
        self._size = size
        self._shares: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._misses: OrderedDict[str, None] = OrderedDict()

    def remember(self, uri: str, arxiv_ids: Iterable[str]) -> None:
        ids = tuple(dict.fromkeys(arxiv_ids))
        if not ids:
            return
        self._shares[uri] = ids
        self._shares.move_to_end(uri)
        self._misses.pop(uri, None)
        if len(self._shares) > self._size:
            self._shares.popitem(last=False)

    def forget(self, uri: str) -> None:
        self._shares.pop(uri, None)
        self._miss(uri)

    async def papers(self, uri: str) -> tuple[str, ...]:
        """Return the papers the post shares; nothing for a post we do not track."""
        ids = self._shares.get(uri)
        if ids is not None:
            self._shares.move_to_end(uri)
            return ids
        if uri in self._misses:
            return ()
        found = tuple(await self._lookup(uri))
        if found:
            self.remember(uri, found)
        else:
            self._miss(uri)
        return found

    def _miss(self, uri: str) -> None:
        self._misses[uri] = None
        if len(self._misses) > self._size:
            self._misses.popitem(last=False)


class _Pending:
    """The batch being read: shares keyed by post, reposts and quotes to resolve, deletes."""

    def __init__(self) -> None:
        self.events = 0
        self.last = ""  # the last raw message, whose time becomes the cursor
        self.event_us = 0  # the time of the last decoded event, should `last` have none
        self.shares: dict[str, dict[str, Mention]] = {}
        self.reshares: dict[str, PostEvent | RepostEvent] = {}
        self.removed: dict[str, None] = {}

    def discard(self, uri: str) -> None:
        """Drop what this batch holds for a post, so a later delete or create wins."""
        self.shares.pop(uri, None)
        self.reshares.pop(uri, None)
        self.removed.pop(uri, None)


class JetstreamConsumer:
    """Reads Jetstream and commits Bluesky shares with their cursor; reconnects with backoff.

    Args:
        url: Jetstream's base URL (JETSTREAM_URL), e.g. `wss://jetstream2.us-east.bsky.network`.
        repo: Where shares, deletes, the cursor and the health record go.
        clock: The time for health records.
        lookup: The papers a stored post shares, by its at:// URI; asked when a repost or
            quote concerns a post that is not among the recent sharing posts in memory.
        options: Batching, resumption, backoff and cache settings.
        account_filter: Whose shares count (bot accounts are blocked by DID, e.g.
            "bluesky:did:plc:..."); the polled sources get the same one.
        sleep: Waits out the backoff and the standby; tests pass a fake.
        cursor_key: The name the cursor and health record are stored under.
        locks: Shared with the other replicas; the stream is read only while holding
            `source:<cursor_key>`. None reads it unconditionally (one process).
    """

    def __init__(
        self,
        url: str,
        repo: SourceStore,
        clock: Clock,
        lookup: Lookup,
        options: JetstreamOptions | None = None,
        *,
        account_filter: AccountFilter | None = None,
        sleep: Sleep = asyncio.sleep,
        cursor_key: str = SOURCE,
        locks: Locks | None = None,
    ) -> None:
        self._url = url
        self._repo = repo
        self._clock = clock
        self._options = options or JetstreamOptions()
        self._filter = account_filter or AccountFilter()
        self._sleep = sleep
        self._key = cursor_key
        self._locks = locks
        self._cache = _ShareCache(lookup, self._options.cache_size)
        self._pending = _Pending()
        self._floor_us = 0  # the stored cursor: a replayed batch must not move it back
        self._status = self._recorded = SourceHealth(source=cursor_key)
        self._health_at: datetime | None = None  # when `_status` was last recorded
        self._end_when_unreachable = False

    async def run(self, stop: asyncio.Event, *, end_when_unreachable: bool = False) -> None:
        """Consume until `stop` is set; every failure is recorded, waited out and retried.

        With `locks`, stand by while another process holds the stream's lock. With
        `end_when_unreachable` (a one-off listen), a refused or unresolvable connection is
        recorded and sets `stop` at once instead of being retried: offline, nobody should wait.
        """
        self._end_when_unreachable = end_when_unreachable
        if self._locks is None:
            await self._serve(stop)
            return
        name, standing_by = f"source:{self._key}", False
        while not stop.is_set():
            try:
                async with self._locks.hold(name) as held:
                    if held:
                        logger.info("jetstream: holding %s; consuming the stream", name)
                        standing_by = False
                        await self._serve(stop)
            except LockLost:
                logger.warning("jetstream: lost %s; standing by", name)
            except Exception as exc:  # the lock's database; retried like a stream failure
                logger.warning("jetstream: could not ask for %s: %s", name, _describe(exc))
            else:
                if not held and not standing_by:
                    logger.info("jetstream: another process consumes the stream; standing by")
                    standing_by = True
            await self._pause(self._options.standby_seconds, stop)

    async def _serve(self, stop: asyncio.Event) -> None:
        # Carry the stored record on, so counts and failures add up across restarts.
        self._status = self._recorded = await previous_health(self._repo, self._key)
        try:
            await self._run(stop)
        finally:
            # Successes are recorded at most once a minute: keep the last ones on the way out.
            if self._status != self._recorded:
                with contextlib.suppress(Exception):  # storage may be what is failing
                    await self._save_health()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._session(stop)
            except Exception as exc:  # network, protocol and storage faults alike: retry
                failures = self._status.consecutive_failures + 1
                self._status = replace(self._status, consecutive_failures=failures)
                # At least `backoff_initial`: a refused connection fails at once, so a wait the
                # jitter drew near zero would reconnect in a tight loop.
                o = self._options
                backoff = Backoff(o.backoff_initial, o.backoff_max, o.backoff_jitter)
                delay = max(o.backoff_initial, backoff.delay(failures - 1))
                logger.warning(
                    "jetstream: %s; reconnecting in %.1f s",
                    _describe(exc),
                    delay,
                    exc_info=not isinstance(exc, _NETWORK_ERRORS),  # a bug needs its traceback
                )
                await self._record_failure(exc)
                if self._end_when_unreachable and _unreachable(exc):
                    logger.warning("jetstream: cannot be reached; not listening this time")
                    stop.set()
                await self._pause(delay, stop)

    async def _session(self, stop: asyncio.Event) -> None:
        stored = _cursor_us(await self._repo.get_cursor(self._key))
        self._floor_us = stored or 0
        start = None if stored is None else stored - int(self._options.rewind_seconds * 1e6)
        self._pending = _Pending()
        async with connect(
            subscribe_url(self._url, start),
            open_timeout=self._options.open_timeout,
            max_queue=256,
            user_agent_header="trending-arxiv (jetstream consumer)",
        ) as websocket:
            logger.info("jetstream: connected, resuming from %s", start)
            await self._consume(websocket, stop)

    async def _consume(self, websocket: ClientConnection, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                await self._fill(websocket, loop.time() + self._options.batch_seconds)
                await self._flush()
        except ConnectionClosed:
            await self._flush()  # every message that arrived before the drop is whole
            raise

    async def _fill(self, websocket: ClientConnection, deadline: float) -> None:
        """Read messages into the pending batch until it is full or the deadline passes."""
        size, add = self._options.batch_size, self.add_message
        try:
            # One timeout per batch, not per message: a timeout costs ~10 us. Cancelling
            # recv() loses nothing (websockets' documented guarantee).
            async with asyncio.timeout_at(deadline):
                while self._pending.events < size:
                    add(await websocket.recv())
        except TimeoutError:
            pass

    def add_message(self, raw: str | bytes) -> None:
        """Add one raw message to the pending batch; anything malformed is skipped."""
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        pending = self._pending
        pending.events += 1
        pending.last = text  # its time is read once, at the commit
        try:
            event = decode_message(text)
        except Exception:  # a message must never stop the stream; report it and go on
            logger.exception("jetstream: skipped a message that could not be decoded")
            return
        if event is not None:
            pending.event_us = event.time_us
            self._apply(event)

    def _apply(self, event: JetstreamEvent) -> None:
        pending = self._pending
        pending.discard(event.uri)
        if isinstance(event, DeleteEvent):
            pending.removed[event.uri] = None
            self._cache.forget(event.uri)
            return
        if isinstance(event, PostEvent) and event.refs:
            shares = {
                ref.arxiv_id: event_mention(event, ref.arxiv_id, "post", ref.version)
                for ref in event.refs
            }
            if not self._filter.counts(next(iter(shares.values()))):
                return  # a blocked account's post is not tracked, nor are reposts of it
            pending.shares[event.uri] = shares
            self._cache.remember(event.uri, shares)
        if isinstance(event, RepostEvent) or event.quoted is not None:
            pending.reshares[event.uri] = event

    async def _resolve(self, pending: _Pending) -> None:
        """Turn reposts and quotes of tracked posts into shares by the reposter or quoter."""
        for uri, event in pending.reshares.items():
            subject = event.subject if isinstance(event, RepostEvent) else event.quoted
            arxiv_ids = await self._cache.papers(subject) if subject else ()
            if not arxiv_ids:
                continue
            kind: MentionKind = "repost" if isinstance(event, RepostEvent) else "quote"
            if not self._filter.counts(event_mention(event, arxiv_ids[0], kind)):
                continue
            shares = pending.shares.setdefault(uri, {})
            for arxiv_id in arxiv_ids:
                shares.setdefault(arxiv_id, event_mention(event, arxiv_id, kind))
            if isinstance(event, PostEvent):  # a quote that shares is itself a tracked post
                self._cache.remember(uri, shares)

    async def _flush(self) -> None:
        """Commit the pending batch with its cursor; the cursor moves only after the commit."""
        pending, self._pending = self._pending, _Pending()
        time_us = max(message_time(pending.last) or 0, pending.event_us)
        if not time_us:
            return  # nothing read, or nothing readable
        await self._resolve(pending)
        cursor = max(time_us, self._floor_us)
        batch = Batch(
            mentions=tuple(m for shares in pending.shares.values() for m in shares.values()),
            removed=tuple((SOURCE, uri) for uri in pending.removed),
            cursor=str(cursor),
        )
        report = await self._repo.commit_batch(self._key, batch)
        self._floor_us = cursor
        await self._record_success(report.mentions)

    async def _record_success(self, items: int) -> None:
        now = self._clock.now()
        status = self._status
        recovered = status.consecutive_failures > 0
        self._status = replace(
            status,
            last_success=now,
            items_seen=status.items_seen + items,
            consecutive_failures=0,
        )
        due = self._health_at is None or (
            (now - self._health_at).total_seconds() >= self._options.health_interval
        )
        if recovered or due:
            await self._save_health()
            self._health_at = now

    async def _record_failure(self, exc: Exception) -> None:
        self._status = replace(
            self._status, last_error=_describe(exc), last_error_at=self._clock.now()
        )
        try:
            await self._save_health()
        except Exception as failure:  # storage may be what failed; the retry loop goes on
            logger.warning(
                "jetstream: could not record health: %s",
                describe_error(failure),
                exc_info=not is_expected(failure),  # a bug needs its traceback
            )

    async def _save_health(self) -> None:
        await self._repo.record_health(self._status)
        self._recorded = self._status

    async def _pause(self, delay: float, stop: asyncio.Event) -> None:
        """Wait `delay` seconds, or less if `stop` is set meanwhile."""
        sleeper = asyncio.ensure_future(self._sleep(delay))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()


def _unreachable(exc: BaseException) -> bool:
    """Whether the connection could not be made: refused, unresolvable, no route.

    asyncio reports a host whose every address refused as a bare OSError ("Multiple
    exceptions: ..."), so any OSError but a timeout counts; a dropped stream is a
    `ConnectionClosed` instead.
    """
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)


def _cursor_us(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if cursor.isdigit():
        return int(cursor)
    logger.warning("jetstream: ignoring an unreadable cursor %r", cursor[:40])
    return None


def _describe(exc: BaseException) -> str:
    # As in core.ingest: other errors (a database driver's) may quote a URL with a password.
    if isinstance(exc, _NETWORK_ERRORS):
        return describe_error(exc)
    return type(exc).__name__
