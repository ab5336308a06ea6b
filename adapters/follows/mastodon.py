"""Mastodon accounts and follow lists, read from each account's own instance without a login.

An account is `user@instance`, lower-cased. `/api/v1/accounts/lookup` finds its id on its
instance, and `/api/v1/accounts/:id/following` lists whom it follows, 80 at a time, paged by
the `Link: <…>; rel="next"` header. The instance writes its own accounts' `acct` without the
domain, so those get the instance appended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

import httpx

from adapters.follows.names import mastodon_name, public_instance
from adapters.follows.pages import Page, PageReader, PageRefused, garbage
from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
    Params,
    as_dict,
    as_int,
    as_str,
    dig,
    user_agent,
)
from core.ports import Account, AccountNotFound

logger = logging.getLogger(__name__)

# Where an instance's API lives; `{instance}` is the account's domain. Tests and mirrors point
# it elsewhere, e.g. http://127.0.0.1:8081/{instance}.
DEFAULT_MASTODON_API_BASE: Final = "https://{instance}"
INSTANCE_PLACEHOLDER: Final = "{instance}"
PAGE_SIZE: Final = 80  # /following's maximum
_MISSING: Final = (httpx.codes.NOT_FOUND, httpx.codes.GONE)  # 410: suspended


class MastodonFollows:
    """Looks accounts up on their instance and reads whom they follow."""

    network = "mastodon"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base: str = DEFAULT_MASTODON_API_BASE,
        contact_url: str = DEFAULT_CONTACT_URL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if INSTANCE_PLACEHOLDER not in api_base:
            raise ValueError(f"the Mastodon API base must contain {INSTANCE_PLACEHOLDER}")
        self._api_base = api_base.rstrip("/")
        headers = {"User-Agent": user_agent(contact_url)}
        self._reader = PageReader(client, headers, sleep=sleep)

    async def resolve(self, name: str) -> Account:
        """Return `user@instance` once its instance says the account exists."""
        user, instance = mastodon_name(name)
        await self._lookup(user, public_instance(instance))
        return Account(self.network, f"{user}@{instance}", f"{user}@{instance}")

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return the accounts `account` follows, up to `limit`, reading every page first."""
        user, instance = mastodon_name(account.key)
        profile = await self._lookup(user, public_instance(instance))
        if dig(profile, "hide_collections") is True:
            raise _hidden(account)
        account_id = as_str(dig(profile, "id"))
        if account_id is None:
            raise garbage(instance, "the account has no id")
        found = await self._read_following(account, instance, account_id, limit)
        if not found and (as_int(dig(profile, "following_count")) or 0):
            # Servers that do not say hide_collections hide the list by answering it empty.
            raise _hidden(account)
        return found

    async def _read_following(
        self, account: Account, instance: str, account_id: str, limit: int
    ) -> list[Account]:
        base = self._base(instance)
        url: str | None = f"{base}/api/v1/accounts/{quote(account_id, safe='')}/following"
        params: Params | None = {"limit": PAGE_SIZE}
        found: dict[str, Account] = {}
        while url is not None and len(found) < limit:
            page = await self._get(url, params, account)
            if not isinstance(page.body, list):
                raise garbage(instance, "the following list is not a list")
            before = len(found)
            for item in page.body:
                if (followed := _followed(item, instance)) is not None:
                    found.setdefault(followed.key, followed)
            if page.body and len(found) == before:
                # Each page must bring someone new, or a broken server could page forever.
                raise garbage(instance, "a page of the following list repeated the last")
            # An empty page ends the list even if it links on: nothing more is coming.
            url = _next(page.next_url, base, instance) if page.body else None
            params = None  # the next page's link carries them
        return list(found.values())[:limit]

    def _base(self, instance: str) -> str:
        return self._api_base.replace(INSTANCE_PLACEHOLDER, instance)

    async def _lookup(self, user: str, instance: str) -> dict[str, object]:
        url = f"{self._base(instance)}/api/v1/accounts/lookup"
        try:
            page = await self._reader.get(url, {"acct": user})
        except PageRefused as exc:
            if exc.status in _MISSING:
                raise AccountNotFound(
                    f"the Mastodon account {user}@{instance} does not exist"
                ) from None
            raise
        profile = as_dict(page.body)
        if profile is None:
            raise garbage(instance, "the account lookup is not an account")
        return profile

    async def _get(self, url: str, params: Params | None, account: Account) -> Page:
        try:
            return await self._reader.get(url, params)
        except PageRefused as exc:
            if exc.status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                raise _hidden(account) from None
            if exc.status in _MISSING:
                raise AccountNotFound(f"the Mastodon account {account.shown} is gone") from None
            raise


def _hidden(account: Account) -> AccountNotFound:
    return AccountNotFound(f"the Mastodon account {account.shown} hides whom it follows")


def _next(url: str | None, base: str, instance: str) -> str | None:
    """The next page's URL, only on the instance asked: a link elsewhere is not followed."""
    if url is None:
        return None
    if not url.startswith(base + "/"):
        raise garbage(instance, "the next page is on another server")
    return url


def _followed(item: object, instance: str) -> Account | None:
    acct = as_str(dig(item, "acct"))
    if acct is None:
        logger.debug("skipped a followed account without acct")
        return None
    canonical = acct if "@" in acct else f"{acct}@{instance}"
    try:
        user, domain = mastodon_name(canonical)
    except ValueError:
        logger.debug("skipped a followed account with a malformed acct")
        return None
    return Account(MastodonFollows.network, f"{user}@{domain}", f"{user}@{domain}")
