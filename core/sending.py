"""Sending queued digests: claim, build, publish, record, exactly once in effect.

A sending run keeps `concurrency` sends going. Each send records its outcome only after the
platform answered; outcomes are written in batches (core/outcomes.py) and what each chat was sent
lately is read once a claim, because a database round trip a delivery cost more CPU than the
send. `send_pending_deliveries` claims once, a round; `send_due_deliveries` claims again whenever
few claimed deliveries are left, so sends never wait for a whole batch to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.backoff import Backoff
from core.delivery import ChatGone, ChatMoved, DeliveryError, DigestSink, RetryLater
from core.digest import REPEAT_WINDOW, DigestBuilder
from core.faults import log_failure
from core.follows import FollowLists
from core.models import ChatRef
from core.outcomes import OutcomeRecorder
from core.ports import Clock, PaperRepository
from core.subscriptions import Delivery, Outcome, SubscriptionStore

logger = logging.getLogger(__name__)
LATER = "trying again later"

MAX_ATTEMPTS = 5
LEASE_SECONDS = 300.0  # a claim older than this belongs to a sender that died
# After an unknown failure: up to 2, 4, 8, 16 minutes, so MAX_ATTEMPTS spans about half an hour.
RETRY_BACKOFF = Backoff(first=60.0, cap=3600.0)

Recent = asyncio.Future[dict[ChatRef, set[str]]]


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one sending round (or run) did."""

    sent: int = 0
    empty: int = 0
    failed: int = 0
    retried: int = 0


async def send_pending_deliveries(
    store: SubscriptionStore,
    papers: PaperRepository,
    sinks: Mapping[str, DigestSink],
    now: datetime,
    *,
    batch: int = 200,
    concurrency: int = 32,
    builder: DigestBuilder | None = None,
    lease_seconds: float = LEASE_SECONDS,
    backoff: Backoff = RETRY_BACKOFF,
    follows: FollowLists | None = None,
) -> SendReport:
    """Claim up to `batch` due deliveries once, send each, record each outcome after the answer.

    Pass one `builder` to successive rounds of one sending run so each digest is built once.

    Raises:
        Exception: a claim, or recording an outcome, failed; or a send raised something that is
            not an `Exception` (the process is going down). The other sends of the round still
            finish and are recorded first.
    """
    builder = builder or DigestBuilder(papers, now, follows=follows)
    run = _Run(
        store, builder, sinks, lambda: now, lease_seconds, batch, concurrency, backoff, follows
    )
    return await run.send(keep_claiming=False)


async def send_due_deliveries(
    store: SubscriptionStore,
    papers: PaperRepository,
    sinks: Mapping[str, DigestSink],
    clock: Clock,
    *,
    batch: int = 200,
    concurrency: int = 32,
    lease_seconds: float = LEASE_SECONDS,
    backoff: Backoff = RETRY_BACKOFF,
    follows: FollowLists | None = None,
) -> SendReport:
    """Send every due delivery, claiming more as sends finish, until a claim finds none.

    A delivery put back for later (a retry) waits for the next run. Raises as
    `send_pending_deliveries` does, and claims nothing more after the first error.
    """
    builder = DigestBuilder(papers, clock.now(), follows=follows)
    run = _Run(
        store, builder, sinks, clock.now, lease_seconds, batch, concurrency, backoff, follows
    )
    return await run.send(keep_claiming=True)


class _Run:
    """One sending run: its claims, the sends going on, and the outcomes to record."""

    def __init__(
        self,
        store: SubscriptionStore,
        builder: DigestBuilder,
        sinks: Mapping[str, DigestSink],
        clock: Callable[[], datetime],
        lease_seconds: float,
        batch: int,
        concurrency: int,
        backoff: Backoff,
        follows: FollowLists | None = None,
    ) -> None:
        self._store = store
        self._builder = builder
        self._sinks = sinks
        self._clock = clock
        self._lease = lease_seconds
        self._batch = batch
        self._concurrency = max(concurrency, 1)
        self._backoff = backoff
        self._follows = follows  # a moved chat's follow list moves with its digest
        self._keep_claiming = False
        self._low_water = 0  # claim again when this few claimed deliveries are left
        self._outcomes = OutcomeRecorder(store)
        self._claimed: deque[tuple[Delivery, Recent]] = deque()
        self._claiming: asyncio.Task[None] | None = None
        self._done = False  # no more claims: the queue was empty, or something failed
        # Papers sent in this run, which the store may not have yet (outcomes are batched).
        self._sent: dict[ChatRef, set[str]] = {}
        self._counts: Counter[str] = Counter()

    async def send(self, *, keep_claiming: bool) -> SendReport:
        self._keep_claiming = keep_claiming
        if keep_claiming:  # while a wave of sends is still queued, so no send waits for a claim
            self._low_water = self._concurrency
        workers = [asyncio.ensure_future(self._work()) for _ in range(self._concurrency)]
        try:
            await asyncio.wait(workers)
        finally:
            for worker in workers:
                worker.cancel()  # only if we were cancelled: they have all ended otherwise
            await self._outcomes.close()
        for worker in workers:
            if (error := worker.exception()) is not None:
                raise error
        c = self._counts
        return SendReport(c["sent"], c["empty"], c["failed"], c["retried"])

    async def _work(self) -> None:
        try:
            while (item := await self._next()) is not None:
                self._counts[await self._send_one(*item)] += 1
        except BaseException:
            self._done = True  # claim nothing more; the other workers send what is claimed
            raise

    async def _next(self) -> tuple[Delivery, Recent] | None:
        """The next claimed delivery, claiming more when few are left; None when done."""
        while True:
            claiming = self._claiming
            if claiming is not None and claiming.done():
                self._claiming = None
                claiming.result()  # a failed claim ends this worker (and the run) with its error
            wanted = not self._claimed or len(self._claimed) <= self._low_water
            if wanted and self._claiming is None and not self._done:
                self._claiming = asyncio.ensure_future(self._claim())
            if self._claimed:
                return self._claimed.popleft()
            if self._claiming is None:
                return None
            await asyncio.wait([self._claiming])

    async def _claim(self) -> None:
        try:
            now = self._clock()
            claimed = await self._store.claim(
                self._batch, now, self._lease, platforms=set(self._sinks)
            )
            if claimed:
                chats = {d.subscription.chat for d in claimed}
                # One read for the whole claim; a failure fails each send, which then retries.
                recent = asyncio.ensure_future(
                    self._store.recently_sent_to(chats, now - REPEAT_WINDOW)
                )
                self._claimed.extend((d, recent) for d in claimed)
            if not claimed or not self._keep_claiming:
                self._done = True
        except BaseException:
            self._done = True
            raise

    async def _send_one(self, delivery: Delivery, recent: Recent) -> str:
        chat = delivery.subscription.chat
        now = self._clock()
        sink = self._sinks.get(chat.platform)
        if sink is None:  # that platform is not running in this process: leave it for later
            await self._store.retry(
                delivery.id, now + timedelta(minutes=5), f"no {chat.platform} sender"
            )
            return "retried"
        try:
            sent = (await recent)[chat] | self._sent.get(chat, set())
            digest = await self._builder.build(delivery, sent)
        except (
            Exception
        ) as exc:  # the store failed us, not the platform: put it back, keep the others
            log_failure(logger, exc, "digest for %s could not be built", _name(chat), then=LATER)
            await self._store.retry(
                delivery.id, now + timedelta(minutes=1), "digest could not be built"
            )
            return "retried"
        if not digest.papers:
            self._outcomes.add(Outcome(delivery.id, "empty", now))
            return "empty"
        try:
            message_id = await sink.publish(chat, digest)
        except DeliveryError as exc:
            return await self._failed(delivery, exc, now)
        except Exception as exc:  # an unknown failure: retry a few times, then give up loudly
            log_failure(logger, exc, "digest to %s failed", _name(chat), then=LATER)
            later = RetryLater(self._backoff.delay(delivery.attempts), repr(exc))
            return await self._failed(delivery, later, now)
        ids = tuple(p.paper.arxiv_id for p in digest.papers)
        self._sent.setdefault(chat, set()).update(ids)
        sent_at = self._clock()
        self._outcomes.add(Outcome(delivery.id, "sent", sent_at, message_id, papers=ids))
        return "sent"

    async def _failed(self, delivery: Delivery, exc: DeliveryError, now: datetime) -> str:
        chat = delivery.subscription.chat
        if isinstance(exc, ChatGone):
            await self._store.deactivate(chat, exc.reason)
            self._outcomes.add(
                Outcome(delivery.id, "failed", now, error=f"chat gone: {exc.reason}")
            )
            return "failed"
        if isinstance(exc, ChatMoved):
            await self._store.move(chat, exc.new_chat)
            if self._follows is not None:
                await self._follows.move(chat, exc.new_chat)
            await self._store.retry(delivery.id, now, "chat moved")
            return "retried"
        if isinstance(exc, RetryLater) and delivery.attempts < MAX_ATTEMPTS:
            await self._store.retry(delivery.id, now + timedelta(seconds=exc.seconds), str(exc))
            return "retried"
        self._outcomes.add(Outcome(delivery.id, "failed", now, error=str(exc)[:200]))
        return "failed"


def _name(chat: ChatRef) -> str:
    return f"{chat.platform}:{chat.chat_id}"
