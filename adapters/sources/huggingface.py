"""Hugging Face daily papers and their upvotes, as vote snapshots.

The daily list is keyed by the day a paper was submitted to it, and its upvotes keep growing for
days, so every poll re-reads the last `refresh_days` days; the first poll back-fills a week.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import httpx

from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
    RateLimiter,
    as_int,
    as_str,
    dig,
    dump_cursor,
    get_json,
    load_cursor,
    need,
    parse_each,
    user_agent,
)
from core.arxiv_id import parse_arxiv_id
from core.models import VoteSnapshot
from core.ports import Batch, Clock, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_HF_API_URL = "https://huggingface.co/api"
PAPER_URL = "https://huggingface.co/papers/{}"


class HuggingFaceSource:
    """Polls `/daily_papers?date=` for each recent day."""

    name = "huggingface"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        base_url: str = DEFAULT_HF_API_URL,
        contact_url: str = DEFAULT_CONTACT_URL,
        poll_interval: float = 1800.0,
        backfill_days: int = 7,
        refresh_days: int = 2,
        page_limit: int = 100,
        min_request_interval: float = 1.0,
    ) -> None:
        self.poll_interval = poll_interval
        self._client = client
        self._clock = clock
        self._url = base_url.rstrip("/") + "/daily_papers"
        self._headers = {"User-Agent": user_agent(contact_url)}
        self._backfill_days = max(1, backfill_days)
        self._refresh_days = max(1, refresh_days)
        self._page_limit = page_limit
        self._limiter = RateLimiter(min_request_interval)

    async def poll(self, cursor: str | None) -> Batch:
        """Snapshot the upvotes of the papers of each day since the last poll.

        The cursor is `{"day": "<YYYY-MM-DD, the last UTC day read>"}`.
        """
        now = self._clock.now()
        today = now.date()
        items: list[object] = []
        for day in self._days(load_cursor(cursor, self.name), today):
            items.extend(await self._day(day))
        snapshots = parse_each(items, lambda item: [_snapshot(item, now)], "HF daily paper")
        unique = {s.item_id: s for s in snapshots}
        return Batch(snapshots=tuple(unique.values()), cursor=dump_cursor({"day": str(today)}))

    def _days(self, state: dict[str, object], today: date) -> list[date]:
        oldest = today - timedelta(days=self._backfill_days - 1)
        first = oldest
        last = _as_date(state.get("day"))
        if last is not None:
            first = max(oldest, min(last, today - timedelta(days=self._refresh_days - 1)))
        return [first + timedelta(days=n) for n in range((today - first).days + 1)]

    async def _day(self, day: date) -> list[object]:
        params: dict[str, str | int] = {"date": str(day), "limit": self._page_limit}
        body = await get_json(self._client, self._url, params, self._headers, limiter=self._limiter)
        if not isinstance(body, list):
            raise SourceUnavailable("malformed daily papers from Hugging Face: not a list")
        return body


def _as_date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _snapshot(item: object, now: datetime) -> VoteSnapshot:
    paper_id = need(as_str(dig(item, "paper", "id")), "paper.id")
    ref = need(parse_arxiv_id(paper_id), "an arXiv id in paper.id")
    return VoteSnapshot(
        source=HuggingFaceSource.name,
        item_id=ref.arxiv_id,
        arxiv_id=ref.arxiv_id,
        taken_at=now,
        votes=need(as_int(dig(item, "paper", "upvotes")), "paper.upvotes"),
        comments=as_int(dig(item, "numComments")) or 0,
        url=PAPER_URL.format(ref.arxiv_id),
        title=as_str(dig(item, "title")) or as_str(dig(item, "paper", "title")),
    )
