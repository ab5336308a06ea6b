"""Shared plumbing for the HTTP-polled sources: one request, polite pacing, safe JSON reading.

Everything a remote service sends is untrusted. `request_json` turns every way a request can go
wrong into `SourceUnavailable`, so a source never leaks an httpx error; the `as_*` and `dig`
helpers read fields without raising, and `parse_each` skips the one item a parser chokes on
instead of losing the whole page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import TypeVar

import httpx

from core.arxiv_id import ArxivRef, find_arxiv_refs
from core.ports import SourceUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
Params = Mapping[str, str | int]

USER_AGENT_PRODUCT = "trending-arxiv/0.1"
DEFAULT_CONTACT_URL = "https://github.com/trending-arxiv/trending-arxiv"
MAX_RETRY_AFTER = 24 * 3600.0  # a bogus header must not park a source for weeks
# The largest body a source takes. The biggest page we ask for (100 arXiv entries, 100 posts)
# is well under 1 MiB; a body past this is a broken or hostile server, not a bigger page.
MAX_BODY = 10 * 1024 * 1024


class BodyTooLarge(SourceUnavailable):
    """The service sent more than `MAX_BODY` bytes; the rest was not read."""


class HttpStatusError(SourceUnavailable):
    """The service answered with a non-2xx status; `status` lets a source react (e.g. to 401)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class MalformedItem(ValueError):
    """One item of a page lacks a field its parser needs; the item is skipped."""


def user_agent(contact_url: str = DEFAULT_CONTACT_URL) -> str:
    """Return the descriptive User-Agent every source sends, naming where to reach us."""
    return f"{USER_AGENT_PRODUCT} (arXiv trend bot; +{contact_url})"


class RateLimiter:
    """Spaces requests to one service at least `interval` seconds apart."""

    def __init__(
        self,
        interval: float,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return once the next request may go out."""
        async with self._lock:
            delay = self._next - self._monotonic()
            if delay > 0:
                await self._sleep(delay)
            self._next = self._monotonic() + self._interval


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    limiter: RateLimiter | None = None,
) -> object:
    """GET `url` and return its decoded JSON body.

    Raises:
        SourceUnavailable: on a timeout, a transport error or a body that is not JSON; an
            `HttpStatusError` on a non-2xx status, with `retry_after` from Retry-After.
    """
    return await request_json(client, "GET", url, params=params, headers=headers, limiter=limiter)


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    limiter: RateLimiter | None = None,
) -> object:
    """Send one request and return its decoded JSON body; see `get_json` for the errors."""
    request = client.build_request(method, url, params=params, headers=headers, data=data)
    body = await send_request(client, request, auth=auth, limiter=limiter)
    try:
        return json.loads(body)
    except ValueError as exc:  # also a truncated body, and bytes that are not UTF-8
        raise SourceUnavailable(f"invalid JSON from {request.url.host}") from exc


async def send_request(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    auth: tuple[str, str] | None = None,
    limiter: RateLimiter | None = None,
) -> bytes:
    """Send a request made by `client.build_request` and return its body, whatever it holds.

    Raises:
        SourceUnavailable: on a timeout or a transport error; an `HttpStatusError` on a
            non-2xx status, with `retry_after` from Retry-After.
    """
    if limiter is not None:
        await limiter.wait()
    response, body = await send_capped(client, request, auth=auth)
    host = request.url.host
    if not response.is_success:
        raise HttpStatusError(
            f"HTTP {response.status_code} from {host}",
            status=response.status_code,
            retry_after=retry_after(response),
        )
    return body


async def send_capped(
    client: httpx.AsyncClient, request: httpx.Request, *, auth: tuple[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    """Send `request` and return its response (closed) and its body, read up to `MAX_BODY`.

    Raises:
        SourceUnavailable: on a timeout, a transport error, or a body over the cap; whatever
            the status, the caller reads it.
    """
    host = request.url.host
    try:
        response = await client.send(request, auth=auth, stream=True)
        try:
            body = await read_capped(response, host)
        finally:
            await response.aclose()
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"timeout from {host}") from exc
    except httpx.HTTPError as exc:  # connection, protocol and decoding errors
        raise SourceUnavailable(f"{type(exc).__name__} from {host}") from exc
    return response, body


async def read_capped(response: httpx.Response, host: str, limit: int = MAX_BODY) -> bytes:
    """Read a streamed response's body, refusing it as soon as it passes `limit` bytes.

    Raises:
        BodyTooLarge: Content-Length or the bytes received so far exceed `limit`.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"{host} sent {int(declared):,} bytes, more than {limit:,}")
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(f"{host} sent more than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after(response: httpx.Response) -> float | None:
    """Return the seconds the service asked us to wait, if it said.

    Reads Retry-After (seconds or an HTTP date) and X's `x-rate-limit-reset` (epoch seconds).
    Dates are measured against the response's own Date header, so no local clock is needed.
    """
    value = response.headers.get("retry-after")
    if value is not None and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_AFTER)
    served = _header_date(response.headers.get("date"))
    if served is None:
        return None
    until: datetime | None = None
    if value is not None:
        until = _header_date(value)
    elif (reset := response.headers.get("x-rate-limit-reset", "")).isdigit():
        until = datetime.fromtimestamp(int(reset), UTC)
    if until is None:
        return None
    return min(max(0.0, (until - served).total_seconds()), MAX_RETRY_AFTER)


def _header_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def dig(value: object, *keys: str | int) -> object:
    """Follow object keys and list indexes into decoded JSON; None where the path breaks."""
    for key in keys:
        if isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        elif isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def as_str(value: object) -> str | None:
    """Return a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_int(value: object) -> int | None:
    """Return an integer, also from a float or a digit string (Mastodon sends counts as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def as_float(value: object) -> float | None:
    """Return a finite number as a float (Reddit sends epoch times as floats), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_dict(value: object) -> dict[str, object] | None:
    """Return a JSON object, else None."""
    return value if isinstance(value, dict) else None


def as_list(value: object) -> list[object]:
    """Return a JSON array; anything else reads as an empty one."""
    return value if isinstance(value, list) else []


def as_time(value: object) -> datetime | None:
    """Read an ISO 8601 string or epoch seconds as an aware UTC datetime."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def need(value: T | None, what: str) -> T:
    """Return a required field, or raise `MalformedItem` so `parse_each` skips the item."""
    if value is None:
        raise MalformedItem(f"missing {what}")
    return value


def parse_each(
    items: Iterable[object], parse: Callable[[object], Iterable[T]], what: str
) -> list[T]:
    """Apply `parse` to every item, skipping (and logging) the items it cannot read."""
    results: list[T] = []
    skipped = 0
    for item in items:
        try:
            results.extend(parse(item))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            skipped += 1
            logger.debug("skipped a malformed %s: %s", what, exc)
    if skipped:
        logger.info("skipped %d malformed %s item(s)", skipped, what)
    return results


def collect_refs(texts: Iterable[str | None]) -> list[ArxivRef]:
    """Return the arXiv references in several texts, one per paper, first seen first."""
    refs: dict[str, ArxivRef] = {}
    for text in texts:
        for ref in find_arxiv_refs(text) if text else ():
            known = refs.get(ref.arxiv_id)
            if known is None or (known.version is None and ref.version is not None):
                refs[ref.arxiv_id] = ref
    return list(refs.values())


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)
        elif tag in {"p", "br", "li"}:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> tuple[str, list[str]]:
    """Return the visible text of post HTML and the hrefs of its links.

    Mastodon hides part of a long link's text in `<span class="invisible">`; joining the text
    nodes without spaces gives the whole URL back, and the href gives it exactly.
    """
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split()), parser.hrefs


def id_order(numeric_id: str) -> tuple[int, str]:
    """Return the sort key of an X or Mastodon id, so that older ids sort first."""
    # The ids are decimal strings of growing length: compare by length, then text.
    return len(numeric_id), numeric_id


def clip(text: str | None, limit: int = 500) -> str | None:
    """Shorten stored post text; posts are shown as excerpts only."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def load_cursor(cursor: str | None, source: str) -> dict[str, object]:
    """Decode a JSON cursor; an unreadable one restarts the source rather than wedging it."""
    if cursor is None:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        logger.warning("%s: ignoring an unreadable cursor", source)
        return {}
    return value


def dump_cursor(value: Mapping[str, object]) -> str:
    """Encode a cursor compactly and deterministically."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
