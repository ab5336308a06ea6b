"""Reddit posts that link arXiv (link posts and links in self text), as vote snapshots.

Application-only OAuth (client credentials): the token is fetched on first use, renewed a minute
before it expires and once more if the API answers 401. New posts are read from each
subreddit's `/new` listing; posts already tracked are re-read through `/api/info` for a week so
that their score keeps being snapshotted after they fall off the first pages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
    HttpStatusError,
    Params,
    RateLimiter,
    as_dict,
    as_float,
    as_int,
    as_str,
    as_time,
    collect_refs,
    dig,
    dump_cursor,
    get_json,
    load_cursor,
    need,
    parse_each,
    request_json,
    user_agent,
)
from core.models import VoteSnapshot
from core.ports import Batch, Clock, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_REDDIT_AUTH_URL = "https://www.reddit.com"
DEFAULT_REDDIT_API_URL = "https://oauth.reddit.com"
DEFAULT_REDDIT_SUBREDDITS = ("MachineLearning",)
WEB_URL = "https://www.reddit.com"
INFO_BATCH = 100  # /api/info takes at most 100 fullnames


@dataclass(frozen=True, slots=True)
class _Post:
    name: str
    created: float
    snapshots: list[VoteSnapshot]


class RedditSource:
    """Polls `/r/<subreddit>/new` with an application-only OAuth token."""

    name = "reddit"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        client_id: str,
        client_secret: str,
        api_url: str = DEFAULT_REDDIT_API_URL,
        auth_url: str = DEFAULT_REDDIT_AUTH_URL,
        subreddits: Sequence[str] = DEFAULT_REDDIT_SUBREDDITS,
        contact_url: str = DEFAULT_CONTACT_URL,
        poll_interval: float = 900.0,
        page_limit: int = 100,
        max_pages: int = 3,
        vote_days: int = 7,
        min_request_interval: float = 1.0,
    ) -> None:
        self.poll_interval = poll_interval
        self._client = client
        self._clock = clock
        self._credentials = (client_id, client_secret)
        self._api_url = api_url.rstrip("/")
        self._token_url = auth_url.rstrip("/") + "/api/v1/access_token"
        self._subreddits = tuple(subreddits)
        self._user_agent = user_agent(contact_url)
        self._page_limit = page_limit
        self._max_pages = max_pages
        self._vote_window = timedelta(days=vote_days)
        self._limiter = RateLimiter(min_request_interval)
        self._token: str | None = None
        self._token_expires: datetime | None = None

    async def poll(self, cursor: str | None) -> Batch:
        """Snapshot new arXiv posts of every subreddit and refresh the tracked ones.

        The cursor is `{"newest": {"<subreddit>": <created_utc>}, "tracked": {"t3_<id>":
        <created_utc>}}`: the newest post read per subreddit, and the arXiv posts of the last
        week whose votes are still followed.
        """
        state = load_cursor(cursor, self.name)
        now = self._clock.now()
        horizon = (now - self._vote_window).timestamp()
        newest = _floats(state.get("newest"))
        tracked = {k: v for k, v in _floats(state.get("tracked")).items() if v >= horizon}
        posts: list[_Post] = []
        for subreddit in self._subreddits:
            found = await self._new_posts(subreddit, max(newest.get(subreddit, 0.0), horizon))
            posts += found
            newest[subreddit] = max([newest.get(subreddit, 0.0), *(p.created for p in found)])
        seen = {p.name for p in posts}
        posts += await self._info([n for n in tracked if n not in seen])
        tracked |= {p.name: p.created for p in posts if p.snapshots and p.created >= horizon}
        snapshots = {(s.item_id, s.arxiv_id): s for p in posts for s in p.snapshots}
        return Batch(
            snapshots=tuple(snapshots.values()),
            cursor=dump_cursor({"newest": newest, "tracked": tracked}),
        )

    async def _new_posts(self, subreddit: str, stop_at: float) -> list[_Post]:
        posts: list[_Post] = []
        after: str | None = None
        for _ in range(self._max_pages):
            params: dict[str, str | int] = {"limit": self._page_limit, "raw_json": 1}
            if after is not None:
                params["after"] = after
            listing = await self._get(f"/r/{subreddit}/new", params)
            page = self._parse_listing(listing)
            posts += page
            after = as_str(dig(listing, "data", "after"))
            if after is None or not page or min(p.created for p in page) <= stop_at:
                break
        return posts

    async def _info(self, names: list[str]) -> list[_Post]:
        posts: list[_Post] = []
        for start in range(0, len(names), INFO_BATCH):
            ids = ",".join(names[start : start + INFO_BATCH])
            listing = await self._get("/api/info", {"id": ids, "raw_json": 1})
            posts += self._parse_listing(listing)
        return posts

    def _parse_listing(self, listing: object) -> list[_Post]:
        children = dig(listing, "data", "children")
        if not isinstance(children, list):
            raise SourceUnavailable("malformed listing from Reddit: no children")
        now = self._clock.now()
        return parse_each(children, lambda child: _posts(child, now), "Reddit post")

    async def _get(self, path: str, params: Params) -> object:
        try:
            return await self._get_once(path, params)
        except HttpStatusError as exc:
            if exc.status != 401:
                raise
            self._token = None  # revoked or expired early: one fresh token, one more try
            return await self._get_once(path, params)

    async def _get_once(self, path: str, params: Params) -> object:
        headers = {
            "User-Agent": self._user_agent,
            "Authorization": f"bearer {await self._access_token()}",
        }
        url = self._api_url + path
        return await get_json(self._client, url, params, headers, limiter=self._limiter)

    async def _access_token(self) -> str:
        now = self._clock.now()
        if self._token is not None and self._token_expires and now < self._token_expires:
            return self._token
        body = await request_json(
            self._client,
            "POST",
            self._token_url,
            headers={"User-Agent": self._user_agent},
            data={"grant_type": "client_credentials"},
            auth=self._credentials,
            limiter=self._limiter,
        )
        token = as_str(dig(body, "access_token"))
        if token is None:
            raise SourceUnavailable("Reddit gave no access token (check the client id and secret)")
        lifetime = as_int(dig(body, "expires_in")) or 3600
        self._token = token
        # Renew a minute early so that a token never expires between check and use.
        self._token_expires = now + timedelta(seconds=max(0, lifetime - 60))
        return token


def _floats(value: object) -> dict[str, float]:
    items = (as_dict(value) or {}).items()
    return {k: f for k, v in items if (f := as_float(v)) is not None}


def _posts(child: object, now: datetime) -> list[_Post]:
    if dig(child, "kind") != "t3":
        return []
    post = dig(child, "data")
    name = need(as_str(dig(post, "name")), "name")
    created = need(as_float(dig(post, "created_utc")), "created_utc")
    need(as_time(created), "a valid created_utc")
    link = None if dig(post, "is_self") is True else as_str(dig(post, "url"))
    refs = collect_refs([link, as_str(dig(post, "selftext"))])
    if not refs:
        return [_Post(name, created, [])]
    votes = need(as_int(dig(post, "score")), "score")
    permalink = as_str(dig(post, "permalink"))
    snapshots = [
        VoteSnapshot(
            source=RedditSource.name,
            item_id=name,
            arxiv_id=ref.arxiv_id,
            taken_at=now,
            votes=votes,
            comments=as_int(dig(post, "num_comments")) or 0,
            url=WEB_URL + permalink if permalink else None,
            title=as_str(dig(post, "title")),
        )
        for ref in refs
    ]
    return [_Post(name, created, snapshots)]
