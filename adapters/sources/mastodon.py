"""Mastodon: shares from tag timelines and votes from trending links, on several instances.

A status is keyed by its ActivityPub `uri`, which is the same on every instance that federates
it, so one post seen through two instances is stored once. A reblog is a share by the booster.
One unreachable instance does not fail the others; only when every instance fails does the
poll fail (and then no cursor moves).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
    HttpStatusError,
    RateLimiter,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_time,
    clip,
    collect_refs,
    dig,
    dump_cursor,
    get_json,
    html_text,
    id_order,
    load_cursor,
    need,
    parse_each,
    user_agent,
)
from core.arxiv_id import ArxivRef
from core.faults import describe_error
from core.models import Mention, MentionKind, VoteSnapshot
from core.ports import Batch, Clock, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_MASTODON_INSTANCES = ("https://mastodon.social",)
DEFAULT_MASTODON_TAGS = ("arxiv",)


@dataclass
class _Found:
    mentions: list[Mention] = field(default_factory=list)
    snapshots: list[VoteSnapshot] = field(default_factory=list)
    since: dict[str, str] = field(default_factory=dict)


class MastodonSource:
    """Polls `/api/v1/timelines/tag/<tag>` and `/api/v1/trends/links` on each instance."""

    name = "mastodon"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        instances: Sequence[str] = DEFAULT_MASTODON_INSTANCES,
        tags: Sequence[str] = DEFAULT_MASTODON_TAGS,
        contact_url: str = DEFAULT_CONTACT_URL,
        poll_interval: float = 600.0,
        page_limit: int = 40,
        max_pages: int = 5,
        trends: bool = True,
        min_request_interval: float = 1.0,
    ) -> None:
        self.poll_interval = poll_interval
        self._client = client
        self._clock = clock
        self._instances = tuple(i.rstrip("/") for i in instances)
        self._tags = tuple(tags)
        self._headers = {"User-Agent": user_agent(contact_url)}
        self._page_limit = page_limit
        self._max_pages = max_pages
        self._trends = trends
        self._limiters = {i: RateLimiter(min_request_interval) for i in self._instances}

    async def poll(self, cursor: str | None) -> Batch:
        """Read new tagged statuses and the current trending links of every instance.

        The cursor is `{"since": {"<instance URL>#<tag>": "<newest status id seen>"}}`.
        """
        stored = as_dict(load_cursor(cursor, self.name).get("since")) or {}
        since = {k: v for k, v in stored.items() if isinstance(v, str)}
        found = _Found()
        errors: list[SourceUnavailable] = []
        for instance in self._instances:
            try:
                part = await self._instance(instance, since)
            except SourceUnavailable as exc:
                logger.warning("mastodon: %s failed: %s", instance, describe_error(exc))
                errors.append(exc)
                continue
            found.mentions += part.mentions
            found.snapshots += part.snapshots
            found.since.update(part.since)
        if errors and len(errors) == len(self._instances):
            raise _combined(errors)
        mentions = {(m.post_id, m.arxiv_id): m for m in found.mentions}
        return Batch(
            mentions=tuple(mentions.values()),
            snapshots=tuple(found.snapshots),
            cursor=dump_cursor({"since": since | found.since}),
        )

    async def _instance(self, instance: str, since: dict[str, str]) -> _Found:
        found = _Found()
        host = httpx.URL(instance).host
        for tag in self._tags:
            key = f"{instance}#{tag}"
            statuses, newest = await self._timeline(instance, tag, since.get(key))
            found.mentions += parse_each(statuses, lambda s: _mentions(s, host), "Mastodon status")
            if newest is not None:
                found.since[key] = newest
        if self._trends:
            links = await self._trending_links(instance)
            now = self._clock.now()
            found.snapshots += parse_each(links, lambda x: _votes(x, host, now), "trending link")
        return found

    async def _timeline(
        self, instance: str, tag: str, since_id: str | None
    ) -> tuple[list[object], str | None]:
        # `min_id` pages forward from the cursor, oldest page first, so a burst longer than one
        # page is walked rather than skipped. The first poll only reads the newest page.
        statuses: list[object] = []
        newest = since_id
        for _ in range(self._max_pages):
            params: dict[str, str | int] = {"limit": self._page_limit}
            if newest is not None:
                params["min_id"] = newest
            page = await self._get(instance, f"/api/v1/timelines/tag/{tag}", params)
            ids = [i for s in page if (i := as_str(dig(s, "id"))) is not None]
            statuses += page
            if not ids:
                break
            newest = max([*ids, *([newest] if newest else [])], key=id_order)
            if since_id is None or len(page) < self._page_limit:
                break
        return statuses, newest

    async def _trending_links(self, instance: str) -> list[object]:
        try:
            return await self._get(instance, "/api/v1/trends/links", {"limit": 20})
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            return []  # instances before Mastodon 3.5 have no trends API

    async def _get(self, instance: str, path: str, params: dict[str, str | int]) -> list[object]:
        body = await get_json(
            self._client,
            instance + path,
            params,
            self._headers,
            limiter=self._limiters[instance],
        )
        if not isinstance(body, list):
            raise SourceUnavailable(f"malformed answer from {httpx.URL(instance).host}: no list")
        return body


def _combined(errors: list[SourceUnavailable]) -> SourceUnavailable:
    waits = [e.retry_after for e in errors if e.retry_after is not None]
    text = "; ".join(str(e) for e in errors)
    return SourceUnavailable(f"every instance failed: {text}", retry_after=min(waits, default=None))


def _account(status: object, host: str) -> str:
    acct = need(as_str(dig(status, "account", "acct")), "account.acct").lower()
    return acct if "@" in acct else f"{acct}@{host}"


def _mentions(status: object, host: str) -> list[Mention]:
    reblog = as_dict(dig(status, "reblog"))
    shared: object = reblog if reblog is not None else status
    text, hrefs = html_text(as_str(dig(shared, "content")) or "")
    refs = collect_refs([as_str(dig(shared, "card", "url")), *hrefs, text])
    quoted = as_dict(dig(shared, "quote", "quoted_status"))
    kind: MentionKind = "repost" if reblog is not None else "quote" if quoted else "post"
    if not refs and quoted is not None:
        quoted_text, quoted_hrefs = html_text(as_str(dig(quoted, "content")) or "")
        refs = collect_refs([as_str(dig(quoted, "card", "url")), *quoted_hrefs, quoted_text])
    return _build(status, shared, host, kind, refs, text)


def _build(
    status: object, shared: object, host: str, kind: MentionKind, refs: list[ArxivRef], text: str
) -> list[Mention]:
    post_id = as_str(dig(status, "uri")) or need(as_str(dig(status, "url")), "uri")
    author = _account(status, host)
    posted_at = need(as_time(dig(status, "created_at")), "created_at")
    engagement = 0
    if kind != "repost":
        counts = (as_int(dig(shared, k)) for k in ("favourites_count", "reblogs_count"))
        engagement = sum(c for c in counts if c)
    url = as_str(dig(status, "url")) or as_str(dig(shared, "url"))
    return [
        Mention(
            source=MastodonSource.name,
            post_id=post_id,
            author=author,
            posted_at=posted_at,
            kind=kind,
            arxiv_id=ref.arxiv_id,
            version=ref.version,
            url=url,
            text=clip(text),
            engagement=engagement,
        )
        for ref in refs
    ]


def _votes(link: object, host: str, now: datetime) -> list[VoteSnapshot]:
    url = need(as_str(dig(link, "url")), "url")
    history = as_list(dig(link, "history"))
    # `history` is the last week, day by day; its uses summed is the link's current total.
    uses = sum(as_int(dig(day, "uses")) or 0 for day in history)
    return [
        VoteSnapshot(
            source=MastodonSource.name,
            item_id=f"{host} {url}",
            arxiv_id=ref.arxiv_id,
            taken_at=now,
            votes=uses,
            url=url,
            title=as_str(dig(link, "title")),
        )
        for ref in collect_refs([url])
    ]
