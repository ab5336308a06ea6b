"""Reading Algolia's Hacker News items: a story as vote snapshots, a comment as shares."""

from __future__ import annotations

from datetime import datetime

from adapters.sources.http import (
    as_int,
    as_str,
    as_time,
    clip,
    collect_refs,
    dig,
    html_text,
    need,
)
from core.models import Mention, VoteSnapshot

SOURCE = "hackernews"
ITEM_URL = "https://news.ycombinator.com/item?id={}"


def story_snapshots(hit: object, now: datetime) -> list[VoteSnapshot]:
    """The points and comments of a story, once per paper its URL or its text links."""
    item_id = need(as_str(dig(hit, "objectID")), "objectID")
    points = need(as_int(dig(hit, "points")), "points")
    comments = as_int(dig(hit, "num_comments")) or 0
    title = as_str(dig(hit, "title"))
    text, hrefs = html_text(as_str(dig(hit, "story_text")) or "")
    return [
        VoteSnapshot(
            source=SOURCE,
            item_id=item_id,
            arxiv_id=ref.arxiv_id,
            taken_at=now,
            votes=points,
            comments=comments,
            url=ITEM_URL.format(item_id),
            title=title,
        )
        for ref in collect_refs([as_str(dig(hit, "url")), *hrefs, text])
    ]


def comment_mentions(hit: object) -> list[Mention]:
    """A comment as a share by its account of every paper it links."""
    item_id = need(as_str(dig(hit, "objectID")), "objectID")
    author = need(as_str(dig(hit, "author")), "author")
    posted_at = need(as_time(dig(hit, "created_at_i")), "created_at_i")
    # The HTML escapes slashes in links (`https:&#x2F;&#x2F;arxiv.org…`); parsing decodes them.
    text, hrefs = html_text(need(as_str(dig(hit, "comment_text")), "comment_text"))
    return [
        Mention(
            source=SOURCE,
            post_id=item_id,
            author=author,
            posted_at=posted_at,
            kind="post",
            arxiv_id=ref.arxiv_id,
            version=ref.version,
            url=ITEM_URL.format(item_id),
            text=clip(text),
        )
        for ref in collect_refs([*hrefs, text])
    ]
