"""Bluesky Jetstream's wire format: which messages may concern a paper share, and their events.

Jetstream (github.com/bluesky-social/jetstream) sends each commit of the wanted collections as
one JSON text message. The stream carries hundreds to thousands of posts a second and almost
none link a paper, so `decode_message` looks for a few substrings in the raw text before it
parses any JSON. Reposts, deletes and quotes are parsed too: they may concern a post we track.
`jetstream_consumer` reads the stream and commits what these events share.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.sources.bluesky_record import (
    POST,
    REPOST,
    build_mention,
    post_refs,
    post_uri,
    quoted_post,
    valid_text,
)
from adapters.sources.http import as_str, as_time, clip, dig
from core.arxiv_id import ArxivRef
from core.models import Mention, MentionKind

DEFAULT_JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network"

# Jetstream writes "time_us" right after "did"; inside escaped post text the key cannot appear
# with its closing quote unescaped, so the first match is the envelope's.
_TIME_US = re.compile(r'"time_us":(\d+)')


@dataclass(frozen=True, slots=True)
class PostEvent:
    """A created or updated post that links papers itself or quotes another post."""

    time_us: int
    uri: str
    author: str
    posted_at: datetime
    refs: tuple[ArxivRef, ...]
    quoted: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class RepostEvent:
    """A repost of `subject`; it shares whatever that post shares."""

    time_us: int
    uri: str
    author: str
    posted_at: datetime
    subject: str


@dataclass(frozen=True, slots=True)
class DeleteEvent:
    """A deleted post or repost."""

    time_us: int
    uri: str


JetstreamEvent = PostEvent | RepostEvent | DeleteEvent


def might_matter(raw: str) -> bool:
    """Tell cheaply, from the raw message, whether it is worth parsing."""
    # Hints of every reference form core.arxiv_id knows: "xiv" in the usual casings catches
    # arxiv, arXiv, ARXIV and alphaxiv without lower-casing the message (slow for non-ASCII
    # text); a bare id with no hint around is too likely another kind of number to count.
    # Deletes, reposts and quotes matter without any hint: they may concern a post we track.
    return (
        "xiv" in raw
        or "Xiv" in raw
        or "XIV" in raw
        or "10.48550" in raw
        or "huggingface.co/papers" in raw
        or '"delete"' in raw
        or '"app.bsky.feed.repost"' in raw
        or '"app.bsky.embed.record' in raw
    )


def message_time(raw: str) -> int | None:
    """Return a message's `time_us` without parsing it, or None if it has none."""
    match = _TIME_US.search(raw)
    return int(match[1]) if match else None


def decode_message(raw: str) -> JetstreamEvent | None:
    """Decode one Jetstream message into an event that may concern a paper share.

    Returns:
        None for everything else: other kinds and collections, posts that neither link a paper
        nor quote a post, and messages that are malformed in any way.
    """
    if not might_matter(raw):
        return None
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):  # also JSON nested deeper than the parser goes
        return None
    if not isinstance(message, dict) or message.get("kind") != "commit":
        return None
    return _decode_commit(message)


def _decode_commit(message: Mapping[str, object]) -> JetstreamEvent | None:
    did, time_us, commit = message.get("did"), message.get("time_us"), message.get("commit")
    if not isinstance(did, str) or type(time_us) is not int or not isinstance(commit, dict):
        return None
    collection, rkey = commit.get("collection"), commit.get("rkey")
    if collection not in (POST, REPOST) or not isinstance(rkey, str) or not rkey:
        return None
    uri = f"at://{did}/{collection}/{rkey}"
    operation = commit.get("operation")
    if operation == "delete":
        return DeleteEvent(time_us, uri)
    record = commit.get("record")
    if operation not in ("create", "update") or not isinstance(record, dict):
        return None
    posted_at = _posted_at(record.get("createdAt"), time_us)
    if collection == REPOST:
        subject = post_uri(dig(record, "subject", "uri"))
        return RepostEvent(time_us, uri, did, posted_at, subject) if subject else None
    refs = post_refs(record)
    quoted = quoted_post(record.get("embed"))
    if not refs and quoted is None:
        return None
    text = clip(valid_text(as_str(record.get("text"))))
    return PostEvent(time_us, uri, did, posted_at, refs, quoted, text)


def _posted_at(created_at: object, time_us: int) -> datetime:
    # createdAt is set by the client and may lie in the future; the relay's time may not.
    seen = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    created = as_time(created_at)
    return min(created, seen) if created is not None else seen


def event_mention(
    event: PostEvent | RepostEvent, arxiv_id: str, kind: MentionKind, version: int | None = None
) -> Mention:
    """Return the share of one paper by a post or repost; a repost links to its subject."""
    return build_mention(
        event.uri,
        event.author,
        event.posted_at,
        kind,
        arxiv_id,
        version,
        shown=event.subject if isinstance(event, RepostEvent) else None,
        text=event.text if isinstance(event, PostEvent) else None,
    )


def subscribe_url(base_url: str, cursor_us: int | None) -> str:
    """Return the subscription URL for posts and reposts, from `cursor_us` when given."""
    base = base_url.rstrip("/")
    if not base.endswith("/subscribe"):
        base += "/subscribe"
    url = f"{base}?wantedCollections={POST}&wantedCollections={REPOST}"
    return url if cursor_us is None else f"{url}&cursor={max(cursor_us, 0)}"
