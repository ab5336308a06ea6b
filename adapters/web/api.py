"""`/api/top`, `/api/new` and `/api/paper/<id>`: what the pages show, as JSON.

The schema is `static/api-schema.json` (served at `/static/api-schema.json`); README describes
it. Values are data, not phrases: counts per source, ISO dates, lists of names.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.web.queries import new_args, top_args
from adapters.web.reading import Moved, SiteReader, is_bad_request
from core.errors import InvalidArguments
from core.models import Paper, SourceCounts
from core.replies import Failure, PaperCard, PaperList, Post, Problem, RankedPaper

JSON = "application/json"


def _time(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def paper_json(paper: Paper) -> dict[str, Any]:
    """A paper's arXiv details."""
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "published": _time(paper.published),
        "updated": _time(paper.updated),
        "version": paper.version,
    }


def sources_json(sources: tuple[SourceCounts, ...]) -> list[dict[str, Any]]:
    """Each source's sharers, votes and points."""
    return [
        {"source": s.source, "sharers": s.sharers, "votes": s.votes, "points": s.score}
        for s in sources
    ]


def item_json(item: RankedPaper) -> dict[str, Any]:
    """One entry of a list."""
    return {
        "rank": item.rank,
        **paper_json(item.paper),
        "score": item.score,
        "shares": item.sharers,
        "sources": sources_json(item.sources),
        "links": {link.label: link.url for link in item.links},
        "page": "/paper/" + quote(item.paper.arxiv_id, safe="/"),
    }


def list_json(answer: PaperList) -> dict[str, Any]:
    """A page of a list."""
    paging = answer.paging
    return {
        "heading": answer.heading,
        "page": paging.page if paging else 1,
        "has_next": paging.has_next if paging else False,
        "papers": [item_json(item) for item in answer.papers],
        "note": None if answer.papers else answer.empty_note,
    }


def _post_json(post: Post) -> dict[str, Any]:
    return {
        "source": post.source,
        "author": post.author,
        "posted_at": _time(post.posted_at),
        "url": post.url,
        "text": post.text,
    }


def card_json(card: PaperCard) -> dict[str, Any]:
    """Everything a paper's page shows."""
    return {
        **paper_json(card.paper),
        "rank": card.rank,
        "score": card.score,
        "shares": sum(s.sharers for s in card.sources),
        "sources": sources_json(card.sources),
        "score_parts": [
            {"source": p.source, "value": p.value, "weight": p.weight, "points": p.points}
            for p in card.score_parts
        ],
        "daily": {
            "first_day": card.first_day.isoformat(),
            "total": list(card.daily_shares),
            "by_network": {s.source: list(s.counts) for s in card.daily_by_network},
        },
        "top_posts": [_post_json(p) for p in card.top_posts],
        "links": {link.label: link.url for link in card.links},
        "note": card.note,
    }


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    """A compact UTF-8 JSON response."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=text, status=status, content_type=JSON, charset="utf-8")


def error_json(answer: Problem | Failure, *, missing: bool = False) -> web.Response:
    """`{"error": …, "usage": …}` with 400, 404 or 500."""
    if isinstance(answer, Failure):
        return json_response({"error": answer.message, "usage": None}, 500)
    status = 400 if is_bad_request(answer) and not missing else 404
    return json_response({"error": answer.message, "usage": answer.usage}, status)


class Api:
    """The JSON endpoints."""

    def __init__(self, reader: SiteReader) -> None:
        self._reader = reader

    async def top(self, request: web.Request) -> web.Response:
        """`/api/top`: the list `/` shows, with the same parameters."""
        try:
            args = top_args(request.query)
        except InvalidArguments as exc:
            return error_json(Problem(str(exc), usage="/api/top?window=week&category=cs.LG"))
        answer = await self._reader.top(args)
        return list_json_response(answer)

    async def new(self, request: web.Request) -> web.Response:
        """`/api/new`: the list `/new` shows."""
        try:
            args = new_args(request.query)
        except InvalidArguments as exc:
            return error_json(Problem(str(exc), usage="/api/new?page=2"))
        return list_json_response(await self._reader.new(args))

    async def paper(self, request: web.Request) -> web.Response:
        """`/api/paper/<id>`: a paper's card; other id forms move to the canonical one."""
        answer = await self._reader.card(request.match_info["ref"])
        if isinstance(answer, Moved):
            location = "/api/paper/" + quote(answer.arxiv_id, safe="/")
            return web.Response(status=301, headers={"Location": location})
        if isinstance(answer, PaperCard):
            return json_response(card_json(answer))
        return error_json(answer, missing=True)


def list_json_response(answer: PaperList | Problem | Failure) -> web.Response:
    """A list, or why there is none."""
    if isinstance(answer, PaperList):
        return json_response(list_json(answer))
    return error_json(answer)
