"""One account directory over every share network: each request goes to its network's reader."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from core.ports import Account


class NetworkFollows(Protocol):
    """Finds accounts and the accounts they follow on one network."""

    @property
    def network(self) -> str:
        """The network's name, one of `core.models.SHARE_NETWORKS`."""
        ...

    async def resolve(self, name: str) -> Account:
        """Return the account `name` denotes; see `core.ports.AccountDirectory.resolve`."""
        ...

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return whom `account` follows; see `core.ports.AccountDirectory.following`."""
        ...


class HttpAccountDirectory:
    """Implements `core.ports.AccountDirectory` by handing each network to its own reader."""

    def __init__(self, networks: Iterable[NetworkFollows]) -> None:
        self._networks = {n.network: n for n in networks}

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks this directory can answer for."""
        return tuple(self._networks)

    async def resolve(self, network: str, name: str) -> Account:
        """Return the account `name` denotes on `network`; an unknown network is a ValueError."""
        return await self._network(network).resolve(name)

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return every account `account` follows, up to `limit`, or raise."""
        if limit <= 0:
            return []
        return await self._network(account.network).following(account, limit)

    def _network(self, network: str) -> NetworkFollows:
        reader = self._networks.get(network)
        if reader is None:
            known = ", ".join(self._networks)
            raise ValueError(f"unknown network {network[:20]!r}; known: {known}")
        return reader
