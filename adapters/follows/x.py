"""X accounts and follow lists through the API v2, when an app bearer token is set.

Without a token a well-formed handle is taken as typed (X cannot be asked whether it exists),
and follow lists cannot be read. With one, `/2/users/by/username/:username` finds the account
and `/2/users/:id/following` lists whom it follows, up to 1,000 a page, by `meta.next_token`.
The token goes in a header only, never in a URL or a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

import httpx

from adapters.follows.names import x_name
from adapters.follows.pages import PageReader, garbage
from adapters.sources.http import DEFAULT_CONTACT_URL, Params, as_list, as_str, dig, user_agent
from core.ports import Account, AccountNotFound, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_X_API_URL: Final = "https://api.x.com"
PAGE_SIZE: Final = 1000  # /following's maximum
# X answers a missing, suspended or protected account with HTTP 200 and an `errors` list.
_PROBLEMS: Final = "https://api.twitter.com/2/problems/"
_GONE: Final = {
    f"{_PROBLEMS}resource-not-found": "does not exist",
    f"{_PROBLEMS}user-suspended": "is suspended",
    f"{_PROBLEMS}not-authorized-for-resource": "is protected: its follows are hidden",
}


class XFollows:
    """Reads X accounts and whom they follow; without a token, only checks handles."""

    network = "x"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        bearer_token: str | None,
        base_url: str = DEFAULT_X_API_URL,
        contact_url: str = DEFAULT_CONTACT_URL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._host = httpx.URL(self._base_url).host
        self._has_token = bool(bearer_token)
        headers = {"User-Agent": user_agent(contact_url)}
        headers |= {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        self._reader = PageReader(client, headers, sleep=sleep)

    async def resolve(self, name: str) -> Account:
        """Return the account of a handle, asking X only when a token is set."""
        handle = x_name(name)
        if self._has_token:
            user = await self._user(handle)
            handle = (as_str(dig(user, "username")) or handle).lower()
        return Account(self.network, handle, handle)

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return the accounts `account` follows, up to `limit`, reading every page first."""
        if not self._has_token:
            raise SourceUnavailable("reading follow lists on X needs X_BEARER_TOKEN")
        user_id = as_str(dig(await self._user(account.key), "id"))
        if user_id is None:
            raise garbage(self._host, "the user has no id")
        url = f"{self._base_url}/2/users/{quote(user_id, safe='')}/following"
        found: dict[str, Account] = {}
        token: str | None = None
        for _ in range(limit // PAGE_SIZE + 10):
            if len(found) >= limit:
                break
            params: dict[str, str | int] = {"max_results": PAGE_SIZE, "user.fields": "username"}
            params |= {"pagination_token": token} if token else {}
            body = self._checked(await self._get(url, params), account.shown)
            for user in as_list(dig(body, "data")):
                if (followed := _followed(user)) is not None:
                    found.setdefault(followed.key, followed)
            next_token = as_str(dig(body, "meta", "next_token"))
            if next_token is None:
                break
            if next_token == token:
                raise garbage(self._host, "following repeated its next_token")
            token = next_token
        else:
            raise garbage(self._host, "following kept paging past the limit")
        return list(found.values())[:limit]

    async def _user(self, handle: str) -> object:
        url = f"{self._base_url}/2/users/by/username/{quote(handle, safe='')}"
        return dig(self._checked(await self._get(url, None), handle), "data")

    async def _get(self, url: str, params: Params | None) -> object:
        return (await self._reader.get(url, params)).body

    def _checked(self, body: object, who: str) -> object:
        """Return a body that holds `data` or `meta`, or raise what its `errors` say."""
        if dig(body, "data") is not None or dig(body, "meta") is not None:
            return body
        problem = as_str(dig(body, "errors", 0, "type"))
        if problem in _GONE:
            raise AccountNotFound(f"the X account {who} {_GONE[problem]}")
        title = as_str(dig(body, "errors", 0, "title"))
        raise garbage(self._host, title or "no data")


def _followed(user: object) -> Account | None:
    username = as_str(dig(user, "username"))
    try:
        handle = x_name(username or "")
    except ValueError:
        logger.debug("skipped a followed X user without a well-formed username")
        return None
    return Account(XFollows.network, handle, handle)
