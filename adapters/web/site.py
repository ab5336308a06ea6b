"""The web front end's routes, mounted on an aiohttp application next to the process's own."""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

from adapters.web.api import Api
from adapters.web.caching import ANSWER_SECONDS, AnswerCache, cached
from adapters.web.feed import Feed
from adapters.web.pages import Pages
from adapters.web.reading import SiteReader
from adapters.web.templating import Templates
from core.ports import Clock, RankingReads
from core.registry import Registry

STATIC_TYPES = {".css": "text/css", ".json": "application/schema+json"}


class StaticFiles:
    """The package's `static/` files, read once at start: a stylesheet and the API's schema."""

    def __init__(self) -> None:
        folder = files("adapters.web") / "static"
        self._files = {
            item.name: item.read_bytes()
            for item in folder.iterdir()
            if any(item.name.endswith(ext) for ext in STATIC_TYPES)
        }

    async def serve(self, request: web.Request) -> web.Response:
        """One file by name; 404 for any other name."""
        name = request.match_info["name"]
        body = self._files.get(name)
        if body is None:
            return web.Response(status=404, text="not found\n")
        kind = next(t for ext, t in STATIC_TYPES.items() if name.endswith(ext))
        return web.Response(body=body, content_type=kind, charset="utf-8")


def add_site_routes(
    app: web.Application,
    registry: Registry,
    reads: RankingReads,
    clock: Clock,
    *,
    answer_seconds: float = ANSWER_SECONDS,
) -> None:
    """Serve the pages, the feed, the JSON API and the static files on `app`.

    Each answer is built at most once every `answer_seconds` (0: on every request).
    """
    reader = SiteReader(registry, clock)
    templates = Templates()
    pages = Pages(reader, reads, templates)
    feed = Feed(reader, templates, clock)
    api = Api(reader)
    static = StaticFiles()
    cache = AnswerCache(answer_seconds)
    routes = (
        ("/", pages.top),
        ("/new", pages.new),
        ("/paper/{ref:.+}", pages.paper),
        ("/feed.atom", feed.atom),
        ("/api/top", api.top),
        ("/api/new", api.new),
        ("/api/paper/{ref:.+}", api.paper),
        ("/static/{name}", static.serve),
    )
    for path, handler in routes:
        app.router.add_get(path, cached(handler, cache))
