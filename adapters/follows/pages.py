"""Reading one page of a follow list: JSON, its next-page link, and a short wait on a 429.

A follow list is read while someone waits for the answer, so a rate limit is waited out only
a couple of times and only briefly; past that the page fails, and with it the whole list (the
directories return all of a list or nothing). Every way a request can fail becomes
`SourceUnavailable`, as in the sources (adapters/sources/http.py), except an answer that says
the account is missing or hidden: that is a `PageRefused` the directories read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import httpx

from adapters.sources.http import HttpStatusError, Params, retry_after, send_capped
from core.backoff import Backoff
from core.ports import SourceUnavailable

logger = logging.getLogger(__name__)

# Up to 1, then 2 s before the two retries of a rate-limited page (full jitter), or longer
# when the service asks, up to MAX_WAIT: beyond that the person waiting is better told to retry.
RATE_LIMIT_BACKOFF: Final = Backoff(first=1.0, cap=8.0)
RATE_LIMIT_RETRIES: Final = 2
MAX_WAIT: Final = 30.0


class PageRefused(HttpStatusError):
    """A 4xx answer other than 429; `detail` is its decoded JSON body, or None."""

    def __init__(self, message: str, *, status: int, detail: object) -> None:
        super().__init__(message, status=status)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Page:
    """A decoded JSON body and the URL its `Link: <…>; rel="next"` header points to."""

    body: object
    next_url: str | None = None


@dataclass(frozen=True, slots=True)
class PageReader:
    """GETs JSON pages with fixed headers, retrying a rate-limited page a couple of times."""

    client: httpx.AsyncClient
    headers: Mapping[str, str]
    backoff: Backoff = RATE_LIMIT_BACKOFF
    retries: int = RATE_LIMIT_RETRIES
    max_wait: float = MAX_WAIT
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    async def get(self, url: str, params: Params | None = None) -> Page:
        """Return the page at `url`.

        Raises:
            PageRefused: the service answered 4xx (not 429): the caller decides what it means.
            SourceUnavailable: a timeout, a transport error, a body that is not JSON or too
                large, a 5xx, or a 429 that outlasted the retries (with its `retry_after`).
        """
        attempt = 0
        while True:
            try:
                return await self._get_once(url, params)
            except HttpStatusError as exc:
                if exc.status != httpx.codes.TOO_MANY_REQUESTS or attempt >= self.retries:
                    raise
                wait = self.backoff.delay(attempt, exc.retry_after)
                if wait > self.max_wait:
                    raise
            logger.info("%s asked to slow down; retrying in %.1f s", httpx.URL(url).host, wait)
            await self.sleep(wait)
            attempt += 1

    async def _get_once(self, url: str, params: Params | None) -> Page:
        request = self.client.build_request("GET", url, params=params, headers=self.headers)
        host = request.url.host
        response, body = await send_capped(self.client, request)
        status = response.status_code
        if response.is_client_error and status != httpx.codes.TOO_MANY_REQUESTS:
            raise PageRefused(f"HTTP {status} from {host}", status=status, detail=_json(body))
        if not response.is_success:  # 429, 5xx, and a redirect, which is not followed
            message = f"HTTP {status} from {host}"
            raise HttpStatusError(message, status=status, retry_after=retry_after(response))
        decoded = _json(body)
        if decoded is None:
            raise SourceUnavailable(f"invalid JSON from {host}")
        return Page(decoded, response.links.get("next", {}).get("url"))


def _json(body: bytes) -> object:
    try:
        decoded: object = json.loads(body)
    except ValueError:  # also a truncated body, and bytes that are not UTF-8
        return None
    return decoded


def garbage(host: str, what: str) -> SourceUnavailable:
    """The error for a page that is JSON but not of the shape its API documents."""
    return SourceUnavailable(f"malformed answer from {host}: {what}")
