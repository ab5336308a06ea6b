"""Local stand-ins for the services the signal sources call, on 127.0.0.1 with free ports.

`HttpServer` is a threaded stdlib HTTP server that answers GET requests by path and records every
request; the `*_route` functions answer as Algolia, Hugging Face, Mastodon and the arXiv API do,
from payloads in their real formats. `JetstreamServer` replays Jetstream messages over a websocket
from a thread with its own event loop, then idles until the client leaves. Neither logs to stderr,
so a test can read the command line's own stderr.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve

Query = Mapping[str, Sequence[str]]

JSON = "application/json; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP response."""

    body: bytes
    content_type: str = JSON
    status: int = 200


Route = Callable[[Query], Answer]


def json_answer(value: object, status: int = 200) -> Answer:
    """Answer with `value` as JSON."""
    return Answer(json.dumps(value).encode(), JSON, status)


def first(query: Query, name: str, default: str = "") -> str:
    """The first value of a query parameter."""
    values = query.get(name)
    return values[0] if values else default


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class HttpServer:
    """Answers GETs on 127.0.0.1 by exact path; unknown paths get a JSON 404.

    Use as a context manager; `requests` lists every `(path, query)` served, in order.
    """

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._routes = dict(routes)
        self._lock = threading.Lock()
        self.requests: list[tuple[str, Query]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "") -> str:
        """The server's URL for `path`."""
        return f"http://127.0.0.1:{self.port}{path}"

    def queries(self, path: str) -> list[Query]:
        """The query of every request served on `path`."""
        with self._lock:
            return [query for served, query in self.requests if served == path]

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _answer(self, target: str) -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.requests.append((parts.path, query))
        route = self._routes.get(parts.path)
        if route is None:
            return json_answer({"error": "Not Found"}, 404)
        return route(query)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                answer = server._answer(self.path)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads the command's own stderr."""

        return Handler


def static_route(body: bytes, content_type: str) -> Route:
    """Always answer `body`."""
    return lambda query: Answer(body, content_type)


def algolia_route(
    pages: Mapping[str, Mapping[str, object]],
    empty: Mapping[str, object],
    comments: Mapping[str, Mapping[str, object]] | None = None,
) -> Route:
    """Algolia's `search_by_date`: the first page recorded for `query`, else `empty`.

    `pages` answer story searches (`tags=story`), `comments` comment searches (`tags=comment`).
    """

    def answer(query: Query) -> Answer:
        text, tag = first(query, "query"), first(query, "tags", "story")
        recorded = pages if tag == "story" else comments or {}
        page = recorded.get(text) if first(query, "page", "0") == "0" else None
        if page is None:
            page = {**empty, "query": text, "params": f"query={text}&tags={tag}"}
        return json_answer(page)

    return answer


def daily_papers_route(items: Sequence[object], days: Collection[str]) -> Route:
    """Hugging Face's `daily_papers`: `items` on the given `date`s, `[]` on every other day."""
    return lambda query: json_answer(list(items) if first(query, "date") in days else [])


def _id_key(status_id: str) -> tuple[int, str]:
    return len(status_id), status_id


def tag_timeline_route(statuses: Sequence[Mapping[str, object]]) -> Route:
    """Mastodon's tag timeline, newest first: statuses after `min_id`, at most `limit`."""

    def answer(query: Query) -> Answer:
        after = first(query, "min_id")
        newer = [s for s in statuses if not after or _id_key(str(s["id"])) > _id_key(after)]
        return json_answer(newer[: int(first(query, "limit", "20"))])

    return answer


def trends_route(links: Sequence[object]) -> Route:
    """Mastodon's `trends/links`: at most `limit` links."""
    return lambda query: json_answer(list(links)[: int(first(query, "limit", "10"))])


_ENTRY = re.compile(r"  <entry>\n.*?</entry>\n", re.DOTALL)
_ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/(.+?)(?:v\d+)?</id>")
_TOTAL = re.compile(r"<opensearch:totalResults>\d+</opensearch:totalResults>")


def arxiv_api_route(feed: str) -> Route:
    """The arXiv API's `id_list` query, answered with the entries of `feed` that were asked for.

    `feed` is an Atom feed as arXiv sends it; ids it lacks are left out, as arXiv leaves out
    unknown ids. The entries come in the asked order and the header's total is set to match.
    """
    entries: dict[str, str] = {}
    for entry in _ENTRY.findall(feed):
        found = _ENTRY_ID.search(entry)
        assert found, "every entry needs an arXiv abs id"
        entries[found[1]] = entry
    head = feed[: feed.index("  <entry>")]

    def answer(query: Query) -> Answer:
        asked = [i for i in first(query, "id_list").split(",") if i]
        chosen = [entries[i] for i in asked if i in entries]
        total = f"<opensearch:totalResults>{len(chosen)}</opensearch:totalResults>"
        body = _TOTAL.sub(total, head) + "".join(chosen) + "</feed>\n"
        return Answer(body.encode(), ATOM)

    return answer


def _time_us(message: str) -> int:
    value = json.loads(message).get("time_us")
    return value if isinstance(value, int) else 0


def _collection(message: str) -> str | None:
    commit = json.loads(message).get("commit")
    return commit.get("collection") if isinstance(commit, dict) else None


class JetstreamServer:
    """Jetstream on `ws://127.0.0.1:<port>/subscribe`: replays `messages`, then idles.

    Like Jetstream it sends only the messages at or after the `cursor` parameter (time_us) and
    only the commits of the `wantedCollections`; identity and account events always go out.
    Every subscription's path and query are kept in `subscriptions`.
    """

    def __init__(self, messages: Sequence[str]) -> None:
        self._messages = list(messages)
        self.subscriptions: list[str] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to set as JETSTREAM_URL."""
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> JetstreamServer:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the Jetstream stand-in did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._replay, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    async def _replay(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        target = connection.request.path
        self.subscriptions.append(target)
        parts = urlsplit(target)
        if parts.path != "/subscribe":
            await connection.close(1008, "unknown path")
            return
        query = parse_qs(parts.query)
        cursor = int(first(query, "cursor", "0") or 0)
        wanted = set(query.get("wantedCollections", ()))
        for message in self._messages:
            collection = _collection(message)
            if _time_us(message) < cursor or (collection and wanted and collection not in wanted):
                continue
            await connection.send(message)
        await connection.wait_closed()
