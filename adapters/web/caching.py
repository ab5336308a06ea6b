"""Response headers every page shares: validators, freshness and what the browser may run.

Pages change at most once a minute (the sweep), so a response may be reused for 60 s and is
then revalidated by its ETag: a reader polling the feed gets an empty 304 until the list moves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from aiohttp import web

MAX_AGE = 60
# No script at all, and styles only from our own stylesheet: a title that smuggles markup in
# could neither run nor restyle the page even if it escaped escaping. Inline SVG is markup,
# not a resource, so the chart needs nothing here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

PageHandler = Callable[[web.Request], Awaitable[web.Response]]


def entity_tag(body: bytes) -> str:
    """A strong validator for `body`: equal bytes, equal tag."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weakly compared, as RFC 9110 asks)."""
    if if_none_match.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == wanted for t in if_none_match.split(","))


def cached(handler: PageHandler) -> PageHandler:
    """Give `handler`'s answers an ETag, max-age and the security headers; answer 304 if fresh.

    Answers of 5xx are never stored: the next request should try again.
    """

    async def handle(request: web.Request) -> web.Response:
        response = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        if response.status >= 500:
            response.headers["Cache-Control"] = "no-store"
            return response
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        body = response.body
        if not isinstance(body, bytes):
            return response
        tag = entity_tag(body)
        response.headers["ETag"] = tag
        given = request.headers.get("If-None-Match")
        if response.status == 200 and given is not None and matches(given, tag):
            fresh = {"ETag": tag, "Cache-Control": response.headers["Cache-Control"]}
            return web.Response(status=304, headers={**fresh, **SECURITY_HEADERS})
        return response

    return handle
