"""Bluesky post records: the papers a post links and the shares it makes, for every Bluesky source.

A record reaches us two ways: raw in Jetstream's commits, and inside a post view from the XRPC
API (`app.bsky.feed.searchPosts`), whose embeds are the hydrated `#view` variants. The functions
here read both, and never raise on a malformed record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from adapters.sources.http import as_list, as_str, collect_refs, dig
from core.arxiv_id import ArxivRef
from core.models import Mention, MentionKind

SOURCE = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"

# The app shortens long links in the displayed text ("arxiv.org/abs/2401.1..."); a cut token
# could read as another, shorter id, so it is dropped and the facet's full URI used instead.
_TRUNCATED = re.compile(r"\S*(?:\.\.\.|\u2026)(?=\s|$)")
_LINK = "app.bsky.richtext.facet#link"
_EXTERNAL = "app.bsky.embed.external"
_RECORD = "app.bsky.embed.record"
_RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"


def post_refs(record: Mapping[str, object], embed: object = None) -> tuple[ArxivRef, ...]:
    """Return the papers a post record links, from its link facets, embed and text.

    Args:
        record: An `app.bsky.feed.post` record, as in Jetstream or in a post view's `record`.
        embed: The embed to read instead of the record's own (a post view's hydrated `embed`).
    """
    facets = as_list(record.get("facets"))
    uris = [uri for _, uri in _link_facets(facets)]
    uris.extend(_external_uris(record.get("embed") if embed is None else embed))
    text = as_str(record.get("text"))
    if text is not None:
        uris.append(_text_outside_links(text, facets))
    return tuple(collect_refs(uris))


def _link_facets(facets: list[object]) -> list[tuple[tuple[int, int] | None, str]]:
    """Return each link facet's UTF-8 byte span (None if unusable) and its URI."""
    links: list[tuple[tuple[int, int] | None, str]] = []
    for facet in facets:
        for feature in as_list(dig(facet, "features")):
            uri = as_str(dig(feature, "uri"))
            if uri is None or dig(feature, "$type") != _LINK:
                continue
            links.append((_byte_span(dig(facet, "index")), uri))
    return links


def _byte_span(index: object) -> tuple[int, int] | None:
    start, end = dig(index, "byteStart"), dig(index, "byteEnd")
    if type(start) is int and type(end) is int and 0 <= start <= end:
        return start, end
    return None


def _text_outside_links(text: str, facets: list[object]) -> str:
    """Return the text with its link facets' spans and any shortened link cut out."""
    spans = sorted(span for span, _ in _link_facets(facets) if span is not None)
    if spans:
        data = text.encode("utf-8", "surrogatepass")
        kept, position = [], 0
        for start, end in spans:
            if start >= position:
                kept.append(data[position:start])
                position = end
        kept.append(data[position:])
        text = b" ".join(kept).decode("utf-8", "replace")
    return _TRUNCATED.sub(" ", text)


def valid_text(text: str | None) -> str | None:
    """Return `text` with any lone surrogate replaced, so that it can be stored."""
    # JSON may carry lone surrogates (a \ud800 escape), which no database will store.
    return None if text is None else text.encode("utf-8", "replace").decode()


def _embed_kind(embed: object) -> str:
    # A post view's hydrated embeds are the record's types with "#view" appended.
    return (as_str(dig(embed, "$type")) or "").removesuffix("#view")


def _external_uris(embed: object) -> list[str]:
    """Return the link card URI of an external embed, also when it sits beside a quote."""
    kind = _embed_kind(embed)
    if kind == _RECORD_WITH_MEDIA:
        return _external_uris(dig(embed, "media"))
    uri = as_str(dig(embed, "external", "uri")) if kind == _EXTERNAL else None
    return [uri] if uri else []


def quoted_record(embed: object) -> object:
    """Return the quoted part of an embed: a strong ref in a record, the post in a view.

    None if the embed quotes nothing. Both carry the post's `uri`; only a view has its record,
    hydrated by the server, as `value`.
    """
    kind = _embed_kind(embed)
    if kind == _RECORD:
        return dig(embed, "record")
    if kind == _RECORD_WITH_MEDIA:
        return dig(embed, "record", "record")
    return None


def quoted_post(embed: object) -> str | None:
    """Return the at:// URI of the post an embed quotes (record or view), if it quotes one."""
    return post_uri(dig(quoted_record(embed), "uri"))


def post_uri(value: object) -> str | None:
    """Return `value` if it is the at:// URI of a post (not a list, feed or profile)."""
    uri = as_str(value)
    if uri is None or not uri.startswith("at://") or f"/{POST}/" not in uri:
        return None
    return uri


def web_url(uri: str) -> str | None:
    """Return the bsky.app page of a post given its at:// URI."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != POST:
        return None
    return f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}"


def build_mention(
    uri: str,
    author: str,
    posted_at: datetime,
    kind: MentionKind,
    arxiv_id: str,
    version: int | None = None,
    *,
    shown: str | None = None,
    text: str | None = None,
    engagement: int = 0,
) -> Mention:
    """Return the share of one paper by the post at `uri`, linking to `shown` if given."""
    return Mention(
        source=SOURCE,
        post_id=uri,
        author=author,
        posted_at=posted_at,
        kind=kind,
        arxiv_id=arxiv_id,
        version=version,
        url=web_url(shown or uri),
        text=valid_text(text),
        engagement=engagement,
    )
