"""How answers are kept and validated: a few seconds in the process, a minute in the browser.

Lists change at most once a minute for the windows (the sweep) and a little with every share
for trending, so an answer may be reused for 60 s and is then revalidated by its ETag: a
reader polling the feed gets an empty 304 until the list moves. The process keeps each answer
it built for `ANSWER_SECONDS` too, so a burst of readers of the same page costs one build.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

MAX_AGE = 60
ANSWER_SECONDS = 10.0
ANSWERS_KEPT = 512  # at most ~15 MB of pages; a crawler's endless queries evict the oldest
# No script at all, and styles only from our own stylesheet: a title that smuggles markup in
# could neither run nor restyle the page even if it escaped escaping. Inline SVG is markup,
# not a resource, so the chart needs nothing here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
_KEPT_HEADERS = ("Content-Type", "Location")

PageHandler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass(frozen=True, slots=True)
class Answer:
    """A built answer, as it is sent again: status, body, its own headers and its ETag."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    tag: str
    built_at: float


class AnswerCache:
    """The answers built in the last `seconds`, by address; the `size` most recent at most."""

    def __init__(
        self,
        seconds: float = ANSWER_SECONDS,
        size: int = ANSWERS_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def now(self) -> float:
        """The cache's own clock (monotonic seconds)."""
        return self._clock()

    def get(self, key: str) -> Answer | None:
        """The answer kept for `key` if it is recent enough."""
        answer = self._answers.get(key)
        if answer is None or self._clock() - answer.built_at >= self._seconds:
            return None
        return answer

    def put(self, key: str, answer: Answer) -> None:
        """Keep `answer` for `key`, forgetting the oldest beyond the size."""
        if self._seconds <= 0:
            return
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)


def entity_tag(body: bytes) -> str:
    """A strong validator for `body`: equal bytes, equal tag."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weakly compared, as RFC 9110 asks)."""
    if if_none_match.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == wanted for t in if_none_match.split(","))


def site_root(request: web.Request) -> str:
    """This site's address as the reader sees it (a PaaS router forwards https as http)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").lower()
    scheme = forwarded if forwarded in ("http", "https") else request.scheme
    return f"{scheme}://{request.host}"


def address(request: web.Request) -> str:
    """The address a reader asked for: pages hold absolute links (the feed) built from it."""
    return f"{site_root(request)}{request.rel_url}"


def cached(handler: PageHandler, cache: AnswerCache) -> PageHandler:
    """Serve `handler`'s answers from `cache`, with an ETag, max-age and the security headers.

    A current If-None-Match gets a 304; 5xx answers are neither kept nor stored by browsers.
    """

    async def handle(request: web.Request) -> web.Response:
        key = address(request)
        answer = cache.get(key)
        if answer is None:
            response = await handler(request)
            if response.status >= 500 or not isinstance(response.body, bytes):
                response.headers.update(SECURITY_HEADERS)
                response.headers["Cache-Control"] = "no-store"
                return response
            answer = _answer(response, response.body, cache.now())
            cache.put(key, answer)
        return _send(answer, request.headers.get("If-None-Match"))

    return handle


def _answer(response: web.Response, body: bytes, now: float) -> Answer:
    headers = tuple((k, response.headers[k]) for k in _KEPT_HEADERS if k in response.headers)
    return Answer(response.status, body, headers, entity_tag(body), now)


def _send(answer: Answer, if_none_match: str | None) -> web.Response:
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "ETag": answer.tag,
    }
    if answer.status == 200 and if_none_match is not None and matches(if_none_match, answer.tag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        status=answer.status, body=answer.body, headers={**headers, **dict(answer.headers)}
    )
