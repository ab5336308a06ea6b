"""Test doubles: a clock that stands still, a brute-force in-memory paper store, and digests.

`InMemoryPaperRepository` keeps plain rows and recomputes every number from them on each read,
through the same pure functions as the SQL store (`core.signals`, `core.ranking`). It keeps no
stored scores, so it is the oracle the contract tests hold `SqlPaperRepository` to.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from core.models import (
    SOURCES,
    ChatRef,
    DailySeries,
    Discussion,
    ImportReport,
    Mention,
    Paper,
    PaperStats,
    Platform,
    SourceHealth,
    VoteSnapshot,
    Window,
)
from core.ports import Batch, CardFacts, CardQuery, Clock, SweepReport, TopQuery
from core.ranking import RankingConfig, rank_papers, tie_key
from core.replies import Reply
from core.signals import Signal, Snapshot, paper_stats, share_signal, vote_signal
from core.subscriptions import Delivery, DeliveryStatus, NewDelivery, Outcome, Subscription

UNKNOWN_RETRY = timedelta(days=1)
TRENDING_RANK_DEPTH = 200
INT64 = 2**63  # what an SQL integer column holds; larger counts make a write fail

T = TypeVar("T")


class FixedClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def advance(self, delta: timedelta) -> datetime:
        self.moment += delta
        return self.moment


@dataclass
class _PaperRecord:
    paper: Paper
    unknown_at: datetime | None = None


@dataclass
class _State:
    papers: dict[str, _PaperRecord] = field(default_factory=dict)
    mentions: dict[tuple[str, str, str], Mention] = field(default_factory=dict)
    snapshots: dict[tuple[str, str, str, datetime], VoteSnapshot] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    health: dict[str, SourceHealth] = field(default_factory=dict)


class InMemoryPaperRepository:
    """`PaperRepository` over dicts: every read folds all rows again, nothing is cached."""

    def __init__(self, config: RankingConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._state = _State()

    # --- writes -----------------------------------------------------------------------------

    async def add_mentions(self, mentions: Sequence[Mention]) -> ImportReport:
        return self._write(lambda s: _add_mentions(s, mentions))

    async def remove_mentions(self, keys: Sequence[tuple[str, str]]) -> int:
        return self._write(lambda s: _remove_mentions(s, keys))

    async def papers_of_post(self, source: str, post_id: str) -> list[str]:
        return sorted(k[2] for k in self._state.mentions if k[:2] == (source, post_id))

    async def add_snapshots(self, snapshots: Sequence[VoteSnapshot]) -> int:
        return self._write(lambda s: _add_snapshots(s, snapshots))

    async def save_papers(self, papers: Sequence[Paper]) -> None:
        self._write(lambda s: _save_papers(s, papers))

    async def mark_unknown(self, arxiv_ids: Sequence[str], now: datetime) -> None:
        def mark(state: _State) -> None:
            for arxiv_id in arxiv_ids:
                if arxiv_id in state.papers:
                    state.papers[arxiv_id].unknown_at = _utc(now)

        self._write(mark)

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        def commit(state: _State) -> ImportReport:
            _save_papers(state, batch.papers)
            report = _add_mentions(state, batch.mentions)
            _remove_mentions(state, batch.removed)
            snapshots = _add_snapshots(state, batch.snapshots)
            if batch.cursor is not None:
                state.cursors[source] = batch.cursor
            return replace(report, snapshots=snapshots)

        return self._write(commit)

    async def record_health(self, health: SourceHealth) -> None:
        def record(state: _State) -> None:
            state.health[health.source] = health

        self._write(record)

    def _write(self, change: Callable[[_State], T]) -> T:
        """Apply `change` to a copy and keep it only if nothing raised: one transaction."""
        draft = copy.deepcopy(self._state)
        result = change(draft)
        self._state = draft
        return result

    # --- reads ------------------------------------------------------------------------------

    async def sweep(self, now: datetime) -> SweepReport:
        # Every read here recomputes from the rows at its own `now`: nothing to bring forward.
        return SweepReport(steps=0, rescored=0, longest_step=0.0)

    async def rescore(self) -> int:
        return len(self._state.papers)

    async def get_paper(self, arxiv_id: str) -> Paper | None:
        record = self._state.papers.get(arxiv_id)
        return None if record is None else record.paper

    async def missing_metadata(self, limit: int) -> list[str]:
        retry = self._clock.now() - UNKNOWN_RETRY
        waiting = [
            (-self._stats(r.paper, "all", self._clock.now()).score, arxiv_id)
            for arxiv_id, r in self._state.papers.items()
            if not r.paper.has_metadata and (r.unknown_at is None or r.unknown_at < retry)
        ]
        return [arxiv_id for _, arxiv_id in sorted(waiting)[:limit]]

    async def count_waiting(self) -> int:
        return sum(1 for r in self._state.papers.values() if not r.paper.has_metadata)

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        ranked = self._ranked(query.window, now, lambda p: _matches(p, query))
        return ranked[query.offset : query.offset + query.limit]

    async def paper_stats(self, arxiv_id: str, window: Window, now: datetime) -> PaperStats | None:
        record = self._state.papers.get(arxiv_id)
        return None if record is None else self._stats(record.paper, window, now)

    async def rank_of(self, arxiv_id: str, window: Window, now: datetime) -> int | None:
        ids = [s.paper.arxiv_id for s in self._ranked(window, now, lambda _: True)]
        if window == "trending":
            ids = ids[:TRENDING_RANK_DEPTH]
        return ids.index(arxiv_id) + 1 if arxiv_id in ids else None

    async def daily_shares(self, arxiv_id: str, first: datetime, days: int) -> list[int]:
        counts = [0] * days
        for m in self._mentions_of(arxiv_id):
            if first <= m.posted_at < first + timedelta(days=days):
                counts[(m.posted_at - first).days] += 1
        return counts

    async def daily_shares_by_network(
        self, arxiv_id: str, first: datetime, days: int
    ) -> list[DailySeries]:
        counts: dict[str, list[int]] = {}
        for m in self._mentions_of(arxiv_id):
            if first <= m.posted_at < first + timedelta(days=days):
                counts.setdefault(m.source, [0] * days)[(m.posted_at - first).days] += 1
        order = sorted(counts, key=lambda s: (SOURCES.index(s), "") if s in SOURCES else (99, s))
        return [DailySeries(s, tuple(counts[s])) for s in order]

    async def top_posts(self, arxiv_id: str, limit: int) -> list[Mention]:
        posts: list[Mention] = []
        seen: set[tuple[str, str]] = set()
        for m in sorted(
            self._mentions_of(arxiv_id),
            key=lambda m: (-m.engagement, m.posted_at, m.source, m.post_id),
        ):
            if (m.source, m.author) not in seen:
                seen.add((m.source, m.author))
                posts.append(m)
        return posts[:limit]

    async def discussions(self, arxiv_id: str, limit: int) -> list[Discussion]:
        latest: dict[tuple[str, str], VoteSnapshot] = {}
        for snap in self._state.snapshots.values():
            key = (snap.source, snap.item_id)
            if snap.arxiv_id == arxiv_id and (
                key not in latest or latest[key].taken_at < snap.taken_at
            ):
                latest[key] = snap
        found = [Discussion(s.source, s.url, s.title, s.votes, s.comments) for s in latest.values()]
        found.sort(key=lambda d: (-d.votes, d.source, d.url or ""))
        return found[:limit]

    async def card(self, query: CardQuery, now: datetime) -> CardFacts:
        stats = await self.paper_stats(query.arxiv_id, "trending", now)
        scores = stats is not None and stats.score > 0
        return CardFacts(
            stats=stats,
            rank=await self.rank_of(query.arxiv_id, "trending", now) if scores else None,
            daily_shares=tuple(
                await self.daily_shares(query.arxiv_id, query.first_day, query.days)
            ),
            top_posts=tuple(await self.top_posts(query.arxiv_id, query.posts)),
            discussions=tuple(await self.discussions(query.arxiv_id, query.discussions)),
            by_network=tuple(
                await self.daily_shares_by_network(query.arxiv_id, query.first_day, query.days)
            )
            if query.by_network
            else (),
        )

    async def count_listed(self, query: TopQuery | None, at_most: int) -> int:
        now = self._clock.now()
        if query is None:
            listed = await self.newest(at_most, 0)
        else:
            listed = self._ranked(query.window, now, lambda p: _matches(p, query))
        return min(len(listed), at_most)

    async def newest(self, limit: int, offset: int) -> list[PaperStats]:
        now = self._clock.now()
        shared = [
            stats
            for r in self._state.papers.values()
            if r.paper.published is not None
            and (stats := self._stats(r.paper, "all", now)).score > 0
        ]
        shared.sort(key=lambda s: (s.paper.published, s.paper.arxiv_id), reverse=True)
        return shared[offset : offset + limit]

    async def search(self, words: Sequence[str], limit: int, now: datetime) -> list[PaperStats]:
        query = TopQuery(words=tuple(words))
        found = [
            self._stats(r.paper, "all", now)
            for r in self._state.papers.values()
            if _matches(r.paper, query)
        ]
        found.sort(key=tie_key, reverse=True)
        return found[:limit]

    async def categories(self) -> list[str]:
        counts = Counter(c for r in self._state.papers.values() for c in r.paper.categories)
        return sorted(counts, key=lambda c: (-counts[c], c))

    async def get_cursor(self, source: str) -> str | None:
        return self._state.cursors.get(source)

    async def health(self) -> list[SourceHealth]:
        return [self._state.health[k] for k in sorted(self._state.health)]

    async def is_empty(self) -> bool:
        return not self._state.papers

    def followed_top(
        self,
        authors: Collection[tuple[str, str]],
        query: TopQuery,
        now: datetime,
        since: datetime | None,
    ) -> list[PaperStats]:
        """`FollowLists.top` by brute force: papers ranked by the shares of `authors` only.

        `authors` holds `(network, author)` pairs; a sharer counts when their last share is
        since `since` (always, without one). Ties break by more networks, then the newest of
        those shares, then the higher id.
        """
        found = []
        for record in self._state.papers.values():
            if not _matches(record.paper, query):
                continue
            mentions = self._mentions_of(record.paper.arxiv_id)
            spans: dict[tuple[str, str], list[datetime]] = {}
            for m in mentions:
                if (m.source, m.author) in authors:
                    span = spans.setdefault((m.source, m.author), [m.posted_at, m.posted_at])
                    span[0], span[1] = min(span[0], m.posted_at), max(span[1], m.posted_at)
            sharers: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
            for (source, _), (first, last) in spans.items():
                if since is None or last >= since:
                    sharers[source].append((first, last))
            if not sharers:
                continue
            signals = [
                share_signal(src, pairs, now, self._config) for src, pairs in sharers.items()
            ]
            last_share = max(m.posted_at for m in mentions)
            stats = paper_stats(record.paper, signals, query.window, now, self._config, last_share)
            newest = max(last for pairs in sharers.values() for _, last in pairs)
            found.append(((stats.score, stats.networks, newest, record.paper.arxiv_id), stats))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [stats for _, stats in found][query.offset : query.offset + query.limit]

    # --- folding rows into numbers ----------------------------------------------------------

    def _ranked(
        self, window: Window, now: datetime, keep: Callable[[Paper], bool]
    ) -> list[PaperStats]:
        return rank_papers(
            self._stats(r.paper, window, now) for r in self._state.papers.values() if keep(r.paper)
        )

    def _stats(self, paper: Paper, window: Window, now: datetime) -> PaperStats:
        mentions = self._mentions_of(paper.arxiv_id)
        last_share = max((m.posted_at for m in mentions), default=None)
        return paper_stats(
            paper, self._signals(paper.arxiv_id, now), window, now, self._config, last_share
        )

    def _signals(self, arxiv_id: str, now: datetime) -> list[Signal]:
        spans: dict[tuple[str, str], list[datetime]] = {}
        for m in self._mentions_of(arxiv_id):
            span = spans.setdefault((m.source, m.author), [m.posted_at, m.posted_at])
            span[0], span[1] = min(span[0], m.posted_at), max(span[1], m.posted_at)
        sharers: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for (source, _), (first, last) in spans.items():
            sharers[source].append((first, last))
        series: dict[str, list[Snapshot]] = defaultdict(list)
        for s in self._state.snapshots.values():
            if s.arxiv_id == arxiv_id:
                series[s.source].append(Snapshot(s.item_id, s.taken_at, s.votes, s.comments))
        return [share_signal(src, pairs, now, self._config) for src, pairs in sharers.items()] + [
            vote_signal(src, snaps, now, self._config) for src, snaps in series.items()
        ]

    def _mentions_of(self, arxiv_id: str) -> list[Mention]:
        return [m for m in self._state.mentions.values() if m.arxiv_id == arxiv_id]


# --- write steps, shared by the single writes and commit_batch ----------------------------------


def _add_mentions(state: _State, mentions: Sequence[Mention]) -> ImportReport:
    for m in mentions:
        _check_ints(m.engagement, m.version)
    _track(state, (m.arxiv_id for m in mentions))
    new: set[str] = set()
    added = 0
    for m in mentions:
        key = (m.source, m.post_id, m.arxiv_id)
        if key not in state.mentions:
            state.mentions[key] = replace(m, posted_at=_utc(m.posted_at))
            new.add(m.arxiv_id)
            added += 1
    return ImportReport(mentions=added, papers=len(new))


def _remove_mentions(state: _State, keys: Sequence[tuple[str, str]]) -> int:
    wanted = set(keys)
    gone = [k for k in state.mentions if (k[0], k[1]) in wanted]
    for k in gone:
        del state.mentions[k]
    return len(gone)


def _add_snapshots(state: _State, snapshots: Sequence[VoteSnapshot]) -> int:
    for s in snapshots:
        _check_ints(s.votes, s.comments)
    _track(state, (s.arxiv_id for s in snapshots))
    added = 0
    for s in snapshots:
        key = (s.source, s.item_id, s.arxiv_id, _utc(s.taken_at))
        if key not in state.snapshots:
            state.snapshots[key] = replace(s, taken_at=_utc(s.taken_at))
            added += 1
    return added


def _save_papers(state: _State, papers: Sequence[Paper]) -> None:
    for p in papers:
        if not p.has_metadata:
            continue  # a paper arXiv did not describe keeps whatever we knew
        _check_ints(p.version)
        described = replace(
            p,
            published=None if p.published is None else _utc(p.published),
            updated=None if p.updated is None else _utc(p.updated),
        )
        known = state.papers.get(p.arxiv_id)
        if known is not None:  # a listing may not know what the API told us: keep it
            kept = {
                name: getattr(known.paper, name)
                for name in ("authors", "abstract", "categories", "published", "updated", "version")
                if getattr(described, name) in (None, ()) and getattr(known.paper, name)
            }
            described = replace(described, **kept)
        state.papers[p.arxiv_id] = _PaperRecord(described)


def _track(state: _State, arxiv_ids: Iterable[str]) -> None:
    for arxiv_id in arxiv_ids:
        state.papers.setdefault(arxiv_id, _PaperRecord(Paper(arxiv_id)))


def _matches(paper: Paper, query: TopQuery) -> bool:
    if query.category and not any(
        c == query.category or ("." not in query.category and c.startswith(query.category + "."))
        for c in paper.categories
    ):
        return False
    if not query.words:
        return True
    if not paper.has_metadata:
        return False
    text = f"{paper.title or ''} {paper.abstract or ''}".lower()
    return all(w.lower() in text for w in query.words)


def _check_ints(*values: int | None) -> None:
    for v in values:
        if v is not None and not -INT64 <= v < INT64:
            raise OverflowError(f"{v} does not fit in a 64-bit integer column")


def _utc(moment: datetime) -> datetime:
    """Times are stored as UTC, naive ones taken to be UTC already (as `UtcDateTime` does)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- digests: subscriptions, deliveries and the platforms' sinks --------------------------------


@dataclass
class _DeliveryRow:
    id: int
    chat: ChatRef
    local_date: date
    due_at: datetime
    status: DeliveryStatus
    not_before: datetime
    attempts: int = 0
    claimed_at: datetime | None = None
    message_id: str | None = None
    error: str | None = None
    finished_at: datetime | None = None


class InMemorySubscriptionStore:
    """`SubscriptionStore` over dicts, with the semantics of `SqlSubscriptionStore`.

    Subscriptions are keyed by chat, deliveries by id and by (chat, local date), sent papers by
    (chat, paper). Values round-trip as the SQL columns store them (whole minutes, categories
    split on spaces, words on tabs, UTC times). A change that would break one of the SQL unique
    keys raises before anything is written, as the SQL transaction would roll back.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[ChatRef, Subscription] = {}
        self._rows: dict[int, _DeliveryRow] = {}
        self._sent: dict[ChatRef, dict[str, datetime]] = {}
        self._ids = itertools.count(1)

    async def subscribe(self, subscription: Subscription) -> Subscription:
        if subscription.created_at is None:
            raise ValueError("subscriptions.created_at is NOT NULL")
        self._subscriptions[subscription.chat] = _as_stored(subscription)
        return subscription

    async def unsubscribe(self, chat: ChatRef) -> bool:
        return self._subscriptions.pop(chat, None) is not None

    async def get(self, chat: ChatRef) -> Subscription | None:
        return self._subscriptions.get(chat)

    async def active(self) -> list[Subscription]:
        return [s for s in self._subscriptions.values() if s.active]

    async def deactivate(self, chat: ChatRef, reason: str) -> None:
        sub = self._subscriptions.get(chat)
        if sub is not None:
            self._subscriptions[chat] = replace(sub, active=False, inactive_reason=reason)

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        moved = ChatRef(old.platform, new.chat_id)  # the SQL store rewrites chat_id only
        if moved == old:
            return
        rows = [r for r in self._rows.values() if r.chat == old]
        if old in self._subscriptions and moved in self._subscriptions:
            raise ValueError(f"{moved} already has a subscription")
        taken = {r.local_date for r in self._rows.values() if r.chat == moved}
        if any(r.local_date in taken for r in rows):
            raise ValueError(f"{moved} already has a delivery for one of the days")
        if set(self._sent.get(old, {})) & set(self._sent.get(moved, {})):
            raise ValueError(f"{moved} was already sent one of the papers")
        if (sub := self._subscriptions.pop(old, None)) is not None:
            self._subscriptions[moved] = replace(sub, chat=moved)
        for row in rows:
            row.chat = moved
        if old in self._sent:
            self._sent.setdefault(moved, {}).update(self._sent.pop(old))

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> int:
        taken = {(r.chat, r.local_date) for r in self._rows.values()}
        added = 0
        for d in deliveries:
            if (d.chat, d.local_date) in taken:
                continue
            taken.add((d.chat, d.local_date))
            due = _utc(d.due_at)
            row = _DeliveryRow(next(self._ids), d.chat, d.local_date, due, d.status, due)
            if d.status == "missed":
                row.finished_at = due
            self._rows[row.id] = row
            added += 1
        return added

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease_seconds: float,
        platforms: Collection[str] | None = None,
    ) -> list[Delivery]:
        now = _utc(now)
        stale = now - timedelta(seconds=lease_seconds)
        due = sorted(
            (
                r
                for r in self._rows.values()
                if (platforms is None or r.chat.platform in platforms)
                and (
                    (r.status == "pending" and r.not_before <= now)
                    or (r.status == "sending" and r.claimed_at is not None and r.claimed_at < stale)
                )
            ),
            key=lambda r: (r.due_at, r.id),
        )
        claimed = []
        for row in due[: max(limit, 0)]:
            row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
            sub = self._subscriptions.get(row.chat)
            if sub is None or not sub.active:  # unsubscribed or deactivated after queueing
                row.status, row.error, row.finished_at = "failed", "no active subscription", now
            else:
                claimed.append(_delivery_of(row, sub))
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
        await self.finish_many(
            [Outcome(delivery_id, status, now, message_id, error, tuple(papers))]
        )

    async def finish_many(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            row = self._rows.get(outcome.delivery_id)
            if row is None:
                continue
            row.status, row.error = outcome.status, outcome.error
            row.message_id, row.finished_at = outcome.message_id, _utc(outcome.at)
            sent = self._sent.setdefault(row.chat, {})
            for arxiv_id in outcome.papers:
                sent[arxiv_id] = _utc(outcome.at)

    async def retry(self, delivery_id: int, not_before: datetime, error: str) -> None:
        row = self._rows.get(delivery_id)
        if row is not None:
            row.status, row.not_before, row.error = "pending", _utc(not_before), error
            row.claimed_at = None

    async def recently_sent(self, chat: ChatRef, since: datetime) -> set[str]:
        return {p for p, at in self._sent.get(chat, {}).items() if at >= since}

    async def recently_sent_to(
        self, chats: Collection[ChatRef], since: datetime
    ) -> dict[ChatRef, set[str]]:
        return {chat: await self.recently_sent(chat, since) for chat in chats}

    async def last_delivery(self, chat: ChatRef) -> Delivery | None:
        rows = [r for r in self._rows.values() if r.chat == chat]
        if not rows:
            return None
        latest = max(rows, key=lambda r: r.local_date)
        return _delivery_of(latest, self._subscriptions.get(chat) or Subscription(chat))

    # --- for tests only: what the protocol does not show ------------------------------------

    def deliveries(self) -> list[Delivery]:
        """Every delivery, oldest first, with its chat's subscription as it is now."""
        return [
            _delivery_of(r, self._subscriptions.get(r.chat) or Subscription(r.chat))
            for r in sorted(self._rows.values(), key=lambda r: r.id)
        ]


def _as_stored(s: Subscription) -> Subscription:
    """The subscription as the SQL columns give it back."""
    assert s.created_at is not None
    return replace(
        s,
        at=time(s.at.hour, s.at.minute),
        categories=tuple(" ".join(s.categories).split()),
        words=tuple(w for w in "\t".join(s.words).split("\t") if w),
        created_at=_utc(s.created_at),
    )


def _delivery_of(row: _DeliveryRow, subscription: Subscription) -> Delivery:
    return Delivery(
        id=row.id,
        subscription=subscription,
        local_date=row.local_date,
        due_at=row.due_at,
        status=row.status,
        attempts=row.attempts,
        message_id=row.message_id,
        error=row.error,
        finished_at=row.finished_at,
    )


class SenderCrashed(BaseException):
    """Stands in for the process dying mid-send: no `except Exception` stops it."""


@dataclass
class _Failure:
    error: BaseException
    times: int | None  # None: every time
    after_send: bool


class RecordingSink:
    """`DigestSink` that records what it was given and fails on demand, per chat.

    `sent` holds every accepted `(chat, reply)`; `attempts` every chat a publish was tried for.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform: Platform = platform
        self.sent: list[tuple[ChatRef, Reply]] = []
        self.attempts: list[ChatRef] = []
        self._failures: dict[ChatRef, _Failure] = {}

    def fail(self, chat: ChatRef, error: BaseException, *, times: int | None = None) -> None:
        """Raise `error` for `chat` instead of sending, `times` times (None: until told not to)."""
        self._failures[chat] = _Failure(error, times, after_send=False)

    def fail_once(self, chat: ChatRef, error: BaseException) -> None:
        self.fail(chat, error, times=1)

    def crash_after_send(self, chat: ChatRef, error: BaseException | None = None) -> None:
        """Accept the next message to `chat`, then raise before the sender can record it."""
        self._failures[chat] = _Failure(error or SenderCrashed(), 1, after_send=True)

    def heal(self, chat: ChatRef) -> None:
        self._failures.pop(chat, None)

    def to(self, chat: ChatRef) -> list[Reply]:
        """The replies `chat` received, in order."""
        return [reply for c, reply in self.sent if c == chat]

    @property
    def chats(self) -> list[ChatRef]:
        return [c for c, _ in self.sent]

    async def publish(self, chat: ChatRef, reply: Reply) -> str | None:
        self.attempts.append(chat)
        failure = self._failures.get(chat)
        if failure is not None and not failure.after_send:
            self._raise(chat, failure)
        self.sent.append((chat, reply))
        if failure is not None:
            self._raise(chat, failure)
        return f"{self.platform}-{len(self.sent)}"

    def _raise(self, chat: ChatRef, failure: _Failure) -> None:
        if failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                del self._failures[chat]
        raise failure.error
