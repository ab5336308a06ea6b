"""What the digest tests share: chats, subscriptions, a dispatcher loop and known bugs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import cast

from core.digest import dispatch_due_digests
from core.models import ChatRef, PaperStats, Platform, SourceHealth
from core.ports import PaperRepository, TopQuery
from core.replies import PaperList, Reply
from core.subscriptions import Delivery, Subscription, SubscriptionStore
from tests.conftest import START
from tests.storage.builders import share

LEASE = 300.0
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
FAR_FUTURE = START + timedelta(days=3650)
PAPERS = tuple(f"2611.000{i:02d}" for i in range(1, 31))


def chat(chat_id: str, platform: Platform = "telegram") -> ChatRef:
    return ChatRef(platform, chat_id)


def subscription(
    chat_ref: ChatRef,
    at: time = time(7, 30),
    timezone: str = "UTC",
    *,
    size: int = 10,
    categories: tuple[str, ...] = (),
    words: tuple[str, ...] = (),
    created_at: datetime = LONG_AGO,
) -> Subscription:
    return Subscription(chat_ref, at, timezone, size, categories, words, created_at=created_at)


async def subscribed_rooms(
    store: SubscriptionStore, prefix: str, count: int, *, size: int = 10
) -> list[ChatRef]:
    """`count` group chats `{prefix}0`, `{prefix}1`... subscribed to the 07:30 UTC digest."""
    rooms = [chat(f"{prefix}{n}") for n in range(count)]
    for room in rooms:
        await store.subscribe(subscription(room, size=size))
    return rooms


async def dispatch_every(
    store: SubscriptionStore, start: datetime, end: datetime, step: timedelta
) -> list[tuple[datetime, int]]:
    """Run the dispatcher at every tick from `start` up to `end`; return the ticks that added."""
    added = []
    now = start
    while now < end:
        if new := await dispatch_due_digests(store, now):
            added.append((now, new))
        now += step
    return added


async def queued(store: SubscriptionStore) -> list[Delivery]:
    """Every delivery still waiting to be sent (claims them: call it last)."""
    return await store.claim(100_000, FAR_FUTURE, LEASE)


async def shared_papers(
    repo: PaperRepository, count: int, at: datetime = START, first: int = 0
) -> list[str]:
    """Papers shared by fewer and fewer people, so they rank in the order returned."""
    chosen = list(PAPERS[first : first + count])
    await repo.add_mentions(
        [
            share(arxiv_id, f"fan{k}", at=at)
            for rank, arxiv_id in enumerate(chosen)
            for k in range(len(chosen) - rank)
        ]
    )
    return chosen


def ids_in(reply: Reply) -> list[str]:
    """The arXiv ids a digest lists, in order."""
    assert isinstance(reply, PaperList)
    return [p.paper.arxiv_id for p in reply.papers]


class CountingRepository:
    """Wraps a paper repository to count the reads a digest makes.

    With `pause`, `top` first yields to the event loop, as any real database call does, so
    concurrent sends interleave the way they do in production.
    """

    def __init__(self, inner: PaperRepository, *, pause: bool = False) -> None:
        self.inner = inner
        self.pause = pause
        self.queries: list[TopQuery] = []
        self.health_reads = 0

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        self.queries.append(query)
        if self.pause:
            await asyncio.sleep(0)
        return await self.inner.top(query, now)

    async def health(self) -> list[SourceHealth]:
        self.health_reads += 1
        if self.pause:
            await asyncio.sleep(0)
        return await self.inner.health()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def as_repository(self) -> PaperRepository:
        return cast(PaperRepository, self)
