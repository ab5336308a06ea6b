"""Follow import benchmark: 5,000 Bluesky follows read from a fake AppView on loopback.

    python benchmarks/follow_import.py                   # 5 runs, no added latency
    python benchmarks/follow_import.py --latency 100     # each page answered 100 ms late
    python benchmarks/follow_import.py --follows 5000 --runs 10

A fake AppView (aiohttp, in a child process so its CPU is not the bot's) answers
`com.atproto.identity.resolveHandle` and `app.bsky.graph.getFollows` in the AppView's shapes,
`--follows` accounts in pages of at most 100 by cursor, each page `--latency` ms late (the
public AppView is a round trip away; on loopback there is none). Each run reads the list as
`/follow import bluesky:<handle>` does, through `build_directory` over an httpx client like the
bot's: resolve the handle, then `following(account, 5000)` reading every page.

What is timed is the fetch only: storing the follows belongs to the follow-list commands, which
this benchmark does not reach. Printed: per run the follows read, the pages and the wall time;
then the median and the slowest, against the target of 10 s for the whole import.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.synchronize
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiohttp import web

from bot.directory import build_directory
from bot.settings import Settings

HANDLE = "bench.example.org"
SUBJECT_DID = "did:plc:benchbenchbenchbenchbenc"
TARGET = 10.0  # seconds for the whole `/follow import`
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def did(n: int) -> str:
    """A did:plc of 24 base32 characters, distinct for every n."""
    digits = []
    for _ in range(24):
        n, rest = divmod(n, 32)
        digits.append(_BASE32[rest])
    return "did:plc:" + "".join(reversed(digits))


def profile(n: int) -> dict[str, object]:
    """A profile view as getFollows lists them."""
    return {
        "did": did(n),
        "handle": f"user{n}.bsky.social",
        "displayName": f"User {n}",
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did(n)}/bafkreiexample@jpeg",
        "viewer": {"muted": False, "blockedBy": False},
        "labels": [],
        "createdAt": "2024-01-02T03:04:05.000Z",
        "indexedAt": "2024-06-07T08:09:10.000Z",
        "description": "Reads papers, shares some of them.",
    }


def serve(
    port: int, follows: int, latency: float, ready: multiprocessing.synchronize.Event
) -> None:
    accounts = [profile(n + 1) for n in range(follows)]
    subject = profile(0) | {"did": SUBJECT_DID, "handle": HANDLE}

    async def resolve_handle(request: web.Request) -> web.Response:
        if request.query.get("handle") != HANDLE:
            return web.json_response(
                {"error": "InvalidRequest", "message": "Unable to resolve handle"}, status=400
            )
        return web.json_response({"did": SUBJECT_DID})

    async def get_follows(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        start = int(request.query.get("cursor", "0"))
        limit = min(int(request.query.get("limit", "50")), 100)
        page = accounts[start : start + limit]
        body: dict[str, object] = {"subject": subject, "follows": page}
        if start + limit < len(accounts):
            body["cursor"] = str(start + limit)
        return web.json_response(body)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/xrpc/com.atproto.identity.resolveHandle", resolve_handle)
        app.router.add_get("/xrpc/app.bsky.graph.getFollows", get_follows)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Future()

    asyncio.run(main())


async def import_once(base_url: str) -> tuple[int, float]:
    settings = Settings.from_env({"BLUESKY_APPVIEW_URL": base_url})
    async with httpx.AsyncClient(timeout=20.0) as http:
        directory = build_directory(settings, http)
        started = time.perf_counter()
        account = await directory.resolve("bluesky", HANDLE)
        followed = await directory.following(account, 5000)
        return len(followed), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--follows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="ms added to every page")
    args = parser.parse_args()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(port, args.follows, args.latency / 1000, ready), daemon=True
    )
    server.start()
    try:
        if not ready.wait(30):
            sys.exit("the fake AppView did not start")
        base_url = f"http://127.0.0.1:{port}/xrpc"
        pages = -(-min(args.follows, 5000) // 100)
        print(f"fake AppView: {args.follows:,} follows, pages of 100, {args.latency:g} ms a page")
        times = []
        for run in range(1, args.runs + 1):
            count, seconds = asyncio.run(import_once(base_url))
            times.append(seconds)
            print(f"run {run}: {count:,} follows in {pages} pages, {seconds:.2f} s")
        worst = max(times)
        verdict = "met" if worst <= TARGET else "MISSED"
        print(
            f"median {statistics.median(times):.2f} s, slowest {worst:.2f} s "
            f"(target <= {TARGET:g} s for the whole import: {verdict}; fetch only)"
        )
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
