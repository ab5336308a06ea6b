"""Daily digests: which are due, what they hold, and sending them exactly once in effect.

What runs is plain coroutines (`dispatch_due_digests`, `send_pending_deliveries`), tested with a
fixed clock; when they run is core/scheduling.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.cards import ranked
from core.delivery import ChatGone, ChatMoved, DeliveryError, DigestSink, RetryLater
from core.models import PaperStats
from core.phrases import source_name
from core.ports import PaperRepository, TopQuery
from core.ranking import rank_papers
from core.replies import PaperList
from core.subscriptions import Delivery, NewDelivery, Subscription, SubscriptionStore

logger = logging.getLogger(__name__)

GRACE = timedelta(hours=6)  # a digest missed while we were down still goes out this late
REPEAT_WINDOW = timedelta(days=7)  # a paper a chat got this recently is left out
MAX_ATTEMPTS = 5
LEASE_SECONDS = 300.0  # a claim older than this belongs to a sender that died


def due_at(subscription: Subscription, local_date: date) -> datetime:
    """The UTC moment of a subscription's digest on a local date.

    A local time that does not exist (the spring-forward gap) maps to just after the gap, and
    one that exists twice (the fall-back hour) to its first occurrence; either way each local
    date has exactly one digest.
    """
    zone = ZoneInfo(subscription.timezone)
    local = datetime.combine(local_date, subscription.at, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def due_deliveries(
    subscription: Subscription, now: datetime, grace: timedelta
) -> list[NewDelivery]:
    """The deliveries that should exist by `now`: today's and yesterday's, local time.

    A digest due before the subscription existed is not wanted; one due longer ago than
    `grace` is recorded as missed.
    """
    today = now.astimezone(ZoneInfo(subscription.timezone)).date()
    wanted = []
    for local_date in (today - timedelta(days=1), today):
        moment = due_at(subscription, local_date)
        # Never retroactive: a digest due before the moment of subscribing is not sent.
        if moment > now or (subscription.created_at and moment < subscription.created_at):
            continue
        late = now - moment > grace
        wanted.append(
            NewDelivery(subscription.chat, local_date, moment, "missed" if late else "pending")
        )
    return wanted


async def dispatch_due_digests(
    store: SubscriptionStore, now: datetime, grace: timedelta = GRACE
) -> int:
    """Enqueue every due digest once; running it again (or on another replica) adds nothing."""
    wanted = [d for s in await store.active() for d in due_deliveries(s, now, grace)]
    return await store.enqueue(wanted) if wanted else 0


class DigestBuilder:
    """Builds each distinct digest once per filter set and day, then trims it per chat.

    Sends run concurrently, so the first to need a digest starts building it and the others
    await the same task instead of building it again.
    """

    def __init__(self, papers: PaperRepository, now: datetime, depth: int = 60) -> None:
        self._papers = papers
        self._now = now
        self._depth = depth
        self._cache: dict[tuple[object, ...], asyncio.Task[list[PaperStats]]] = {}
        self._footer: asyncio.Task[str | None] | None = None

    async def build(self, delivery: Delivery, already_sent: set[str]) -> PaperList:
        """The digest for one chat: the day's most shared papers it has not had lately."""
        sub = delivery.subscription
        key = (sub.filters, delivery.local_date)
        if key not in self._cache:
            self._cache[key] = asyncio.ensure_future(self._candidates(sub))
        candidates = await self._cache[key]
        fresh = [s for s in candidates if s.paper.arxiv_id not in already_sent]
        return PaperList(
            heading=_heading(sub, delivery.local_date),
            papers=ranked(fresh[: sub.size], 1),
            empty_note="Nothing new was shared today.",
            footer=await self.footer(),
        )

    async def _candidates(self, sub: Subscription) -> list[PaperStats]:
        queries = [TopQuery("trending", self._depth, 0, c, sub.words) for c in sub.categories]
        found: dict[str, PaperStats] = {}
        for query in queries or [TopQuery("trending", self._depth, 0, None, sub.words)]:
            for stats in await self._papers.top(query, self._now):
                found.setdefault(stats.paper.arxiv_id, stats)
        return rank_papers(found.values())

    async def footer(self) -> str | None:
        """Names the sources that are failing now, so a thin digest is explained."""
        if self._footer is None:
            self._footer = asyncio.ensure_future(self._read_footer())
        return await self._footer

    async def _read_footer(self) -> str | None:
        down = [h.source for h in await self._papers.health() if not h.healthy]
        if not down:
            return None
        return "Not heard from lately: " + ", ".join(source_name(s) for s in down) + "."


def _heading(sub: Subscription, local_date: date) -> str:
    heading = f"Trending arXiv · {local_date:%A %-d %B %Y}"
    if sub.categories:
        heading += " · " + ", ".join(sub.categories)
    if sub.words:
        heading += " · “" + " ".join(sub.words) + "”"
    return heading


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one sending round did."""

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
) -> SendReport:
    """Claim due deliveries, send each, record each outcome after the platform answered.

    Pass one `builder` to successive rounds of one sending run so each digest is built once.
    """
    claimed = await store.claim(batch, now, lease_seconds, platforms=set(sinks))
    if not claimed:
        return SendReport()
    builder = builder or DigestBuilder(papers, now)
    gate = asyncio.Semaphore(concurrency)

    async def one(delivery: Delivery) -> str:
        async with gate:
            return await _send_one(store, builder, sinks, delivery, now)

    outcomes = await asyncio.gather(*(one(d) for d in claimed))
    return SendReport(
        sent=outcomes.count("sent"),
        empty=outcomes.count("empty"),
        failed=outcomes.count("failed"),
        retried=outcomes.count("retried"),
    )


async def _send_one(
    store: SubscriptionStore,
    builder: DigestBuilder,
    sinks: Mapping[str, DigestSink],
    delivery: Delivery,
    now: datetime,
) -> str:
    chat = delivery.subscription.chat
    sink = sinks.get(chat.platform)
    if sink is None:  # that platform is not running in this process: leave it for later
        await store.retry(delivery.id, now + timedelta(minutes=5), f"no {chat.platform} sender")
        return "retried"
    try:
        sent = await store.recently_sent(chat, now - REPEAT_WINDOW)
        digest = await builder.build(delivery, sent)
    except Exception:  # the store failed us, not the platform: put it back, keep the others
        logger.exception("digest for %s:%s could not be built", chat.platform, chat.chat_id)
        await store.retry(delivery.id, now + timedelta(minutes=1), "digest could not be built")
        return "retried"
    if not digest.papers:
        await store.finish(delivery.id, "empty", now)
        return "empty"
    try:
        message_id = await sink.publish(chat, digest)
    except DeliveryError as exc:
        return await _failed(store, delivery, exc, now)
    except Exception as exc:  # an unknown failure: retry a few times, then give up loudly
        logger.exception("digest to %s:%s failed", chat.platform, chat.chat_id)
        return await _failed(store, delivery, RetryLater(60 * 2**delivery.attempts, repr(exc)), now)
    ids = [p.paper.arxiv_id for p in digest.papers]
    await store.finish(delivery.id, "sent", now, message_id=message_id, papers=ids)
    return "sent"


async def _failed(
    store: SubscriptionStore, delivery: Delivery, exc: DeliveryError, now: datetime
) -> str:
    chat = delivery.subscription.chat
    if isinstance(exc, ChatGone):
        await store.deactivate(chat, exc.reason)
        await store.finish(delivery.id, "failed", now, error=f"chat gone: {exc.reason}")
        return "failed"
    if isinstance(exc, ChatMoved):
        await store.move(chat, exc.new_chat)
        await store.retry(delivery.id, now, "chat moved")
        return "retried"
    if isinstance(exc, RetryLater) and delivery.attempts < MAX_ATTEMPTS:
        await store.retry(delivery.id, now + timedelta(seconds=exc.seconds), str(exc))
        return "retried"
    await store.finish(delivery.id, "failed", now, error=str(exc)[:200])
    return "failed"


def describe_delivery(delivery: Delivery | None) -> str:
    """One line about a chat's last digest, for /settings."""
    if delivery is None:
        return "No digest has been sent yet."
    day = delivery.local_date.isoformat()
    match delivery.status:
        case "sent":
            return f"Last digest: sent for {day}."
        case "empty":
            return f"Last digest: nothing new to send for {day}."
        case "missed":
            return f"Last digest: missed for {day} (the bot was down too long)."
        case "failed":
            return f"Last digest: failed for {day}: {delivery.error or 'unknown error'}."
        case _:
            return f"Digest for {day}: on its way."
