"""Shared helpers for the directory tests: recorded payloads, a scripted transport, no sleeping."""

import json
from collections.abc import Callable
from pathlib import Path

import httpx

DATA = Path(__file__).parents[2] / "data" / "follows"

Handler = Callable[[httpx.Request], httpx.Response]


def load(network: str, name: str) -> object:
    return json.loads((DATA / network / name).read_bytes())


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None):
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


class Recorder:
    """A transport handler that keeps every request it serves."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


class Sleeps:
    """Stands in for asyncio.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def rate_limited(seconds: int = 3) -> httpx.Response:
    return httpx.Response(
        429, headers={"Retry-After": str(seconds)}, content=b'{"error":"RateLimitExceeded"}'
    )


def server_error() -> httpx.Response:
    return httpx.Response(500, content=b"<html>Internal Server Error</html>")


def garbage() -> httpx.Response:
    return httpx.Response(200, content=b"<html><body>Service unavailable</body></html>")
