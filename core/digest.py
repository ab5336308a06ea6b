"""Daily digests: which are due and what they hold; core/sending.py sends them.

What runs is plain coroutines (`dispatch_due_digests`, and core/sending.py's), tested with a
fixed clock; when they run is core/scheduling.py.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from core.cards import ranked
from core.follows import FollowLists
from core.models import PaperStats
from core.phrases import source_name
from core.ports import PaperRepository, TopQuery
from core.ranking import rank_papers
from core.replies import PaperList
from core.subscriptions import Delivery, NewDelivery, Subscription, SubscriptionStore

GRACE = timedelta(hours=6)  # a digest missed while we were down still goes out this late
REPEAT_WINDOW = timedelta(days=7)  # a paper a chat got this recently is left out
# How far back a dispatcher looks for digests missed while no dispatcher ran: days older than
# this are not recorded at all. Each day looked at is a row per subscription to insert-or-ignore.
MISSED_LOOKBACK = timedelta(days=7)


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
    subscription: Subscription, now: datetime, grace: timedelta, since: datetime | None = None
) -> list[NewDelivery]:
    """The deliveries that should exist by `now`: today's and yesterday's, local time.

    With `since` (the last time a dispatcher ran), also every day's from the day before it on.
    A digest due before the subscription existed is not wanted; one due longer ago than
    `grace` is recorded as missed.
    """
    zone = ZoneInfo(subscription.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=1)
    if since is not None:
        first = min(first, since.astimezone(zone).date() - timedelta(days=1))
    wanted = []
    for days in range((today - first).days + 1):
        local_date = first + timedelta(days=days)
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
    store: SubscriptionStore,
    now: datetime,
    grace: timedelta = GRACE,
    *,
    since: datetime | None = None,
) -> int:
    """Enqueue every due digest once; running it again (or on another replica) adds nothing.

    Pass `since`, the last time a dispatcher ran, so days missed during a longer outage are
    recorded as missed too (at most `MISSED_LOOKBACK` back); without it only today and
    yesterday are looked at.
    """
    if since is not None:
        since = max(since, now - MISSED_LOOKBACK)
    wanted = [d for s in await store.active() for d in due_deliveries(s, now, grace, since)]
    return await store.enqueue(wanted) if wanted else 0


class DigestBuilder:
    """Builds each distinct digest once per filter set and day, then trims it per chat.

    Sends run concurrently, so the first to need a digest starts building it and the others
    await the same task instead of building it again.
    """

    def __init__(
        self,
        papers: PaperRepository,
        now: datetime,
        depth: int = 60,
        *,
        follows: FollowLists | None = None,
    ) -> None:
        self._papers = papers
        self._follows = follows
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
        # Only as far down the list as it takes: this runs once a chat.
        fresh = islice((s for s in candidates if s.paper.arxiv_id not in already_sent), sub.size)
        return PaperList(
            heading=_heading(sub, delivery.local_date),
            papers=ranked(list(fresh), 1),
            empty_note=(
                "None of the accounts this chat follows shared anything new."
                if sub.following
                else "Nothing new was shared today."
            ),
            footer=await self.footer(),
        )

    async def _candidates(self, sub: Subscription) -> list[PaperStats]:
        queries = [TopQuery("trending", self._depth, 0, c, sub.words) for c in sub.categories]
        found: dict[str, PaperStats] = {}
        for query in queries or [TopQuery("trending", self._depth, 0, None, sub.words)]:
            if sub.following:
                # Without follow lists in this process a follows' digest has nothing to rank.
                listed = (
                    await self._follows.top(sub.chat, query, self._now) if self._follows else []
                )
            else:
                listed = await self._papers.top(query, self._now)
            for stats in listed:
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
    if sub.following:
        heading += " · from the accounts this chat follows"
    return heading


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
