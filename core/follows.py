"""Follow lists: the accounts each chat follows, and how people name them in commands.

A chat's list holds accounts as the share networks' own keys (`core.ports.Account`): Bluesky
by DID, shown by handle; Mastodon by `user@instance`; X by handle, both lower-cased. A follow
matches the shares whose `author` is its key or, on Bluesky, the handle it was shown by when
followed (imported shares may name a Bluesky account either way).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from core.models import ChatRef, PaperStats
from core.ports import Account, TopQuery

MAX_FOLLOWS = 5000  # a chat's list, and one import, hold at most this many accounts
# Trending counts the followed sharers whose last share is within TREND_HORIZON half-lives: an
# older share weighs under 2^-32 of a new one, less than the ranking key resolves
# (core.ranking), and leaving it out keeps a follow list's trending a read of recent shares.
TREND_HORIZON = 32
# How people write a network before the colon (`bluesky:alice.bsky.social`).
NETWORK_NAMES = {
    "bluesky": "bluesky",
    "bsky": "bluesky",
    "mastodon": "mastodon",
    "x": "x",
    "twitter": "x",
}


class FollowListFull(Exception):
    """Adding the accounts would take the chat's list over MAX_FOLLOWS; nothing was added."""

    def __init__(self, following: int) -> None:
        super().__init__(f"the list holds {following:,} accounts of at most {MAX_FOLLOWS:,}")
        self.following = following


def accounts_to_add(
    held: Collection[tuple[str, str]], accounts: Iterable[Account]
) -> dict[tuple[str, str], Account]:
    """The accounts a list holding `held` (network, key) gains, once each, by key.

    Raises:
        FollowListFull: the list would exceed MAX_FOLLOWS; nothing may be added.
    """
    new: dict[tuple[str, str], Account] = {}
    for account in accounts:
        if (account.network, account.key) not in held:
            new.setdefault((account.network, account.key), account)
    if len(held) + len(new) > MAX_FOLLOWS:
        raise FollowListFull(len(held))
    return new


def trend_horizon(now: datetime, half_life: timedelta) -> datetime:
    """How recent a followed sharer's last share must be for trending to count them."""
    return now - half_life * TREND_HORIZON


def name_key(name: str) -> str:
    """How a typed account name is compared with stored ones: no leading `@`, lower case."""
    return name.strip().removeprefix("@").lower()


class FollowLists(Protocol):
    """Each chat's follow list, and the papers its accounts share, ranked."""

    async def add(self, chat: ChatRef, accounts: Sequence[Account], now: datetime) -> list[Account]:
        """Add the accounts the chat does not follow yet, all in one transaction.

        Returns:
            The accounts added, in the order given (one per network and key).

        Raises:
            FollowListFull: the list would exceed MAX_FOLLOWS; nothing was added.
        """
        ...

    async def remove(self, chat: ChatRef, names: Sequence[tuple[str, str]]) -> list[Account]:
        """Stop following accounts named `(network, name)`, by key or shown name (`name_key`).

        Returns the accounts removed.
        """
        ...

    async def clear(self, chat: ChatRef) -> int:
        """Empty the chat's list; return how many accounts it held."""
        ...

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        """Keep a chat's list under its new id (a Telegram group that became a supergroup)."""
        ...

    async def counts(self, chat: ChatRef) -> dict[str, int]:
        """Return how many accounts the chat follows on each network (only networks it does)."""
        ...

    async def page(self, chat: ChatRef, limit: int, offset: int) -> list[Account]:
        """Return followed accounts by network, then shown name."""
        ...

    async def top(self, chat: ChatRef, query: TopQuery, now: datetime) -> list[PaperStats]:
        """Rank papers by the shares of the chat's follows only, with the usual score.

        The same score and windows as `RankingReads.top`, counted from the sharers the list
        matches, as of `now`; trending counts the sharers whose last share is since
        `trend_horizon`. Ties break by more networks, then the newest share among the follows,
        then the higher id. Each paper's counts are those of the follows.
        """
        ...
