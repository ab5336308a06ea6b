"""`SqlSubscriptionStore`: subscriptions and deliveries on SQLite or PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import ChatRef, Platform
from core.storage.ranking_reads import read_session
from core.storage.subscription_tables import DeliveryRow, SentPaperRow, SubscriptionRow
from core.storage.upsert import chunks, insert_for, is_postgres, of_chat
from core.subscriptions import Delivery, DeliveryStatus, NewDelivery, Outcome, Subscription


class SqlSubscriptionStore:
    """Digest subscriptions, the delivery queue and the papers each chat got."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def subscribe(self, subscription: Subscription) -> Subscription:
        """Create or replace the chat's subscription."""
        values = _subscription_values(subscription)
        async with self._factory() as session, session.begin():
            stmt = insert_for(session, SubscriptionRow).values(**values)
            keys = ("platform", "chat_id")
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys), set_={k: v for k, v in values.items() if k not in keys}
            )
            await session.execute(stmt)
        return subscription

    async def unsubscribe(self, chat: ChatRef) -> bool:
        """Remove the chat's subscription."""
        async with self._factory() as session, session.begin():
            result = await session.execute(
                delete(SubscriptionRow).where(*of_chat(SubscriptionRow, chat))
            )
            return bool(cast(Any, result).rowcount)

    async def get(self, chat: ChatRef) -> Subscription | None:
        """Return the chat's subscription."""
        async with read_session(self._factory) as session:
            row = await session.scalar(
                select(SubscriptionRow).where(*of_chat(SubscriptionRow, chat))
            )
            return None if row is None else _subscription(row)

    async def active(self) -> list[Subscription]:
        """Return every active subscription."""
        async with read_session(self._factory) as session:
            rows = await session.execute(select(SubscriptionRow).where(SubscriptionRow.active))
            return [_subscription(r) for r in rows.scalars()]

    async def deactivate(self, chat: ChatRef, reason: str) -> None:
        """Stop the chat's digests, keeping its settings for /settings."""
        async with self._factory() as session, session.begin():
            await session.execute(
                update(SubscriptionRow)
                .where(*of_chat(SubscriptionRow, chat))
                .values(active=False, inactive_reason=reason)
            )

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        """Carry a subscription, its deliveries and its history over to the chat's new id."""
        async with self._factory() as session, session.begin():
            for table in (SubscriptionRow, DeliveryRow, SentPaperRow):
                await session.execute(
                    update(table).where(*of_chat(table, old)).values(chat_id=new.chat_id)
                )

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> int:
        """Insert-or-ignore on (chat, local date): re-runs and replicas add nothing."""
        rows = [
            {
                "platform": d.chat.platform,
                "chat_id": d.chat.chat_id,
                "local_date": d.local_date,
                "due_at": d.due_at,
                "status": d.status,
                "attempts": 0,
                "not_before": d.due_at,
                "finished_at": d.due_at if d.status == "missed" else None,
            }
            for d in deliveries
        ]
        async with self._factory() as session, session.begin():
            stmt = insert_for(session, DeliveryRow).on_conflict_do_nothing()
            result = await session.execute(stmt.returning(DeliveryRow.id), rows)
            return len(result.all())

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease_seconds: float,
        platforms: Collection[str] | None = None,
    ) -> list[Delivery]:
        """Mark up to `limit` due deliveries as ours, skipping rows other senders hold."""
        stale = now - timedelta(seconds=lease_seconds)
        due = or_(
            and_(DeliveryRow.status == "pending", DeliveryRow.not_before <= now),
            and_(DeliveryRow.status == "sending", DeliveryRow.claimed_at < stale),
        )
        if platforms is not None:
            due = and_(due, DeliveryRow.platform.in_(list(platforms)))
        async with self._factory() as session, session.begin():
            pick = select(DeliveryRow.id).where(due).order_by(DeliveryRow.due_at).limit(limit)
            if is_postgres(session):
                pick = pick.with_for_update(skip_locked=True)
            ids = list((await session.execute(pick)).scalars())
            if not ids:
                return []
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids))
                .values(status="sending", claimed_at=now, attempts=DeliveryRow.attempts + 1)
            )
            rows = await session.execute(
                select(DeliveryRow, SubscriptionRow)
                .join(
                    SubscriptionRow,
                    and_(
                        SubscriptionRow.platform == DeliveryRow.platform,
                        SubscriptionRow.chat_id == DeliveryRow.chat_id,
                    ),
                    isouter=True,
                )
                .where(DeliveryRow.id.in_(ids))
                .order_by(DeliveryRow.due_at)
            )
            claimed, orphans = [], []
            for delivery, sub in rows.all():
                if sub is None or not sub.active:
                    orphans.append(delivery.id)
                else:
                    claimed.append(_delivery(delivery, _subscription(sub)))
            if orphans:  # unsubscribed or deactivated after the digest was queued
                await session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id.in_(orphans))
                    .values(status="failed", error="no active subscription", finished_at=now)
                )
            return claimed

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
        """Record the outcome and, in the same transaction, the papers the chat got."""
        await self.finish_many(
            [Outcome(delivery_id, status, now, message_id, error, tuple(papers))]
        )

    async def finish_many(self, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes and the papers each chat got: three statements, one transaction."""
        if not outcomes:
            return
        async with self._factory() as session, session.begin():
            # The chat comes from the row, not the claim: a group that moved since has its new id.
            chats: dict[int, tuple[str, str]] = {}
            for part in chunks([o.delivery_id for o in outcomes]):
                rows = await session.execute(
                    select(DeliveryRow.id, DeliveryRow.platform, DeliveryRow.chat_id).where(
                        DeliveryRow.id.in_(part)
                    )
                )
                chats.update((i, (platform, chat_id)) for i, platform, chat_id in rows)
            found = [o for o in outcomes if o.delivery_id in chats]
            if not found:
                return
            # An UPDATE by primary key, run as one executemany for the batch.
            await session.execute(
                update(DeliveryRow),
                [
                    {
                        "id": o.delivery_id,
                        "status": o.status,
                        "message_id": o.message_id,
                        "error": o.error,
                        "finished_at": o.at,
                    }
                    for o in found
                ],
            )
            # One row a chat and paper: PostgreSQL refuses to upsert a row twice in a statement.
            # The later outcome wins, as it would recorded on its own after the earlier one.
            sent = {(*chats[o.delivery_id], paper): o.at for o in found for paper in o.papers}
            if sent:
                stmt = insert_for(session, SentPaperRow)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["platform", "chat_id", "arxiv_id"],
                    set_={"sent_at": stmt.excluded.sent_at},
                )
                values = [
                    {"platform": p, "chat_id": c, "arxiv_id": a, "sent_at": at}
                    for (p, c, a), at in sent.items()
                ]
                await session.execute(stmt, values)

    async def retry(self, delivery_id: int, not_before: datetime, error: str) -> None:
        """Put a claimed delivery back in the queue."""
        async with self._factory() as session, session.begin():
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id)
                .values(status="pending", not_before=not_before, error=error, claimed_at=None)
            )

    async def recently_sent(self, chat: ChatRef, since: datetime) -> set[str]:
        """Papers the chat got since `since`."""
        return (await self.recently_sent_to([chat], since))[chat]

    async def recently_sent_to(
        self, chats: Collection[ChatRef], since: datetime
    ) -> dict[ChatRef, set[str]]:
        """Papers each chat got since `since`: one query a platform and few hundred chats."""
        found: dict[ChatRef, set[str]] = {chat: set() for chat in chats}
        by_platform: dict[Platform, list[str]] = defaultdict(list)
        for chat in found:
            by_platform[chat.platform].append(chat.chat_id)
        async with read_session(self._factory) as session:
            for platform, ids in by_platform.items():
                for part in chunks(ids):
                    rows = await session.execute(
                        select(SentPaperRow.chat_id, SentPaperRow.arxiv_id).where(
                            SentPaperRow.platform == platform,
                            SentPaperRow.chat_id.in_(part),
                            SentPaperRow.sent_at >= since,
                        )
                    )
                    for chat_id, arxiv_id in rows:
                        found[ChatRef(platform, chat_id)].add(arxiv_id)
        return found

    async def last_delivery(self, chat: ChatRef) -> Delivery | None:
        """The chat's latest delivery, with its subscription as it is now."""
        async with read_session(self._factory) as session:
            row = await session.scalar(
                select(DeliveryRow)
                .where(*of_chat(DeliveryRow, chat))
                .order_by(DeliveryRow.local_date.desc())
                .limit(1)
            )
            if row is None:
                return None
            sub = await session.scalar(
                select(SubscriptionRow).where(*of_chat(SubscriptionRow, chat))
            )
            return _delivery(row, _subscription(sub) if sub else Subscription(chat))


def _subscription_values(s: Subscription) -> dict[str, Any]:
    return {
        "platform": s.chat.platform,
        "chat_id": s.chat.chat_id,
        "minute_of_day": s.at.hour * 60 + s.at.minute,
        "timezone": s.timezone,
        "size": s.size,
        "categories": " ".join(s.categories),
        "words": "\t".join(s.words),
        "following": s.following,
        "active": s.active,
        "inactive_reason": s.inactive_reason,
        "created_at": s.created_at,
    }


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        chat=ChatRef(cast(Platform, row.platform), row.chat_id),
        at=time(row.minute_of_day // 60, row.minute_of_day % 60),
        timezone=row.timezone,
        size=row.size,
        categories=tuple(row.categories.split()),
        words=tuple(w for w in row.words.split("\t") if w),
        active=row.active,
        created_at=row.created_at,
        inactive_reason=row.inactive_reason,
        following=row.following,
    )


def _delivery(row: DeliveryRow, subscription: Subscription) -> Delivery:
    return Delivery(
        id=row.id,
        subscription=subscription,
        local_date=row.local_date,
        due_at=row.due_at,
        status=cast(DeliveryStatus, row.status),
        attempts=row.attempts,
        message_id=row.message_id,
        error=row.error,
        finished_at=row.finished_at,
    )
