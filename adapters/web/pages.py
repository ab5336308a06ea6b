"""The HTML pages: `/` (trending, with tabs, filters and search), `/new` and `/paper/<id>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.web.chart import daily_chart
from adapters.web.paging import pager
from adapters.web.queries import new_args, top_args, top_query
from adapters.web.reading import CHART_DAYS, Moved, SiteReader, is_bad_request
from adapters.web.templating import Templates, paper_path
from core.arguments import TopArgs
from core.errors import InvalidArguments
from core.models import DailySeries
from core.ports import RankingReads
from core.replies import Failure, PaperCard, PaperList, Problem
from core.views import DailyShares, build_card_view, build_list_view

HTML = "text/html"
TAB_LABELS = (
    ("trending", "Trending"),
    ("day", "Today"),
    ("week", "This week"),
    ("month", "This month"),
    ("all", "All time"),
)
SHOWN_CATEGORIES = 40
TOP_EXAMPLE = "/?window=week&category=cs.LG&q=graph+neural"
NEW_EXAMPLE = "/new?page=2"


@dataclass(frozen=True, slots=True)
class Tab:
    """A window tab of the trending page."""

    label: str
    url: str
    current: bool


class Pages:
    """Renders the HTML pages from what core's commands answer."""

    def __init__(self, reader: SiteReader, reads: RankingReads, templates: Templates) -> None:
        self._reader = reader
        self._reads = reads
        self._templates = templates

    async def top(self, request: web.Request) -> web.Response:
        """`/`: the ranked list of a window, filtered by category and words, 25 a page."""
        try:
            args = top_args(request.query)
        except InvalidArguments as exc:
            return self.problem(Problem(str(exc), usage=TOP_EXAMPLE), example=TOP_EXAMPLE)
        answer = await self._reader.top(args)
        if not isinstance(answer, PaperList):
            return self.problem(answer, example=TOP_EXAMPLE)
        q = request.query.get("q", "")
        category = args.category
        view = build_list_view(answer)

        def url_of(page: int) -> str:
            return "/" + top_query(args.window, category, q, page)

        context = {
            "section": "top",
            "feed_url": "/feed.atom" + top_query(args.window, category, q),
            "view": view,
            "nav": pager(view.nav, url_of),
            "tabs": _tabs(args, q),
            "window": args.window,
            "category": args.category or "",
            "q": q,
            "categories": await self._categories(args.category),
        }
        return self.page("top.html", context)

    async def new(self, request: web.Request) -> web.Response:
        """`/new`: shared papers newest first, with abstracts, as the 2016 page showed them."""
        try:
            args = new_args(request.query)
        except InvalidArguments as exc:
            return self.problem(Problem(str(exc), usage=NEW_EXAMPLE), example=NEW_EXAMPLE)
        answer = await self._reader.new(args)
        if not isinstance(answer, PaperList):
            return self.problem(answer, example=NEW_EXAMPLE)
        view = build_list_view(answer)
        context = {
            "section": "new",
            "feed_url": "/feed.atom",
            "view": view,
            "nav": pager(view.nav, lambda page: f"/new?page={page}"),
        }
        return self.page("new.html", context)

    async def paper(self, request: web.Request) -> web.Response:
        """`/paper/<id>`: the card with its chart; other id forms move to the canonical one."""
        answer = await self._reader.card(request.match_info["ref"])
        if isinstance(answer, Moved):
            return web.Response(status=301, headers={"Location": paper_path(answer.arxiv_id)})
        if not isinstance(answer, PaperCard):
            return self.problem(answer, missing=True)
        view = build_card_view(answer)
        series = view.daily.by_network or _total(view.daily)
        context = {
            "section": "paper",
            "feed_url": "/feed.atom",
            "card": view,
            "days": CHART_DAYS,
            "chart": daily_chart(series, view.daily.first_day, len(view.daily.counts)),
        }
        return self.page("paper.html", context)

    def page(self, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
        """A rendered template as an HTML response."""
        body = self._templates.render(template, **context)
        return web.Response(body=body, status=status, content_type=HTML, charset="utf-8")

    def problem(
        self, answer: Problem | Failure, *, missing: bool = False, example: str | None = None
    ) -> web.Response:
        """A page saying why there is nothing to show: 400, 404 or (our fault) 500.

        A page's own `example` address stands in for the chat command's usage line.
        """
        if isinstance(answer, Failure):
            status, title, example = 500, "Something went wrong", None
        elif is_bad_request(answer) and not missing:
            status, title = 400, "That did not work"
        else:
            status, title, example = 404, "Not found", None
        context = {
            "section": "problem",
            "feed_url": "/feed.atom",
            "title": title,
            "message": answer.message,
            "example": example,
        }
        return self.page("problem.html", context, status)

    async def _categories(self, chosen: str | None) -> list[str]:
        names = (await self._reads.categories())[:SHOWN_CATEGORIES]
        if chosen and chosen not in names:
            names.append(chosen)
        return names


def _tabs(args: TopArgs, q: str) -> tuple[Tab, ...]:
    return tuple(
        Tab(label, "/" + top_query(window, args.category, q), window == args.window)
        for window, label in TAB_LABELS
    )


def _total(daily: DailyShares) -> tuple[DailySeries, ...]:
    """A card read without the split still charts its total."""
    return (DailySeries("all", daily.counts),) if daily.total else ()
