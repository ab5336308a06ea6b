"""arXiv's daily listings (rss.arxiv.org), so new papers are known before anyone shares them.

The RSS 2.0 feeds introduced in January 2024 list one announcement day per category set:
`new` submissions, `cross`-lists and `replace`d versions. The listing gives title, authors,
abstract and categories, which is all `/new` and paper cards need, so these papers never have
to be asked of the rate-limited arXiv API. See https://info.arxiv.org/help/rss.html.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import feedparser
import httpx

from adapters.sources.http import (
    as_dict,
    as_str,
    as_time,
    need,
    parse_each,
    send_request,
)
from core.arxiv_id import parse_arxiv_id
from core.models import Paper
from core.ports import Batch, SourceUnavailable

DEFAULT_ARXIV_RSS_URL: Final = "https://rss.arxiv.org/rss"

# Descriptions start "arXiv:2411.17700v1 Announce Type: new \nAbstract: ..."
_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE)
_FIRST_ANNOUNCED = frozenset({"new"})
_NEW_VERSION = frozenset({"new", "replace", "replace-cross"})


class ArxivRssSource:
    """Reads the listing of the configured categories; implements `core.ports.MentionSource`.

    Its batches hold papers only (metadata, no shares). The cursor is the listing's
    announcement date (the channel's pubDate, ISO 8601): a listing already read is skipped.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        categories: Sequence[str],
        base_url: str = DEFAULT_ARXIV_RSS_URL,
        *,
        name: str = "arxiv",
        poll_interval: float = 3600.0,
    ) -> None:
        if not categories:
            raise ValueError("arXiv RSS needs at least one category, e.g. cs.LG")
        self.name = name
        self.poll_interval = poll_interval
        self._client = client
        self._url = f"{base_url.rstrip('/')}/{'+'.join(categories)}"

    async def poll(self, cursor: str | None) -> Batch:
        """Return the papers of the current listing, or nothing if `cursor` says it was read.

        Raises:
            SourceUnavailable: the feed could not be fetched or read, or arXiv answered with
                its "Feed error" channel (e.g. a misspelt category).
        """
        body = await self._fetch()
        # feedparser is synchronous, and a full listing takes a while to parse.
        feed = await asyncio.to_thread(feedparser.parse, body)
        return read_listing(feed, cursor)

    async def _fetch(self) -> bytes:
        return await send_request(self._client, self._client.build_request("GET", self._url))


def read_listing(feed: Mapping[str, Any], cursor: str | None) -> Batch:
    """Turn a parsed listing into a batch of papers, unless `cursor` shows it was read.

    Raises:
        SourceUnavailable: the channel is arXiv's "Feed error" or not a feed at all.
    """
    channel: Mapping[str, Any] = feed.get("feed") or {}
    entries: list[Any] = feed.get("entries") or []
    title = as_str(channel.get("title")) or ""
    if title.startswith("Feed error"):
        reason = as_str(channel.get("description")) or title
        raise SourceUnavailable(f"arXiv RSS: {reason}")
    if not title and not entries:
        raise SourceUnavailable("arXiv RSS: the response is not a listing")
    announced = _struct_time(channel.get("published_parsed") or channel.get("updated_parsed"))
    if not entries:  # weekends and holidays: nothing announced, nothing to remember
        return Batch(cursor=cursor)
    read_up_to = as_time(cursor)
    if announced is not None and read_up_to is not None and announced <= read_up_to:
        return Batch(cursor=cursor)
    papers = parse_each(entries, _parse_item, "arXiv RSS item")
    return Batch(papers=tuple(papers), cursor=announced.isoformat() if announced else cursor)


def listed_paper(entry: Mapping[str, Any]) -> Paper:
    """Read one listing item.

    Raises:
        MalformedItem: the item names no arXiv id.
    """
    guid = (as_str(entry.get("id")) or "").removeprefix("oai:arXiv.org:")
    ref = parse_arxiv_id(guid) or parse_arxiv_id(as_str(entry.get("link")) or "")
    ref = need(ref, "arXiv id")
    kind = (as_str(entry.get("arxiv_announce_type")) or "").lower()
    announced = _struct_time(entry.get("published_parsed"))
    return Paper(
        arxiv_id=ref.arxiv_id,
        title=" ".join((as_str(entry.get("title")) or "").split()) or None,
        authors=_authors(entry),
        abstract=_abstract(as_str(entry.get("summary"))),
        categories=tuple(t for tag in entry.get("tags") or () if (t := as_str(tag.get("term")))),
        # A listing dates the announcement, which is the paper's publication only when it is
        # new; a cross-list or a replacement may concern an old paper.
        published=announced if kind in _FIRST_ANNOUNCED else None,
        updated=announced if kind in _NEW_VERSION else None,
        version=ref.version,
    )


def _parse_item(entry: object) -> list[Paper]:
    return [listed_paper(need(as_dict(entry), "item"))]


def _authors(entry: Mapping[str, Any]) -> tuple[str, ...]:
    # dc:creator is one comma-joined string of every author.
    names = as_str(entry.get("author")) or ""
    return tuple(name for part in names.split(",") if (name := " ".join(part.split())))


def _abstract(summary: str | None) -> str | None:
    if summary is None:
        return None
    # feedparser treats the description as HTML and leaves some entities escaped.
    text = html.unescape(_PREFIX.sub("", summary, count=1)).strip()
    return text or None


def _struct_time(value: object) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    return datetime(*value[:6], tzinfo=UTC)
