"""arXiv API metadata client: looks papers up by id through the Atom query API.

The API's terms ask for at most one request every three seconds over a single connection,
so every request of a client goes through one lock. See https://info.arxiv.org/help/api/.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import feedparser
import httpx

from adapters.sources.http import RateLimiter, read_capped, retry_after
from core.backoff import Backoff
from core.models import Paper
from core.ports import SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_ARXIV_API_URL: Final = "http://export.arxiv.org/api/query"

# DESIGN.md section 3: batches of up to 100 ids keep the URL and the response small.
MAX_BATCH: Final = 100

# A longer Retry-After is not slept through inside one fetch: the caller's own backoff
# (the source's health and poll interval) is the right place to wait that long.
_MAX_RETRY_AFTER: Final = 60.0

# Error entries come as https://arxiv.org/api/errors#... (2026) or http://arxiv.org/api/errors...
_ERROR_ID_MARK: Final = "arxiv.org/api/errors"
_ENTRY_ID = re.compile(r"^https?://(?:www\.)?arxiv\.org/abs/(?P<id>.+?)(?:v(?P<version>\d+))?$")

# Up to 2, 4, 8 s between the attempts of one request (full jitter, core/backoff.py).
RETRY_BACKOFF = Backoff(first=2.0, cap=60.0)


_DECODED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ArxivApiClient:
    """Fetches papers' metadata from the arXiv API; implements `core.ports.MetadataSource`.

    Keeps no cache (the engine stores papers), but spaces every request of this client
    by `min_interval` seconds and retries transient failures with exponential backoff.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_ARXIV_API_URL,
        *,
        min_interval: float = 3.0,
        max_retries: int = 3,
        backoff: Backoff = RETRY_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base_url = base_url
        self._max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep
        self._limiter = RateLimiter(min_interval, sleep=sleep, monotonic=monotonic)
        self._lock = asyncio.Lock()

    async def fetch(self, arxiv_ids: Sequence[str], *, retry: bool = True) -> list[Paper]:
        """Return the papers arXiv knows among `arxiv_ids`; unknown ids are left out.

        Args:
            arxiv_ids: Version-less canonical ids; duplicates are asked for once.
            retry: Retry transient failures with backoff; False asks once, for someone waiting.

        Returns:
            The papers in the order arXiv listed them, batch after batch.

        Raises:
            SourceUnavailable: arXiv could not be reached, kept failing, rejected the query
                (HTTP 400, with arXiv's reason) or sent a body that is not an Atom feed.
        """
        if isinstance(arxiv_ids, str):
            raise TypeError("fetch() takes a sequence of ids, not one id string")
        unique = list(dict.fromkeys(i for i in arxiv_ids if i))
        papers: list[Paper] = []
        for start in range(0, len(unique), MAX_BATCH):
            batch = unique[start : start + MAX_BATCH]
            papers.extend(await self._fetch_batch(batch, self._max_retries if retry else 0))
        return papers

    async def _fetch_batch(self, batch: list[str], retries: int) -> list[Paper]:
        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        response = await self._get_with_retries(params, retries)
        if response.status_code == httpx.codes.BAD_REQUEST:
            reason = _error_summary(response.content)
            logger.warning("arXiv API rejected a batch of %d ids: %s", len(batch), reason)
            raise SourceUnavailable(f"arXiv API rejected the query: {reason}")
        if response.status_code != httpx.codes.OK:
            raise SourceUnavailable(f"arXiv API answered HTTP {response.status_code}")
        papers = parse_feed(response.content)
        logger.debug("arXiv API described %d of %d ids", len(papers), len(batch))
        return papers

    async def _get_with_retries(self, params: dict[str, str], retries: int) -> httpx.Response:
        attempt = 0
        while True:
            asked: float | None = None  # the Retry-After delay
            cause: Exception | None = None
            try:
                response = await self._throttled_get(params)
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                problem, cause = type(exc).__name__, exc
            except httpx.HTTPError as exc:  # redirect loops, undecodable bodies: not transient
                raise SourceUnavailable(f"arXiv API request failed: {exc!r}") from exc
            else:
                if not _is_transient(response.status_code):
                    return response
                problem = f"HTTP {response.status_code}"
                asked = retry_after(response)
            if attempt >= retries or (asked or 0.0) > _MAX_RETRY_AFTER:
                message = f"arXiv API unavailable after {attempt + 1} attempt(s): {problem}"
                raise SourceUnavailable(message, retry_after=asked) from cause
            delay = asked if asked is not None else self._backoff.delay(attempt)
            logger.warning("arXiv API %s; retrying in %.1f s", problem, delay)
            await self._sleep(delay)
            attempt += 1

    async def _throttled_get(self, params: dict[str, str]) -> httpx.Response:
        # The lock is held through the request too: arXiv asks for one connection at a time.
        async with self._lock:
            await self._limiter.wait()
            request = self._client.build_request("GET", self._base_url, params=params)
            # The documented http:// endpoint may redirect to https://. The body is streamed
            # so that an endless one is refused at MAX_BODY, never held whole.
            response = await self._client.send(request, stream=True, follow_redirects=True)
            try:
                body = await read_capped(response, request.url.host)
            finally:
                await response.aclose()
            # The body is decoded already: a copy without its encoding headers holds it.
            headers = [(k, v) for k, v in response.headers.items() if k not in _DECODED_HEADERS]
            return httpx.Response(
                response.status_code, headers=headers, content=body, request=response.request
            )


def parse_feed(body: bytes | str) -> list[Paper]:
    """Turn an arXiv API Atom feed (current or 2016 legacy format) into papers.

    Error entries and arXiv's empty entries (no title) are skipped, so an id_list query
    for unknown ids gives an empty list. Search results parse the same way.

    Args:
        body: The response body; text is encoded as UTF-8 first.

    Returns:
        One paper per described entry, in feed order.

    Raises:
        SourceUnavailable: The body is not a well-formed Atom feed (truncated, HTML, garbage).
    """
    papers: list[Paper] = []
    for entry in _parse_atom(body):
        entry_id = _text(entry, "id") or ""
        if _ERROR_ID_MARK in entry_id:
            logger.warning("arXiv API error entry: %s", _short(_text(entry, "summary")))
            continue
        paper = _paper_from_entry(entry_id, entry)
        if paper is not None:
            papers.append(paper)
    return papers


def _parse_atom(body: bytes | str) -> list[dict[str, object]]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    # A stream, not bytes: feedparser.parse() treats bytes/str that name a file or URL as
    # a path to open or fetch, and a response body must never do that.
    try:
        parsed = feedparser.parse(io.BytesIO(data))
    except ValueError as exc:
        # feedparser 6.0 lets a few malformed bodies escape as ValueError or
        # UnicodeDecodeError (a mangled encoding declaration, a bad namespace prefix).
        raise SourceUnavailable("arXiv API sent an undecodable feed") from exc
    problem = dict.get(parsed, "bozo_exception")
    # A truncated feed still yields the entries before the cut (the loose parser recovers),
    # so any XML error rejects the whole body; a mere encoding override is harmless.
    if problem is not None and not isinstance(problem, feedparser.CharacterEncodingOverride):
        raise SourceUnavailable(f"arXiv API sent a malformed feed: {_short(str(problem))}")
    if dict.get(parsed, "version") != "atom10":
        raise SourceUnavailable("arXiv API sent something other than an Atom feed")
    entries = dict.get(parsed, "entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _paper_from_entry(entry_id: str, entry: dict[str, object]) -> Paper | None:
    match = _ENTRY_ID.match(entry_id)
    title = _collapse(_text(entry, "title"))
    if match is None or not title:
        # arXiv's "empty" results for unknown ids carry an id but no title.
        logger.debug("skipping arXiv API entry without metadata: %s", _short(entry_id))
        return None
    version = match.group("version")
    return Paper(
        arxiv_id=match.group("id"),
        title=title,
        authors=_authors(entry),
        abstract=_collapse(_text(entry, "summary")) or None,
        categories=_categories(entry),
        published=_timestamp(entry, "published_parsed"),
        updated=_timestamp(entry, "updated_parsed"),
        version=int(version) if version else None,
    )


def _text(entry: dict[str, object], key: str) -> str | None:
    # dict.get, not FeedParserDict.get: the latter maps a missing `updated` to `published`
    # and emits a DeprecationWarning (feedparser issue 310).
    value = dict.get(entry, key)
    return value if isinstance(value, str) else None


def _collapse(text: str | None) -> str:
    # Legacy feeds hard-wrap titles and summaries at ~80 columns with a two-space indent.
    return " ".join(text.split()) if text else ""


def _authors(entry: dict[str, object]) -> tuple[str, ...]:
    authors = dict.get(entry, "authors")
    if not isinstance(authors, list):
        return ()
    names = (_collapse(a.get("name")) for a in authors if isinstance(a, dict))
    return tuple(name for name in names if name)


def _categories(entry: dict[str, object]) -> tuple[str, ...]:
    terms: list[str] = []
    primary = dict.get(entry, "arxiv_primary_category")
    if isinstance(primary, dict):
        terms.append(primary.get("term") or "")
    tags = dict.get(entry, "tags")
    if isinstance(tags, list):
        terms.extend(t.get("term") or "" for t in tags if isinstance(t, dict))
    # Primary first (Paper.primary_category relies on it), then the rest in feed order.
    return tuple(dict.fromkeys(t for t in terms if isinstance(t, str) and t))


def _timestamp(entry: dict[str, object], key: str) -> datetime | None:
    value = dict.get(entry, key)
    if not isinstance(value, time.struct_time):
        return None
    # feedparser has already converted the timestamp to UTC.
    return datetime(*value[:6], tzinfo=UTC)


def _is_transient(status: int) -> bool:
    return status == httpx.codes.TOO_MANY_REQUESTS or status >= 500


def _error_summary(body: bytes) -> str:
    try:
        entries = _parse_atom(body)
    except SourceUnavailable:
        return "no error detail in the response"
    for entry in entries:
        if _ERROR_ID_MARK in (_text(entry, "id") or ""):
            return _short(_collapse(_text(entry, "summary"))) or "no error detail"
    return "no error detail in the response"


def _short(text: str | None, limit: int = 200) -> str:
    # Keeps log lines and exception messages bounded; bodies are never logged whole.
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
