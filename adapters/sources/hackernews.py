"""Hacker News from the Algolia search API: arXiv stories as votes, arXiv comments as shares.

Algolia returns at most 1,000 hits per query (`paginationLimitedTo`), so the window is cut into
`created_at_i` slices, halved until each holds fewer than that; nothing past the cap is lost.
Every poll re-reads the last week of stories so that their points and comments are refreshed.
A comment is a share whose count never changes, so comments are read on from where the last
poll stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx

from adapters.sources.hackernews_items import comment_mentions, story_snapshots
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
# Where each kind of item links a paper: a story by its URL or, for Ask HN and Show HN, in its
# text; a comment in its text.
SEARCHED_ATTRIBUTES = {"story": "url,story_text", "comment": "comment_text"}
# Algolia indexes an item a little after it is posted; comments are read again this far back so
# that one indexed late is not skipped. Reading a comment twice stores it once.
COMMENT_OVERLAP = timedelta(hours=1)

Tag = Literal["story", "comment"]


@dataclass(frozen=True, slots=True)
class _Found:
    hits: list[object]
    complete_until: int  # every hit created before this was read


class HackerNewsSource:
    """Polls Algolia's `search_by_date` for stories and comments that link an arXiv paper."""

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
        """Snapshot the arXiv stories of the last week; read the arXiv comments since the last poll.

        The cursor is `{"until": <epoch seconds of the last poll>, "comments": <epoch seconds
        before which every comment was read>}`.
        """
        now = self._clock.now()
        state = load_cursor(cursor, self.name)
        since, until = self._story_window(state, now)
        read_before = as_int(state.get("comments"))
        comments_since = min(self._comments_since(read_before, now), until)
        self._requests = 0
        stories: list[object] = []
        comments: list[object] = []
        comments_until = until
        for query in self._queries:
            stories += (await self._search(query, "story", since, until)).hits
        for query in self._queries:
            found = await self._search(query, "comment", comments_since, until)
            comments += found.hits
            comments_until = min(comments_until, found.complete_until)
        snapshots = parse_each(stories, lambda hit: story_snapshots(hit, now), "HN story")
        mentions = parse_each(comments, comment_mentions, "HN comment")
        return Batch(
            mentions=tuple({(m.post_id, m.arxiv_id): m for m in mentions}.values()),
            snapshots=tuple({(s.item_id, s.arxiv_id): s for s in snapshots}.values()),
            # A poll cut short before it reached the comments leaves their cursor where it was.
            cursor=dump_cursor({"until": until, "comments": max(comments_until, read_before or 0)}),
        )

    def _story_window(self, state: dict[str, object], now: datetime) -> tuple[int, int]:
        until = int(now.timestamp())
        since = int((now - self._vote_window).timestamp())
        last = as_int(state.get("until"))
        if last is not None:
            # After downtime longer than a week, also catch up on the stories missed meanwhile.
            since = min(since, max(last, int((now - self._max_backfill).timestamp())))
        return since, until

    def _comments_since(self, last: int | None, now: datetime) -> int:
        if last is None:  # the first poll, or a cursor from before comments were read
            return int((now - self._vote_window).timestamp())
        oldest = int((now - self._max_backfill).timestamp())
        return max(last - int(COMMENT_OVERLAP.total_seconds()), oldest)

    async def _search(self, query: str, tag: Tag, since: int, until: int) -> _Found:
        """Read every hit of `query` created in [since, until), oldest slice first.

        Slices are read oldest first, so those read in full form one span from `since`; a poll
        cut short by the request cap reports where that span ends.
        """
        hits: list[object] = []
        complete_until = since
        slices = [(since, until)]
        while slices:
            lo, hi = slices.pop()
            first = await self._page(query, tag, lo, hi, 0)
            if first is None:
                break
            if _nb_hits(first) > HITS_CAP and hi - lo > 1:
                mid = (lo + hi) // 2
                slices += [(mid, hi), (lo, mid)]
                continue
            hits.extend(as_list(first.get("hits")))
            if not await self._read_pages(query, tag, lo, hi, first, hits):
                break
            complete_until = hi
        return _Found(hits, complete_until)

    async def _read_pages(
        self, query: str, tag: Tag, lo: int, hi: int, first: dict[str, object], hits: list[object]
    ) -> bool:
        """Add the hits of the pages after `first`; False when the request cap cut them short."""
        for number in range(1, as_int(first.get("nbPages")) or 1):
            page = await self._page(query, tag, lo, hi, number)
            if page is None:
                return False
            if not as_list(page.get("hits")):
                break
            hits.extend(as_list(page.get("hits")))
        return True

    async def _page(
        self, query: str, tag: Tag, lo: int, hi: int, number: int
    ) -> dict[str, object] | None:
        if self._requests >= self._max_requests:
            # A runaway split (or a misbehaving server) must not hammer Algolia; the next poll
            # reads the same stories again and the comments from where this one stopped.
            logger.warning("hackernews: request cap %d reached; poll cut short", self._max_requests)
            return None
        self._requests += 1
        params: dict[str, str | int] = {
            "query": query,
            "tags": tag,
            "restrictSearchableAttributes": SEARCHED_ATTRIBUTES[tag],
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
