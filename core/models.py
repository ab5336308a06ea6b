"""Domain values shared by the engine and every adapter (no ORM, no platform types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Platform = Literal["telegram", "discord", "console", "web"]
MentionKind = Literal["post", "repost", "quote"]
MENTION_KINDS: tuple[MentionKind, ...] = ("post", "repost", "quote")
# The signal sources the bot knows (DESIGN.md section 3), and the networks among them whose posts
# are shares. Configuration and imports are checked against these, so a typo is refused rather
# than ranked as a network of its own.
SOURCES: tuple[str, ...] = (
    "hackernews",
    "huggingface",
    "bluesky",
    "mastodon",
    "reddit",
    "x",
    "arxiv",
)
SHARE_NETWORKS: tuple[str, ...] = ("bluesky", "mastodon", "x")
Window = Literal["trending", "day", "week", "month", "all"]
WINDOWS: tuple[Window, ...] = ("trending", "day", "week", "month", "all")


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform: a Telegram chat, a Discord channel or the console."""

    platform: Platform
    chat_id: str


@dataclass(frozen=True, slots=True)
class Paper:
    """An arXiv paper, keyed by its version-less id; metadata may not be known yet."""

    arxiv_id: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    abstract: str | None = None
    categories: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    version: int | None = None

    @property
    def has_metadata(self) -> bool:
        """Whether arXiv has told us the title yet."""
        return self.title is not None

    @property
    def primary_category(self) -> str | None:
        """The first category arXiv lists, which is the primary one."""
        return self.categories[0] if self.categories else None


@dataclass(frozen=True, slots=True)
class Mention:
    """One public post, repost or quote by one account that links one paper (a share)."""

    source: str
    post_id: str
    author: str
    posted_at: datetime
    kind: MentionKind
    arxiv_id: str
    version: int | None = None
    url: str | None = None
    text: str | None = None
    engagement: int = 0


@dataclass(frozen=True, slots=True)
class VoteSnapshot:
    """The engagement an aggregator item (an HN story, an HF daily paper) had at one moment."""

    source: str
    item_id: str
    arxiv_id: str
    taken_at: datetime
    votes: int
    comments: int = 0
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Discussion:
    """An aggregator item about a paper (an HN story, a Reddit post) with its latest counts."""

    source: str
    url: str | None
    title: str | None
    votes: int
    comments: int


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """What one source contributed to a paper's score in one window."""

    source: str
    sharers: int = 0
    votes: int = 0
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class DailySeries:
    """One network's shares of a paper per UTC day, oldest first."""

    source: str
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PaperStats:
    """A paper with its score and per-source counts in one window, ready to rank or show."""

    paper: Paper
    score: float
    sources: tuple[SourceCounts, ...] = ()
    last_share_at: datetime | None = None
    rank_key: float | None = None  # trending: the stored key the order follows (core.ranking)

    @property
    def sharers(self) -> int:
        """Unique accounts that shared the paper, summed over networks."""
        return sum(s.sharers for s in self.sources)

    @property
    def networks(self) -> int:
        """How many sources gave the paper any signal."""
        return sum(1 for s in self.sources if s.sharers or s.votes)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a signal source is doing, for `trending-arxiv sources` and digests' footers."""

    source: str
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    items_seen: int = 0
    consecutive_failures: int = 0

    @property
    def healthy(self) -> bool:
        """A source is healthy until it has failed several times in a row."""
        return self.consecutive_failures < 3


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import or ingest stored."""

    mentions: int = 0
    papers: int = 0
    snapshots: int = 0
    skipped: tuple[str, ...] = field(default=())
