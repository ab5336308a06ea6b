"""The ports: what the engine needs from storage, sources, platforms and time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.models import (
    DailySeries,
    Discussion,
    ImportReport,
    Mention,
    Paper,
    PaperStats,
    SourceHealth,
    VoteSnapshot,
    Window,
)


class Clock(Protocol):
    """Where the time comes from; always timezone-aware UTC."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class SourceUnavailable(Exception):
    """A remote service could not be reached or answered with an error.

    `retry_after` is the delay in seconds the service asked for, when it said one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MetadataSource(Protocol):
    """Looks papers up on arXiv by id."""

    async def fetch(self, arxiv_ids: Sequence[str], *, retry: bool = True) -> list[Paper]:
        """Return the papers arXiv knows among `arxiv_ids`; unknown ids are left out.

        `retry=False` asks once, for someone waiting on the answer; the background fill retries
        transient failures with backoff.

        Raises:
            SourceUnavailable: arXiv could not be asked or answered with an error.
        """
        ...


@dataclass(frozen=True, slots=True)
class Batch:
    """What one poll of a source found, and the cursor to store once it is committed."""

    mentions: tuple[Mention, ...] = ()
    snapshots: tuple[VoteSnapshot, ...] = ()
    papers: tuple[Paper, ...] = ()
    cursor: str | None = None
    removed: tuple[tuple[str, str], ...] = field(default=())  # (source, post_id) deleted upstream


class MentionSource(Protocol):
    """A signal source: one poll reads what is new since `cursor`."""

    name: str
    poll_interval: float

    async def poll(self, cursor: str | None) -> Batch:
        """Read what is new since `cursor`.

        Raises:
            SourceUnavailable: the source failed; the cursor must not advance.
        """
        ...


@dataclass(frozen=True, slots=True)
class TopQuery:
    """Which ranked papers to fetch."""

    window: Window = "trending"
    limit: int = 10
    offset: int = 0
    category: str | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CardQuery:
    """What a paper card shows besides its score and rank.

    Shares per UTC day for `days` days from `first_day` (also per network when `by_network`),
    the `posts` most engaging posts (one per account) and the `discussions` most voted
    aggregator items.
    """

    arxiv_id: str
    first_day: datetime
    days: int = 14
    posts: int = 3
    discussions: int = 2
    by_network: bool = False


@dataclass(frozen=True, slots=True)
class CardFacts:
    """Everything a paper card reads from the store, as of one moment."""

    stats: PaperStats | None  # trending; None when the paper is not tracked
    rank: int | None  # as `rank_of(..., "trending", now)`; None without a trending score
    daily_shares: tuple[int, ...]
    top_posts: tuple[Mention, ...]
    discussions: tuple[Discussion, ...]
    # Per network with a share in the days (`daily_shares_by_network`); asked by `by_network`.
    by_network: tuple[DailySeries, ...] = ()


@dataclass(frozen=True, slots=True)
class Account:
    """An account a chat can follow: `key` is how its shares name it, `shown` how people read it.

    Bluesky is keyed by DID (handles change) and shown by handle; Mastodon by `user@instance`,
    lower-cased, both; X by its handle, lower-cased, both.
    """

    network: str  # one of `core.models.SHARE_NETWORKS`
    key: str
    shown: str


class AccountNotFound(Exception):
    """The account does not exist, or hides what was asked of it; the message says which."""


class AccountDirectory(Protocol):
    """Finds accounts on the share networks and the accounts they follow."""

    async def resolve(self, network: str, name: str) -> Account:
        """Return the account `name` denotes on `network` (a Bluesky handle becomes its DID).

        Raises:
            ValueError: `name` is not a well-formed account of `network`; the message says why.
            AccountNotFound: the network says there is no such account.
            SourceUnavailable: the network could not be asked, or answered with an error or
                garbage.
        """
        ...

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return every account `account` follows, up to `limit`, reading all their pages.

        All or nothing: when a page fails, this raises and returns no partial list.

        Raises:
            AccountNotFound: the account does not exist or hides whom it follows.
            SourceUnavailable: a page could not be read (429, 5xx, garbage, no network), or
                the network needs a token that is not set.
        """
        ...


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did: its steps (transactions), papers rescored, the longest step."""

    steps: int
    rescored: int
    longest_step: float  # seconds: on SQLite, the longest hold of the write lock


class RankingReads(Protocol):
    """Ranked lists, paper cards and search: reads only, never a write."""

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Return papers ranked by score in the query's window, best first."""
        ...

    async def paper_stats(self, arxiv_id: str, window: Window, now: datetime) -> PaperStats | None:
        """Return one paper's score and counts, or None when it is not tracked."""
        ...

    async def rank_of(self, arxiv_id: str, window: Window, now: datetime) -> int | None:
        """Return the paper's 1-based rank in the window, or None without signal there."""
        ...

    async def daily_shares(self, arxiv_id: str, first: datetime, days: int) -> list[int]:
        """Return the paper's shares per UTC day for `days` days from `first`."""
        ...

    async def daily_shares_by_network(
        self, arxiv_id: str, first: datetime, days: int
    ) -> list[DailySeries]:
        """Return `daily_shares` split by network, for those with a share in the days.

        In the order of `core.models.SOURCES`, unknown sources last by name.
        """
        ...

    async def top_posts(self, arxiv_id: str, limit: int) -> list[Mention]:
        """Return the paper's most engaging shares, then the earliest."""
        ...

    async def discussions(self, arxiv_id: str, limit: int) -> list[Discussion]:
        """Return aggregator items about the paper, most voted first."""
        ...

    async def card(self, query: CardQuery, now: datetime) -> CardFacts:
        """Return one paper's card, read together (a `/paper` reply is one round of reads).

        The same as `paper_stats` (trending), `rank_of` (trending; asked only of a paper that
        scores), `daily_shares`, `daily_shares_by_network` (when asked), `top_posts` and
        `discussions` would return.
        """
        ...

    async def newest(self, limit: int, offset: int) -> list[PaperStats]:
        """Return shared papers by publication date, newest first (the 2016 page)."""
        ...

    async def count_listed(self, query: TopQuery | None, at_most: int) -> int:
        """Count the papers `top(query)` ranks, or `newest` lists when `query` is None.

        Counts up to `at_most` only, so that the count never reads the whole store.
        """
        ...

    async def search(self, words: Sequence[str], limit: int, now: datetime) -> list[PaperStats]:
        """Return tracked papers whose title or abstract holds every word, best first."""
        ...

    async def categories(self) -> list[str]:
        """Return the arXiv categories of tracked papers, most common first."""
        ...


class IngestWrites(Protocol):
    """Shares, votes and polls in, with their scores; the sweep that keeps windows current."""

    async def add_mentions(self, mentions: Sequence[Mention]) -> ImportReport:
        """Store shares idempotently: a `(source, post_id, paper)` seen before changes nothing."""
        ...

    async def remove_mentions(self, keys: Sequence[tuple[str, str]]) -> int:
        """Forget shares deleted upstream, by `(source, post_id)`; return how many went."""
        ...

    async def papers_of_post(self, source: str, post_id: str) -> list[str]:
        """Return the papers a stored post shares (for reposts and quotes of it)."""
        ...

    async def add_snapshots(self, snapshots: Sequence[VoteSnapshot]) -> int:
        """Store vote snapshots idempotently; return how many were new."""
        ...

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        """Store a poll's rows and its cursor in one transaction."""
        ...

    async def sweep(self, now: datetime) -> SweepReport:
        """Bring stored window counts up to `now`; rescore first if weights or half-life changed."""
        ...

    async def rescore(self) -> int:
        """Recompute every paper's scores with the configured weights; return how many."""
        ...


class PaperMetadata(Protocol):
    """What arXiv told us about papers, and which ids it has yet to."""

    async def save_papers(self, papers: Sequence[Paper]) -> None:
        """Insert or update papers' metadata."""
        ...

    async def get_paper(self, arxiv_id: str) -> Paper | None:
        """Return a tracked paper, with or without metadata, or None."""
        ...

    async def missing_metadata(self, limit: int) -> list[str]:
        """Return ids of tracked papers arXiv has not described yet, most shared first."""
        ...

    async def mark_unknown(self, arxiv_ids: Sequence[str], now: datetime) -> None:
        """Remember that arXiv did not know these ids, so they are not asked for again soon."""
        ...

    async def count_waiting(self) -> int:
        """Return how many tracked papers still wait for arXiv's metadata."""
        ...


class SourceState(Protocol):
    """Each source's cursor and health, and whether anything is stored."""

    async def get_cursor(self, source: str) -> str | None:
        """Return a source's stored cursor."""
        ...

    async def record_health(self, health: SourceHealth) -> None:
        """Store a source's health record."""
        ...

    async def health(self) -> list[SourceHealth]:
        """Return every source's health record."""
        ...

    async def is_empty(self) -> bool:
        """Whether nothing has been stored yet."""
        ...


class PaperRepository(RankingReads, IngestWrites, PaperMetadata, SourceState, Protocol):
    """Every storage role at once, for the processes that need them all."""
