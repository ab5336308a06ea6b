"""Hacker News stories that link arXiv, by URL or in their text, from Algolia, as vote snapshots.

Algolia returns at most 1,000 hits per query (`paginationLimitedTo`), so the window is cut into
`created_at_i` slices, halved until each holds fewer than that; nothing past the cap is lost.
Every poll re-reads the last week so that points and comments of recent stories are refreshed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx

from adapters.sources.hackernews_items import story_snapshots
from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
    RateLimiter,
    as_dict,
    as_int,
    as_list,
    dump_cursor,
    get_json,
    load_cursor,
    parse_each,
    user_agent,
)
from core.ports import Batch, Clock, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_HN_API_URL = "https://hn.algolia.com/api/v1"
# One query per host: Algolia has no OR across phrases.
DEFAULT_HN_QUERIES = ("arxiv.org", "alphaxiv.org", "huggingface.co/papers", "doi.org/10.48550")
HITS_CAP = 1000
# A story links a paper by its URL or, for Ask HN and Show HN, in its text.
SEARCHED_ATTRIBUTES = "url,story_text"


class HackerNewsSource:
    """Polls Algolia's `search_by_date` for stories that link an arXiv paper."""

    name = "hackernews"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        base_url: str = DEFAULT_HN_API_URL,
        contact_url: str = DEFAULT_CONTACT_URL,
        poll_interval: float = 600.0,
        queries: Sequence[str] = DEFAULT_HN_QUERIES,
        vote_days: int = 7,
        max_backfill_days: int = 30,
        hits_per_page: int = 200,
        max_requests: int = 100,
        min_request_interval: float = 1.0,
    ) -> None:
        self.poll_interval = poll_interval
        self._client = client
        self._clock = clock
        self._url = base_url.rstrip("/") + "/search_by_date"
        self._headers = {"User-Agent": user_agent(contact_url)}
        self._queries = tuple(queries)
        self._vote_window = timedelta(days=vote_days)
        self._max_backfill = timedelta(days=max_backfill_days)
        self._hits_per_page = hits_per_page
        self._max_requests = max_requests
        self._limiter = RateLimiter(min_request_interval)
        self._requests = 0

    async def poll(self, cursor: str | None) -> Batch:
        """Snapshot every arXiv story of the last week, or since the last poll if longer ago.

        The cursor is `{"until": <epoch seconds of the last poll>}`.
        """
        now = self._clock.now()
        since, until = self._window(load_cursor(cursor, self.name), now)
        self._requests = 0
        hits: list[object] = []
        for query in self._queries:
            hits.extend(await self._search(query, since, until))
        snapshots = parse_each(hits, lambda hit: story_snapshots(hit, now), "HN story")
        unique = {(s.item_id, s.arxiv_id): s for s in snapshots}
        return Batch(snapshots=tuple(unique.values()), cursor=dump_cursor({"until": until}))

    def _window(self, state: dict[str, object], now: datetime) -> tuple[int, int]:
        until = int(now.timestamp())
        since = int((now - self._vote_window).timestamp())
        last = as_int(state.get("until"))
        if last is not None:
            # After downtime longer than a week, also catch up on the stories missed meanwhile.
            since = min(since, max(last, int((now - self._max_backfill).timestamp())))
        return since, until

    async def _search(self, query: str, since: int, until: int) -> list[object]:
        hits: list[object] = []
        slices = [(since, until)]
        while slices:
            lo, hi = slices.pop()
            first = await self._page(query, lo, hi, 0)
            if first is None:
                break
            if _nb_hits(first) > HITS_CAP and hi - lo > 1:
                mid = (lo + hi) // 2
                slices += [(mid, hi), (lo, mid)]
                continue
            hits.extend(as_list(first.get("hits")))
            for number in range(1, as_int(first.get("nbPages")) or 1):
                page = await self._page(query, lo, hi, number)
                if page is None or not as_list(page.get("hits")):
                    break
                hits.extend(as_list(page.get("hits")))
        return hits

    async def _page(self, query: str, lo: int, hi: int, number: int) -> dict[str, object] | None:
        if self._requests >= self._max_requests:
            # A runaway split (or a misbehaving server) must not hammer Algolia; the next poll
            # covers the same week again anyway.
            logger.warning("hackernews: request cap %d reached; poll cut short", self._max_requests)
            return None
        self._requests += 1
        params: dict[str, str | int] = {
            "query": query,
            "tags": "story",
            "restrictSearchableAttributes": SEARCHED_ATTRIBUTES,
            "typoTolerance": "false",
            "numericFilters": f"created_at_i>={lo},created_at_i<{hi}",
            "hitsPerPage": self._hits_per_page,
            "page": number,
        }
        body = await get_json(self._client, self._url, params, self._headers, limiter=self._limiter)
        page = as_dict(body)
        if page is None or not isinstance(page.get("hits"), list):
            raise SourceUnavailable("malformed page from Algolia: no hits list")
        return page


def _nb_hits(page: dict[str, object]) -> int:
    count = as_int(page.get("nbHits"))
    return len(as_list(page.get("hits"))) if count is None else count
