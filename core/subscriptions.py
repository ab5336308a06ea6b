"""Daily digest subscriptions and their deliveries (DESIGN.md section 6), as plain values."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal, Protocol

from core.models import ChatRef

DeliveryStatus = Literal["pending", "sending", "sent", "empty", "failed", "missed"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat's daily digest: when, in which time zone, how many papers, which ones."""

    chat: ChatRef
    at: time = time(8, 0)
    timezone: str = "UTC"
    size: int = 10
    categories: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    active: bool = True
    created_at: datetime | None = None
    inactive_reason: str | None = None
    following: bool = False  # ranked from the chat's follow list only (core.follows)

    @property
    def filters(self) -> tuple[object, ...]:
        """What selects the papers; digests are built once per distinct filter set.

        A digest of the chat's follows is the chat's own: its chat is part of the set.
        """
        return (self.categories, self.words, self.chat if self.following else None)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One digest for one chat and one local date, and what became of it."""

    id: int
    subscription: Subscription
    local_date: date
    due_at: datetime
    status: DeliveryStatus
    attempts: int = 0  # claims so far, the current one included
    message_id: str | None = None
    error: str | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery the dispatcher wants to exist (insert-or-ignore on chat and local date)."""

    chat: ChatRef
    local_date: date
    due_at: datetime
    status: Literal["pending", "missed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a claimed delivery, to be recorded with `SubscriptionStore.finish_many`."""

    delivery_id: int
    status: DeliveryStatus
    at: datetime
    message_id: str | None = None
    error: str | None = None
    papers: tuple[str, ...] = ()  # what the chat was sent, for the no-repeat window


class SubscriptionStore(Protocol):
    """Subscriptions, deliveries and what each chat was sent."""

    async def subscribe(self, subscription: Subscription) -> Subscription:
        """Create or replace the chat's subscription (active again); return it as stored."""
        ...

    async def unsubscribe(self, chat: ChatRef) -> bool:
        """Remove the chat's subscription; False when there was none."""
        ...

    async def get(self, chat: ChatRef) -> Subscription | None:
        """Return the chat's subscription, active or not."""
        ...

    async def active(self) -> list[Subscription]:
        """Return every active subscription."""
        ...

    async def deactivate(self, chat: ChatRef, reason: str) -> None:
        """Stop a chat's digests (the bot was blocked or removed), keeping its settings."""
        ...

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        """Keep a chat's subscription and deliveries under its new id (a group migration)."""
        ...

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> int:
        """Insert deliveries that do not exist yet; return how many were new."""
        ...

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease_seconds: float,
        platforms: Collection[str] | None = None,
    ) -> list[Delivery]:
        """Take pending deliveries due by `now` (and ones whose sender died) to send.

        Claimed rows are marked `sending` in their own transaction, so another sender skips
        them; a claim older than the lease is taken again. Only deliveries to `platforms`
        (default: all) are taken, so a process claims only what it can send.
        """
        ...

    async def finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
        papers: Sequence[str] = (),
    ) -> None:
        """Record a delivery's outcome and the papers it sent."""
        ...

    async def finish_many(self, outcomes: Sequence[Outcome]) -> None:
        """Record the outcomes of many deliveries, and the papers they sent, all or none.

        The sender records outcomes in batches: a transaction a delivery would cost more than
        the send. An outcome for a delivery that no longer exists is ignored.
        """
        ...

    async def retry(self, delivery_id: int, not_before: datetime, error: str) -> None:
        """Put a claimed delivery back to pending, to be sent after `not_before`."""
        ...

    async def recently_sent(self, chat: ChatRef, since: datetime) -> set[str]:
        """Return the papers sent to the chat since `since`."""
        ...

    async def recently_sent_to(
        self, chats: Collection[ChatRef], since: datetime
    ) -> dict[ChatRef, set[str]]:
        """Return the papers each of `chats` was sent since `since`, in one read.

        Every chat asked about is a key, with an empty set when it was sent nothing.
        """
        ...

    async def last_delivery(self, chat: ChatRef) -> Delivery | None:
        """Return the chat's latest delivery."""
        ...
