"""Reading Algolia's Hacker News items: a story as vote snapshots."""

from __future__ import annotations

from datetime import datetime

from adapters.sources.http import (
    as_int,
    as_str,
    collect_refs,
    dig,
    html_text,
    need,
)
from core.models import VoteSnapshot

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
