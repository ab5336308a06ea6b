"""Shared helpers for the source tests: recorded payloads, a scripted transport, fault checks."""

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from core.ingest import SourceRunner
from core.ports import Batch, MentionSource
from tests.core.test_ingest import FakeSource, FixedClock, InMemorySourceRepository

DATA = Path(__file__).parents[2] / "data" / "sources"

Handler = Callable[[httpx.Request], httpx.Response]

# Faults the transport can inject into any source; "missing field" and "empty page" depend on
# each API's shape and are tested per source.
TRANSPORT_FAULTS = ("429", "500", "timeout", "malformed", "truncated")


def load_bytes(source: str, name: str) -> bytes:
    return (DATA / source / name).read_bytes()


def load_json(source: str, name: str) -> object:
    return json.loads(load_bytes(source, name))


def json_response(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


def fault_response(kind: str, request: httpx.Request, good: httpx.Response) -> httpx.Response:
    if kind == "429":
        return httpx.Response(429, headers={"Retry-After": "120"}, content=b'{"error":"rate"}')
    if kind == "500":
        return httpx.Response(500, content=b"<html>Internal Server Error</html>")
    if kind == "timeout":
        raise httpx.ReadTimeout("timed out", request=request)
    if kind == "malformed":
        return httpx.Response(200, content=b"<html><body>Service unavailable</body></html>")
    if kind == "truncated":
        body = good.read()
        return httpx.Response(200, content=body[: len(body) // 2])
    raise AssertionError(kind)


class Switch:
    """A transport that fails with `fault` until it is cleared, then serves `handler`."""

    def __init__(self, handler: Handler, fault: str | None = None) -> None:
        self.handler = handler
        self.fault = fault
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        good = self.handler(request)
        return good if self.fault is None else fault_response(self.fault, request, good)


def client_for(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def check_fault_then_recovery(
    source: MentionSource,
    switch: Switch,
    clock: FixedClock,
    cursor: str | None,
    secrets: tuple[str, ...] = (),
) -> InMemorySourceRepository:
    """Poll `source` beside a healthy neighbour while the transport fails, then once it is fixed.

    Checks what the issue asks of every fault: no crash, the cursor unchanged, the error in the
    health record, the next poll recovering and the other source unaffected.
    """
    repo = InMemorySourceRepository()
    if cursor is not None:
        repo.cursors[source.name] = cursor
    other = FakeSource("other", [Batch(cursor="o1"), Batch(cursor="o2")])
    runner = SourceRunner([source, other], repo, clock)

    failed = {o.source: o for o in await runner.run_due()}

    assert not failed[source.name].ok
    assert failed["other"].ok, "a failing source must not affect the others"
    assert repo.cursors.get(source.name) == cursor, "the cursor must not move on a fault"
    health = repo.records[source.name]
    assert health.consecutive_failures == 1
    assert health.last_error
    assert not any(secret in health.last_error for secret in secrets)
    if switch.fault == "429":
        assert failed[source.name].next_due - clock.now() >= timedelta(seconds=120)

    switch.fault = None
    clock.advance(24 * 3600)
    recovered = {o.source: o for o in await runner.run_due()}

    assert recovered[source.name].ok
    assert repo.records[source.name].consecutive_failures == 0
    assert repo.records[source.name].last_success == clock.now()
    assert repo.cursors[source.name] != cursor
    return repo
