"""Web benchmark: the pages, the card and the feed served over loopback from a 1M-share store.

    python benchmarks/web.py                        # builds 1,000,000 shares (minutes of CPU)
    python benchmarks/web.py --quick                # 100,000 shares, to develop with
    python benchmarks/web.py --db store.sqlite3     # reuses a store, or builds it there
    python benchmarks/web.py --database-url postgresql://postgres@127.0.0.1:5432/test
                                                    # on PostgreSQL, in a scratch database

The store is the ranking benchmark's (`ranking.generate`, imported the same way). A child
process serves the site as `trending-arxiv web` does (aiohttp, the command registry, the
templates) on a loopback port; a timing middleware there records how long each answer took
inside the server, from the request's arrival at the application to its finished body. This
process is the client:

1. latency: one request at a time, `--requests` of each of `/`, `/paper/<id>`, `/feed.atom`
   and `/new`, reported as the server's p50/p99 and the client's;
2. throughput: `--clients` connections at once asking a mix of pages (home in every window,
   deeper pages, cards, `/new`, the feed) for `--seconds`: pages a second from one server
   process.

Both run twice: with every answer built (the server's answer cache off: the cost of a miss)
and as deployed, where the server keeps each answer it built for 10 s.

Paper ids are drawn half from the 200 most shared of all time (the papers people open most)
and half from the newest shared ones. No request revalidates with If-None-Match: every answer
is built and sent in full. Targets: `/` and `/paper/<id>` p99 <= 15 ms at the server, `/feed.atom`
<= 30 ms, >= 300 pages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from ranking import END, MovingClock, generate, import_all, percentile, store_args, store_parser
from scratch import postgres_scratch
from sqlalchemy import text

from adapters.web.site import add_site_routes
from core.commands import build_commands
from core.metadata import MetadataService
from core.ports import TopQuery
from core.ranking import RankingConfig
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.repository import SqlPaperRepository

TARGETS_MS = {"/": 15.0, "/paper/<id>": 15.0, "/feed.atom": 30.0}
TARGET_RATE = 300.0


class FixedClock:
    """The end of the generated period, as every read of the ranking benchmark sees it."""

    def now(self) -> datetime:
        return END


# --- the store --------------------------------------------------------------------------------


async def build_store(args: argparse.Namespace, url: str) -> None:
    t0 = time.perf_counter()
    data = generate(args.mentions, args.papers, args.days, args.seed)
    gc.collect()
    gc.freeze()  # as ranking.py: the generated data set is not the server's to collect
    print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        clock = MovingClock(END)
        repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)
        registry = build_commands(repo, MetadataService(repo, None, clock), clock, RankingConfig())
        loads = await import_all(repo, registry, clock, data)
        seconds = sum(v for k, v in loads.items() if k.endswith("_s"))
        print(f"imported in {seconds:.1f} s", file=sys.stderr)
        if engine.dialect.name == "postgresql":
            # The import analyzes as shares arrive, before the papers' metadata: without
            # fresh statistics the planner takes `/new`'s dated papers for one row and sorts
            # them all (300 ms). Autovacuum would analyze a live store the same way.
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
        gc.unfreeze()


async def paper_ids(url: str) -> tuple[list[str], list[str]]:
    """The 200 most shared papers of all time, and the 200 newest shared ones."""
    engine = create_engine(url)
    try:
        repo = SqlPaperRepository(session_factory(engine), RankingConfig(), FixedClock())
        hot = await repo.top(TopQuery("all", limit=200), END)
        new = await repo.newest(200, 0)
        return [s.paper.arxiv_id for s in hot], [s.paper.arxiv_id for s in new]
    finally:
        await engine.dispose()


# --- the server (a child process) -------------------------------------------------------------


def serve(url: str, port: int, ready: Any, answer_seconds: float) -> None:
    """Serve the site on 127.0.0.1:`port` until killed; `ready` is set once it listens."""
    asyncio.run(_serve(url, port, ready, answer_seconds))


async def _serve(url: str, port: int, ready: Any, answer_seconds: float) -> None:
    engine = create_engine(url)
    clock = FixedClock()
    config = RankingConfig()
    repo = SqlPaperRepository(session_factory(engine), config, clock)
    registry = build_commands(repo, MetadataService(repo, None, clock), clock, config)
    samples: dict[str, list[float]] = {}

    @web.middleware
    async def timing(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        start = time.perf_counter()
        response = await handler(request)
        samples.setdefault(kind_of(request.path), []).append(time.perf_counter() - start)
        return response

    async def timings(_request: web.Request) -> web.Response:
        taken = {k: v for k, v in samples.items() if k != "bench"}
        samples.clear()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        return web.json_response({"samples": taken, "cpu": cpu.ru_utime + cpu.ru_stime})

    app = web.Application(middlewares=[timing])
    add_site_routes(app, registry, repo, clock, answer_seconds=answer_seconds)
    app.router.add_get("/_bench/timings", timings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await asyncio.Event().wait()


def kind_of(path: str) -> str:
    if path.startswith("/paper/"):
        return "/paper/<id>"
    if path.startswith("/_bench"):
        return "bench"
    return path


# --- the client -------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def get(http: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with http.get(url) as response:
        await response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: {response.status}")
    return time.perf_counter() - start


async def server_timings(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(f"{base}/_bench/timings") as response:
        body: dict[str, Any] = await response.json()
        return body


def paths(kind: str, rng: random.Random, hot: Sequence[str], new: Sequence[str]) -> str:
    if kind == "/paper/<id>":
        return "/paper/" + rng.choice(hot if rng.random() < 0.5 else new)
    return kind


async def latency(
    http: aiohttp.ClientSession, base: str, args: argparse.Namespace, hot: list[str], new: list[str]
) -> dict[str, tuple[list[float], list[float]]]:
    rng = random.Random(args.seed)
    out: dict[str, tuple[list[float], list[float]]] = {}
    for kind in ("/", "/paper/<id>", "/feed.atom", "/new"):
        for _ in range(20):  # warm-up, not counted
            await get(http, base + paths(kind, rng, hot, new))
        await server_timings(http, base)
        client = [await get(http, base + paths(kind, rng, hot, new)) for _ in range(args.requests)]
        server = (await server_timings(http, base))["samples"][kind]
        out[kind] = (server, client)
    return out


MIX = (
    ("/", 4),
    ("/?window=week", 1),
    ("/?window=day&page=2", 1),
    ("/?window=month&category=cs.LG", 1),
    ("/paper/<id>", 6),
    ("/new", 2),
    ("/new?page=3", 1),
    ("/feed.atom", 2),
)


async def throughput(
    http: aiohttp.ClientSession, base: str, args: argparse.Namespace, hot: list[str], new: list[str]
) -> tuple[int, float, float]:
    rng = random.Random(args.seed + 1)
    kinds = [k for k, weight in MIX for _ in range(weight)]
    done = 0
    deadline = time.perf_counter() + args.seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await get(http, base + paths(rng.choice(kinds), rng, hot, new))
            done += 1

    before = (await server_timings(http, base))["cpu"]
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    elapsed = time.perf_counter() - start
    cpu = (await server_timings(http, base))["cpu"] - before
    return done, elapsed, cpu


# --- run --------------------------------------------------------------------------------------


async def store_url(args: argparse.Namespace) -> AsyncIterator[str]:
    if args.database_url:
        scratch = await postgres_scratch(args.database_url, "bench_web")
        try:
            await build_store(args, scratch.url)
            yield scratch.url
        finally:
            await scratch.drop()
        return
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.db:
        path = Path(args.db)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-web-")
        path = Path(tmp.name) / "store.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    try:
        if not path.exists():
            await build_store(args, url)
        yield url
    finally:
        if tmp is not None:
            tmp.cleanup()


def _ms(samples: Sequence[float]) -> str:
    p50, p99 = (percentile(samples, p) * 1000 for p in (50, 99))
    return f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"


async def run(args: argparse.Namespace) -> None:
    async for url in store_url(args):
        hot, new = await paper_ids(url)
        print(f"store                {url if not args.database_url else 'postgresql (scratch)'}")
        print(f"data                 {args.mentions:,} shares, {args.papers:,} papers")
        for label, seconds in (("every answer built", 0.0), ("as deployed, 10 s cache", 10.0)):
            lat, done, elapsed, cpu = await measure(args, url, hot, new, seconds)
            report(label, lat, done, elapsed, cpu, args.clients)


async def measure(
    args: argparse.Namespace, url: str, hot: list[str], new: list[str], answer_seconds: float
) -> tuple[dict[str, tuple[list[float], list[float]]], int, float, float]:
    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    server = spawn.Process(target=serve, args=(url, port, ready, answer_seconds), daemon=True)
    server.start()
    try:
        if not await asyncio.to_thread(ready.wait, 60):
            raise SystemExit("the server did not start")
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=args.clients)
        async with aiohttp.ClientSession(connector=connector) as http:
            lat = await latency(http, base, args, hot, new)
            done, elapsed, cpu = await throughput(http, base, args, hot, new)
    finally:
        server.kill()
        server.join()
    return lat, done, elapsed, cpu


def report(
    label: str,
    lat: dict[str, tuple[list[float], list[float]]],
    done: int,
    elapsed: float,
    cpu: float,
    clients: int,
) -> None:
    lines = [
        f"--- {label} (load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the end)",
        f"latency, one at a time ({len(next(iter(lat.values()))[0])} each, after 20 warm-ups)",
    ]
    for kind, (server, client) in lat.items():
        target = TARGETS_MS.get(kind)
        verdict = ""
        if target is not None:
            ok = percentile(server, 99) * 1000 <= target
            verdict = f"  (p99 <= {target:.0f} ms: {'met' if ok else 'NOT met'})"
        lines.append(f"  {kind:<12} server {_ms(server)}   client {_ms(client)}{verdict}")
    rate = done / elapsed
    ok = "met" if rate >= TARGET_RATE else "NOT met"
    lines.append(
        f"throughput           {rate:,.0f} pages/s from one server process ({done:,} pages in "
        f"{elapsed:.1f} s, {clients} clients, server CPU {cpu / elapsed:.0%} of a core)"
        f"  (>= {TARGET_RATE:.0f}/s: {ok})"
    )
    print("\n".join(lines), flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = store_parser(__doc__)
    parser.add_argument("--db", help="SQLite store to reuse, or to build there if missing")
    parser.add_argument("--database-url", help="build the store on this PostgreSQL server")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--clients", type=int, default=8, help="connections at once")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    args = store_args(parser, argv)
    return args


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
