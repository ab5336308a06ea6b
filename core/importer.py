"""Mentions from a JSONL file: a user's own X archive, a backfill, another bot's log.

One mention per line:
`{"source": "x", "post_id": "…", "author": "…", "posted_at": "2016-07-22T10:00:00Z",
"kind": "post"|"repost"|"quote", "url": "…", "text": "…"}`. The paper is found in `url` and/or
`text`; a line naming several papers counts for each.

A Bluesky `author` may be a DID (as the bot stores Bluesky's own shares) or a handle: follow
lists match both (core.follows), so an export that names handles needs no lookups to import.
Mastodon authors are `user@instance` and X authors handles, lower-case, as follows keep them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from core.arxiv_id import find_arxiv_refs
from core.models import MENTION_KINDS, SHARE_NETWORKS, Mention, MentionKind

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_FIELD = 256


class BadLine(ValueError):
    """A line that cannot be imported; the message says why in a few words."""


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A skipped line and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_line(text: str, today: date | None = None) -> list[Mention]:
    """Turn one JSONL line into one mention per paper it names.

    Args:
        text: The line.
        today: The current date: ids of later months are not papers yet.

    Raises:
        BadLine: the line is not a mention we can use.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    source = _required(data, "source").lower()
    if not SOURCE_NAME.match(source):
        raise BadLine(f"source {source[:40]!r} is not a short lowercase name")
    if source not in SHARE_NETWORKS:
        raise BadLine(f"source {source!r} is not a share network: {', '.join(SHARE_NETWORKS)}")
    kind = data.get("kind", "post")
    if kind not in MENTION_KINDS:
        raise BadLine(f"kind must be one of {', '.join(MENTION_KINDS)}")
    url, body = _url(data), _optional(data, "text")
    refs = find_arxiv_refs(" ".join(t for t in (url, body) if t), today)
    if not refs:
        raise BadLine("no arXiv link or id in url or text")
    post_id = _required(data, "post_id")
    author = _required(data, "author").lower()
    posted_at = _timestamp(data.get("posted_at"))
    engagement = _engagement(data.get("engagement", 0))
    return [
        Mention(
            source=source,
            post_id=post_id,
            author=author,
            posted_at=posted_at,
            kind=cast(MentionKind, kind),
            arxiv_id=r.arxiv_id,
            version=r.version,
            url=url,
            text=body,
            engagement=engagement,
        )
        for r in refs
    ]


def _required(data: dict[str, object], key: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadLine(f"missing {key}")
    if len(value) > MAX_FIELD:
        raise BadLine(f"{key} is longer than {MAX_FIELD} characters")
    return value.strip()


def _optional(data: dict[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLine(f"{key} must be a string")
    return value


def _url(data: dict[str, object]) -> str | None:
    url = _optional(data, "url")
    # A link holds neither spaces nor control characters; one that does was mangled on the way.
    if url is not None and any(ch.isspace() or not ch.isprintable() for ch in url):
        raise BadLine("url holds whitespace or control characters")
    return url


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadLine("missing posted_at")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadLine(f"posted_at {value[:40]!r} is not an ISO 8601 time") from None
    # A time without a zone is taken as UTC, as exports usually mean it.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _engagement(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadLine("engagement must be a whole number of 0 or more")
    return value


# Mentions per transaction of `trending-arxiv import`. Each batch rewrites every paper, signal
# and index page it touches once, so bigger batches spread that over more shares (a 1M import on
# SQLite: 58 s at 50,000 against 76 s at 20,000). 50,000 parsed mentions hold about 30 MB, and
# on SQLite a batch holds the write lock for a few seconds: a bot beside the import waits that.
IMPORT_BATCH = 50_000
# A share is a few hundred bytes; a line past this is not one, and parsing it would hold a
# huge JSON value in memory.
MAX_LINE_BYTES = 64 * 1024


def read_mentions(
    lines: Iterable[str], batch: int = IMPORT_BATCH, today: date | None = None
) -> Iterator[tuple[list[Mention], list[LineProblem]]]:
    """Parse lines lazily, yielding batches of mentions with the problems met on the way."""
    mentions: list[Mention] = []
    problems: list[LineProblem] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if len(text) > MAX_LINE_BYTES or len(text.encode("utf-8", "replace")) > MAX_LINE_BYTES:
            problems.append(LineProblem(number, "line longer than 64 KiB: not a share"))
            continue
        try:
            mentions.extend(parse_line(text, today))
        except BadLine as exc:
            problems.append(LineProblem(number, str(exc)))
        if len(mentions) >= batch:
            yield mentions, problems
            mentions, problems = [], []
    if mentions or problems:
        yield mentions, problems
