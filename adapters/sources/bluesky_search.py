"""Bluesky back-fill through `app.bsky.feed.searchPosts`, for when the live stream was not read.

Search needs an account: the source signs in with an app password (`createSession`) and keeps
the access token in memory only. Neither the password nor a token is ever logged or put into an
error message. Shares are stored under the same source and post ids as Jetstream's, so a post
both of them see is stored once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

import httpx

from adapters.sources.bluesky_record import build_mention, post_refs, post_uri, quoted_record
from adapters.sources.http import (
    HttpStatusError,
    as_dict,
    as_int,
    as_str,
    as_time,
    clip,
    dig,
    get_json,
    need,
    parse_each,
    retry_after,
)
from core.models import Mention, MentionKind
from core.ports import Batch, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_BLUESKY_API_URL: Final = "https://bsky.social/xrpc"
PAGE_SIZE: Final = 100  # searchPosts' maximum


class BlueskySearchSource:
    """Finds posts that link arXiv through searchPosts; implements `core.ports.MentionSource`.

    The cursor is the newest post's sort time (ISO 8601); the next poll asks only for posts
    since then (`since` is inclusive, and storage is idempotent, so the edge post is harmless).
    A poll reads at most `max_pages` pages, newest first: after a gap longer than that, the
    oldest posts of the gap are left out (this is a back-fill; Jetstream is the live source).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        handle: str,
        app_password: str,
        base_url: str = DEFAULT_BLUESKY_API_URL,
        *,
        name: str = "bluesky-search",
        query: str = "arxiv.org",
        poll_interval: float = 900.0,
        max_pages: int = 5,
    ) -> None:
        self.name = name
        self.poll_interval = poll_interval
        self._client = client
        self._handle = handle
        self._password = app_password
        self._base_url = base_url.rstrip("/")
        self._query = query
        self._max_pages = max_pages
        self._token: str | None = None

    def __repr__(self) -> str:  # never show the password or the token
        return f"BlueskySearchSource(name={self.name!r}, handle={self._handle!r})"

    async def poll(self, cursor: str | None) -> Batch:
        """Return the shares posted since `cursor`, newest pages first.

        Raises:
            SourceUnavailable: sign-in or search failed; the cursor must not advance.
        """
        since = as_time(cursor)
        posts: list[object] = []
        page_cursor: str | None = None
        for _ in range(self._max_pages):
            page = await self._search(since, page_cursor)
            items = page.get("posts")
            posts.extend(items if isinstance(items, list) else [])
            page_cursor = as_str(page.get("cursor"))
            if not items or page_cursor is None:
                break
        mentions = parse_each(posts, post_mentions, "Bluesky post")
        newest = max(filter(None, map(_sort_time, posts)), default=None)
        return Batch(mentions=tuple(mentions), cursor=_iso(newest) if newest else cursor)

    async def _search(self, since: datetime | None, page_cursor: str | None) -> dict[str, object]:
        params: dict[str, str | int] = {"q": self._query, "limit": PAGE_SIZE, "sort": "latest"}
        if since is not None:
            params["since"] = _iso(since)
        if page_cursor is not None:
            params["cursor"] = page_cursor
        url = f"{self._base_url}/app.bsky.feed.searchPosts"
        fresh = self._token is None
        try:
            body = await get_json(self._client, url, params, await self._auth())
        except HttpStatusError as exc:
            # An expired access token answers 400 ExpiredToken or 401: sign in once more.
            if fresh or exc.status not in (400, 401):
                raise
            self._token = None
            body = await get_json(self._client, url, params, await self._auth())
        return as_dict(body) or {}

    async def _auth(self) -> dict[str, str]:
        if self._token is None:
            self._token = await self._create_session()
        return {"Authorization": f"Bearer {self._token}"}

    async def _create_session(self) -> str:
        url = f"{self._base_url}/com.atproto.server.createSession"
        payload = {"identifier": self._handle, "password": self._password}
        try:
            response = await self._client.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"Bluesky sign-in failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise SourceUnavailable(
                f"Bluesky sign-in failed: HTTP {response.status_code}",
                retry_after=retry_after(response),
            )
        try:
            token = as_str(dig(response.json(), "accessJwt"))
        except ValueError:
            token = None
        if token is None:
            raise SourceUnavailable("Bluesky sign-in answered without an access token")
        logger.info("signed in to Bluesky as %s", self._handle)
        return token


def post_mentions(item: object) -> list[Mention]:
    """Return the shares in one post view: its own links, then the post it quotes.

    Raises:
        MalformedItem: the view lacks its URI, author or record (`parse_each` skips it).
    """
    post = need(as_dict(item), "post view")
    uri = need(post_uri(post.get("uri")), "uri")
    author = need(as_str(dig(post, "author", "did")), "author")
    record = need(as_dict(post.get("record")), "record")
    found: dict[str, tuple[MentionKind, int | None]] = {}
    for ref in post_refs(record):
        found[ref.arxiv_id] = ("post", ref.version)
    # A post view's embed carries the quoted post's record, hydrated by the server, in `value`.
    quoted = as_dict(dig(quoted_record(post.get("embed")), "value"))
    for ref in post_refs(quoted) if quoted else ():
        found.setdefault(ref.arxiv_id, ("quote", None))
    engagement = sum(as_int(post.get(k)) or 0 for k in ("likeCount", "repostCount", "quoteCount"))
    posted_at = need(_sort_time(post), "createdAt or indexedAt")
    text = clip(as_str(record.get("text")))
    return [
        build_mention(
            uri, author, posted_at, kind, arxiv_id, version, text=text, engagement=engagement
        )
        for arxiv_id, (kind, version) in found.items()
    ]


def _sort_time(post: object) -> datetime | None:
    # search sorts and filters by the earlier of createdAt and indexedAt: a client may set
    # createdAt in the future, and a post imported from elsewhere can be years old.
    times = [as_time(dig(post, "record", "createdAt")), as_time(dig(post, "indexedAt"))]
    return min((t for t in times if t is not None), default=None)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
