"""Bluesky accounts and follow lists, read from a public AppView without signing in.

Accounts are keyed by DID, since handles change: a typed handle is resolved once with
`com.atproto.identity.resolveHandle`, and a typed DID is shown by the handle its profile gives.
Follow lists come from `app.bsky.graph.getFollows`, a page of up to 100 at a time by cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import httpx

from adapters.follows.names import bluesky_name, is_did, is_domain
from adapters.follows.pages import PageReader, PageRefused, garbage
from adapters.sources.http import DEFAULT_CONTACT_URL, Params, as_str, dig, user_agent
from core.ports import Account, AccountNotFound

logger = logging.getLogger(__name__)

DEFAULT_BLUESKY_APPVIEW_URL: Final = "https://public.api.bsky.app/xrpc"
PAGE_SIZE: Final = 100  # getFollows' maximum
# What the AppView calls an account that is gone; XRPC errors are {"error": ..., "message": ...}.
_GONE: Final = {
    "AccountDeactivated": "is deactivated",
    "AccountTakedown": "is suspended",
    "RepoDeactivated": "is deactivated",
    "RepoTakendown": "is suspended",
    "RepoSuspended": "is suspended",
}
_NOT_FOUND_MESSAGES: Final = ("not found", "unable to resolve", "could not find")
_INVALID_HANDLE: Final = "handle.invalid"  # what the AppView shows for an unverified handle


class BlueskyFollows:
    """Resolves Bluesky handles to DIDs and reads whom an account follows."""

    network = "bluesky"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BLUESKY_APPVIEW_URL,
        contact_url: str = DEFAULT_CONTACT_URL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._host = httpx.URL(self._base_url).host
        headers = {"User-Agent": user_agent(contact_url)}
        self._reader = PageReader(client, headers, sleep=sleep)

    async def resolve(self, name: str) -> Account:
        """Return the account of a handle or a DID, keyed by its DID and shown by its handle."""
        wanted = bluesky_name(name)
        if wanted.startswith("did:"):
            profile = await self._call("app.bsky.actor.getProfile", {"actor": wanted}, wanted)
            return Account(self.network, wanted, _shown(wanted, as_str(dig(profile, "handle"))))
        answer = await self._call("com.atproto.identity.resolveHandle", {"handle": wanted}, wanted)
        did = as_str(dig(answer, "did"))
        if did is None or not is_did(did):
            raise garbage(self._host, "resolveHandle gave no DID")
        return Account(self.network, did, wanted)

    async def following(self, account: Account, limit: int) -> list[Account]:
        """Return the accounts `account` follows, up to `limit`, reading every page first."""
        found: dict[str, Account] = {}
        cursor: str | None = None
        # Pages may hold fewer than asked (the AppView drops blocked and removed accounts),
        # so the page count gets slack; a server paging on past it is broken, not big.
        for _ in range(limit // PAGE_SIZE + 10):
            if len(found) >= limit:
                break
            params: dict[str, str | int] = {
                "actor": account.key,
                "limit": min(PAGE_SIZE, limit - len(found)),
            }
            params |= {"cursor": cursor} if cursor else {}
            body = await self._call("app.bsky.graph.getFollows", params, account.shown)
            follows = dig(body, "follows")
            if not isinstance(follows, list):
                raise garbage(self._host, "getFollows gave no follows")
            for follow in follows:
                if (followed := _followed(follow)) is not None:
                    found.setdefault(followed.key, followed)
            next_cursor = as_str(dig(body, "cursor"))
            if next_cursor is None or not follows:
                break
            if next_cursor == cursor:
                raise garbage(self._host, "getFollows repeated its cursor")
            cursor = next_cursor
        else:
            raise garbage(self._host, "getFollows kept paging past the limit")
        return list(found.values())[:limit]

    async def _call(self, method: str, params: Params, who: str) -> object:
        try:
            page = await self._reader.get(f"{self._base_url}/{method}", params)
        except PageRefused as exc:
            if exc.status == httpx.codes.BAD_REQUEST and (gone := _gone(exc.detail)):
                raise AccountNotFound(f"the Bluesky account {who} {gone}") from None
            raise
        return page.body


def _gone(detail: object) -> str | None:
    """How an XRPC error says the account is missing, or None when it says something else."""
    error = as_str(dig(detail, "error")) or ""
    message = (as_str(dig(detail, "message")) or "").lower()
    if error in _GONE:
        return _GONE[error]
    if any(words in message for words in _NOT_FOUND_MESSAGES):
        return "does not exist"
    return None


def _shown(did: str, handle: str | None) -> str:
    handle = handle.lower() if handle else None
    return handle if handle and handle != _INVALID_HANDLE and is_domain(handle) else did


def _followed(follow: object) -> Account | None:
    did = as_str(dig(follow, "did"))
    if did is None or not is_did(did):
        logger.debug("skipped a follow without a DID")
        return None
    return Account(BlueskyFollows.network, did, _shown(did, as_str(dig(follow, "handle"))))
