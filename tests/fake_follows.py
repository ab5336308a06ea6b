"""Test doubles for follow lists: an in-memory `FollowLists` and a scripted `AccountDirectory`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.follows import accounts_to_add, name_key, trend_horizon
from core.models import ChatRef, PaperStats
from core.ports import Account, AccountNotFound, TopQuery
from core.ranking import WINDOW_LENGTHS, RankingConfig
from tests.fakes import InMemoryPaperRepository


class InMemoryFollowLists:
    """`FollowLists` over a dict, ranking from an `InMemoryPaperRepository`'s rows."""

    def __init__(self, papers: InMemoryPaperRepository, config: RankingConfig) -> None:
        self._papers = papers
        self._config = config
        self._lists: dict[ChatRef, dict[tuple[str, str], Account]] = {}

    async def add(self, chat: ChatRef, accounts: Sequence[Account], now: datetime) -> list[Account]:
        held = self._lists.setdefault(chat, {})
        new = accounts_to_add(held.keys(), accounts)
        held.update(new)
        return list(new.values())

    async def remove(self, chat: ChatRef, names: Sequence[tuple[str, str]]) -> list[Account]:
        held = self._lists.get(chat, {})
        gone = [
            account
            for key, account in list(held.items())
            if any(
                account.network == network and name_key(name) in (account.key, account.shown)
                for network, name in names
            )
        ]
        for account in gone:
            del held[(account.network, account.key)]
        return sorted(gone, key=lambda a: (a.network, a.shown))

    async def clear(self, chat: ChatRef) -> int:
        return len(self._lists.pop(chat, {}))

    async def move(self, old: ChatRef, new: ChatRef) -> None:
        if old in self._lists:
            self._lists[new] = self._lists.pop(old)

    async def counts(self, chat: ChatRef) -> dict[str, int]:
        found: dict[str, int] = {}
        for network, _ in self._lists.get(chat, {}):
            found[network] = found.get(network, 0) + 1
        return found

    async def page(self, chat: ChatRef, limit: int, offset: int) -> list[Account]:
        ordered = sorted(
            self._lists.get(chat, {}).values(), key=lambda a: (a.network, a.shown, a.key)
        )
        return ordered[offset : offset + limit]

    async def top(self, chat: ChatRef, query: TopQuery, now: datetime) -> list[PaperStats]:
        authors = {
            (a.network, name)
            for a in self._lists.get(chat, {}).values()
            for name in (a.key, a.shown)
        }
        if query.window == "trending":
            since: datetime | None = trend_horizon(now, self._config.half_life)
        else:
            length = WINDOW_LENGTHS[query.window]
            since = None if length is None else now - length
        return self._papers.followed_top(authors, query, now, since)


class FakeAccountDirectory:
    """An `AccountDirectory` that knows the accounts it was given; `fail` makes it raise."""

    def __init__(
        self,
        accounts: Sequence[Account] = (),
        follows: dict[str, list[Account]] | None = None,
    ) -> None:
        self._accounts = {(a.network, name_key(a.shown)): a for a in accounts}
        self._accounts.update({(a.network, a.key): a for a in accounts})
        self._follows = follows or {}
        self.fail: Exception | None = None
        self.asked: list[tuple[str, str]] = []

    async def resolve(self, network: str, name: str) -> Account:
        self.asked.append((network, name))
        if self.fail is not None:
            raise self.fail
        if not name.strip() or " " in name.strip():
            raise ValueError(f"“{name}” is not a {network} account name")
        found = self._accounts.get((network, name_key(name)))
        if found is None:
            raise AccountNotFound(f"There is no {network} account {name}.")
        return found

    async def following(self, account: Account, limit: int) -> list[Account]:
        if self.fail is not None:
            raise self.fail
        if account.key not in self._follows:
            raise AccountNotFound(f"{account.shown} does not show whom it follows.")
        return self._follows[account.key][:limit]
