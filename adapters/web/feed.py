"""`/feed.atom`: the list `/` shows, as an Atom 1.0 feed, for feed readers and feed-to-chat bots."""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from adapters.web.caching import site_root
from adapters.web.queries import top_args, top_query
from adapters.web.reading import SiteReader
from adapters.web.templating import Templates
from core.errors import InvalidArguments
from core.ports import Clock
from core.replies import Failure, PaperList
from core.views import build_list_view

ATOM = "application/atom+xml"


def atom_time(moment: datetime) -> str:
    """An RFC 3339 timestamp in UTC, as Atom requires."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_day(day: date) -> str:
    """The start of a UTC day as an RFC 3339 timestamp (arXiv dates papers by the day)."""
    return f"{day.isoformat()}T00:00:00Z"


class Feed:
    """Renders the trending list of a query as Atom."""

    def __init__(self, reader: SiteReader, templates: Templates, clock: Clock) -> None:
        self._reader = reader
        self._templates = templates
        self._clock = clock

    async def atom(self, request: web.Request) -> web.Response:
        """The feed of `/` with the same `window`, `category`, `q` and `page`."""
        try:
            args = top_args(request.query)
        except InvalidArguments as exc:
            return web.Response(status=400, text=f"{exc}\n")
        answer = await self._reader.top(args)
        if isinstance(answer, Failure):
            return web.Response(status=500, text=f"{answer.message}\n")
        if not isinstance(answer, PaperList):
            status = 400 if answer.usage else 404
            return web.Response(status=status, text=f"{answer.message}\n")
        view = build_list_view(answer)
        base = site_root(request)
        query = top_query(args.window, args.category, request.query.get("q", ""), args.page)
        dates = [d for item in view.items if (d := item.paper.updated or item.paper.published)]
        # The newest paper's day: a feed whose list did not move keeps its bytes and its ETag.
        now = self._clock.now().replace(second=0, microsecond=0)
        body = self._templates.render(
            "feed.xml",
            view=view,
            self_url=f"{base}/feed.atom{query}",
            page_url=f"{base}/{query}",
            base_url=base,
            updated=atom_day(max(dates)) if dates else atom_time(now),
            atom_day=atom_day,
        )
        return web.Response(body=body, content_type=ATOM, charset="utf-8")
