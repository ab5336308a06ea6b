"""X (Twitter) API v2 recent search for posts linking arXiv, retweets and quotes included.

Every read is billed, so requests are counted per UTC day against a budget, and the count lives
in the cursor so that a restart does not reset it. A retweet's own text is cut short, so its
links are read from the retweeted post in `includes.tweets`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from adapters.sources.http import (
    DEFAULT_CONTACT_URL,
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
    id_order,
    load_cursor,
    need,
    parse_each,
    user_agent,
)
from core.arxiv_id import ArxivRef
from core.models import Mention, MentionKind
from core.ports import Batch, Clock, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_X_API_URL = "https://api.x.com"
DEFAULT_X_QUERY = (
    'url:"arxiv.org" OR url:"alphaxiv.org" OR url:"huggingface.co/papers" OR url:"10.48550"'
)
POST_URL = "https://x.com/{}/status/{}"


@dataclass
class _Pages:
    tweets: list[object] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    referenced: dict[str, object] = field(default_factory=dict)
    newest: str | None = None
    requests: int = 0


class XSource:
    """Polls `/2/tweets/search/recent` with an app bearer token and a since_id cursor."""

    name = "x"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        bearer_token: str,
        base_url: str = DEFAULT_X_API_URL,
        query: str = DEFAULT_X_QUERY,
        daily_budget: int = 100,
        max_pages: int = 5,
        contact_url: str = DEFAULT_CONTACT_URL,
        poll_interval: float = 900.0,
        min_request_interval: float = 2.0,
    ) -> None:
        self.poll_interval = poll_interval
        self._client = client
        self._clock = clock
        self._url = base_url.rstrip("/") + "/2/tweets/search/recent"
        self._headers = {
            "User-Agent": user_agent(contact_url),
            "Authorization": f"Bearer {bearer_token}",
        }
        self._query = query
        self._daily_budget = daily_budget
        self._max_pages = max_pages
        self._limiter = RateLimiter(min_request_interval)

    async def poll(self, cursor: str | None) -> Batch:
        """Read the posts newer than the cursor, within today's request budget.

        The cursor is `{"since_id": "<newest post id>", "day": "<UTC day>", "requests": <n>}`,
        `requests` being how many searches were made on that day.
        """
        state = load_cursor(cursor, self.name)
        today = str(self._clock.now().date())
        used = (as_int(state.get("requests")) or 0) if state.get("day") == today else 0
        since_id = as_str(state.get("since_id"))
        pages = await self._search(since_id, self._daily_budget - used)
        mentions = parse_each(pages.tweets, lambda t: _mentions(t, pages), "X post")
        unique = {(m.post_id, m.arxiv_id): m for m in mentions}
        newest = pages.newest or since_id
        state = {"day": today, "requests": used + pages.requests}
        return Batch(
            mentions=tuple(unique.values()),
            cursor=dump_cursor(state | ({"since_id": newest} if newest else {})),
        )

    async def _search(self, since_id: str | None, allowance: int) -> _Pages:
        # When the budget or the page cap stops the walk early, the older posts between the
        # cursor and the pages read are skipped: the budget exists to bound the bill.
        pages = _Pages()
        next_token: str | None = None
        for _ in range(self._max_pages):
            if pages.requests >= allowance:
                logger.info("x: daily request budget of %d used up", self._daily_budget)
                break
            params: dict[str, str | int] = {
                "query": self._query,
                "max_results": 100,
                "expansions": "author_id,referenced_tweets.id",
                "tweet.fields": "created_at,entities,referenced_tweets,public_metrics",
                "user.fields": "username",
            }
            params |= {"since_id": since_id} if since_id else {}
            params |= {"next_token": next_token} if next_token else {}
            pages.requests += 1
            body = await get_json(
                self._client, self._url, params, self._headers, limiter=self._limiter
            )
            next_token = _add_page(pages, body)
            if next_token is None:
                break
        return pages


def _add_page(pages: _Pages, body: object) -> str | None:
    meta = as_dict(dig(body, "meta"))
    if meta is None:
        raise SourceUnavailable("malformed answer from X: no meta")
    data = as_list(dig(body, "data"))
    pages.tweets += data
    for user in as_list(dig(body, "includes", "users")):
        if (uid := as_str(dig(user, "id"))) and (name := as_str(dig(user, "username"))):
            pages.users[uid] = name
    for tweet in as_list(dig(body, "includes", "tweets")):
        if tid := as_str(dig(tweet, "id")):
            pages.referenced[tid] = tweet
    ids = [as_str(meta.get("newest_id")), *(as_str(dig(t, "id")) for t in data)]
    pages.newest = max((i for i in [pages.newest, *ids] if i), key=id_order, default=None)
    return as_str(meta.get("next_token"))


def _links(tweet: object) -> list[str | None]:
    urls = as_list(dig(tweet, "entities", "urls"))
    expanded = [as_str(dig(u, key)) for u in urls for key in ("unwound_url", "expanded_url")]
    return [*expanded, as_str(dig(tweet, "text"))]


def _referenced(tweet: object) -> Mapping[str, str]:
    refs = as_list(dig(tweet, "referenced_tweets"))
    return {t: i for r in refs if (t := as_str(dig(r, "type"))) and (i := as_str(dig(r, "id")))}


def _shared(tweet: object, pages: _Pages) -> tuple[MentionKind, object, list[ArxivRef]]:
    """Return what the post is, the post whose text to show and the papers it shares."""
    referenced = _referenced(tweet)
    refs = collect_refs(_links(tweet))
    if "retweeted" in referenced:
        original = pages.referenced.get(referenced["retweeted"], tweet)
        return "repost", original, collect_refs(_links(original)) or refs
    if "quoted" in referenced:
        quoted = pages.referenced.get(referenced["quoted"])
        return "quote", tweet, refs or collect_refs(_links(quoted))
    return "post", tweet, refs


def _mentions(tweet: object, pages: _Pages) -> list[Mention]:
    post_id = need(as_str(dig(tweet, "id")), "id")
    author_id = need(as_str(dig(tweet, "author_id")), "author_id")
    posted_at = need(as_time(dig(tweet, "created_at")), "created_at")
    kind, shown, refs = _shared(tweet, pages)
    username = pages.users.get(author_id)
    metrics = [as_int(dig(tweet, "public_metrics", k)) for k in ("like_count", "retweet_count")]
    return [
        Mention(
            source=XSource.name,
            post_id=post_id,
            author=username.lower() if username else f"id:{author_id}",
            posted_at=posted_at,
            kind=kind,
            arxiv_id=ref.arxiv_id,
            version=ref.version,
            url=POST_URL.format(username or "i/web", post_id),
            text=clip(as_str(dig(shown, "text"))),
            # A retweet reports the original's counts; they are not the retweeter's engagement.
            engagement=0 if kind == "repost" else sum(m for m in metrics if m),
        )
        for ref in refs
    ]
