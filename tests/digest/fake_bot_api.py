"""A fake Telegram Bot API on loopback that enforces flood control, for the fan-out benchmark.

Unlike the emulator (tests/peers/telegram-emulator.sh), this server is strict about rate: every
call that names a chat counts against one overall limit over a sliding window (one second by
default), and a call above it is answered like Telegram does:

    HTTP 429 {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
              "parameters": {"retry_after": 1}}

It answers getMe, sendMessage (a Message with message_id, date in seconds and chat), getUpdates
(empty) and any other method with `true`, and counts requests, 429s and messages per chat.
Calls without a chat (getMe, getUpdates, setMyCommands) are not rate limited.

In a running event loop (tests):

    api = FakeBotApi(rate=30)
    url = await api.start()          # http://127.0.0.1:<port>; PTB's base_url is f"{url}/bot"
    ...
    api.stats.messages_per_chat      # Counter of chat id -> messages
    await api.stop()

As a separate process (the benchmark, so the server's CPU is not the bot's), from the repo root:

    python -m tests.digest.fake_bot_api --rate 300 [--port 0] [--window 1] [--retry-after 1]

prints its URL on the first line of stdout and serves until SIGTERM or SIGINT (or, with
`--exit-on-stdin-eof`, until stdin closes).
`GET /_fake/stats` answers the counters as JSON; `POST /_fake/reset` zeroes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER: dict[str, Any] = {
    "id": 666,
    "is_bot": True,
    "first_name": "Fake Bot",
    "username": "FakeBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
STATS_PATH = "/_fake/stats"
RESET_PATH = "/_fake/reset"


@dataclass
class FakeStats:
    """What the server saw since it started (or was reset)."""

    requests: int = 0  # every Bot API call, answered or refused
    limited: int = 0  # calls that named a chat, i.e. counted against the rate
    rejected_429: int = 0
    messages_per_chat: Counter[str] = field(default_factory=Counter)
    peak_in_window: int = 0  # the most accepted calls ever seen inside one window
    first_at: float | None = None  # monotonic time of the first accepted limited call
    last_at: float | None = None  # ... and of the last one

    def as_json(self) -> dict[str, Any]:
        """The counters as JSON-ready values (chat ids as strings)."""
        span = (
            self.last_at - self.first_at
            if self.first_at is not None and self.last_at is not None
            else 0.0
        )
        return {
            "requests": self.requests,
            "limited": self.limited,
            "rejected_429": self.rejected_429,
            "messages": sum(self.messages_per_chat.values()),
            "messages_per_chat": dict(self.messages_per_chat),
            "peak_in_window": self.peak_in_window,
            "accepted_span_s": span,
        }


class SlidingWindow:
    """At most `rate` events in any window of `window` seconds (refused events do not count)."""

    def __init__(self, rate: float, window: float = 1.0) -> None:
        self.rate = rate
        self.window = window
        self._times: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Record an event at `now` if the window has room; say whether it had."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if self.rate > 0 and len(self._times) >= self.rate:
            return False
        self._times.append(now)
        return True

    def __len__(self) -> int:
        return len(self._times)


class FakeBotApi:
    """The server: start it in a running loop, point PTB at `url`, read `stats`."""

    def __init__(self, rate: float = 30, *, window: float = 1.0, retry_after: int = 1) -> None:
        self.limit = SlidingWindow(rate, window)
        self.retry_after = retry_after
        self.stats = FakeStats()
        self.url = ""
        self._message_ids = 0
        self._runner: web.AppRunner | None = None
        app = web.Application(client_max_size=20 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get(STATS_PATH, self._stats)
        app.router.add_post(RESET_PATH, self._reset)
        self._app = app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0: a free port); return the base URL."""
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, backlog=1024).start()
        bound = self._runner.addresses[-1][1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Close the listener and every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        """Zero the counters and the window."""
        self.stats = FakeStats()
        self.limit = SlidingWindow(self.limit.rate, self.limit.window)

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_json())

    async def _reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _bot_api(self, request: web.Request) -> web.Response:
        params = await _params(request)
        method = request.match_info["method"]
        self.stats.requests += 1
        if "chat_id" in params:
            self.stats.limited += 1
            now = time.monotonic()
            if not self.limit.admit(now):
                self.stats.rejected_429 += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {self.retry_after}",
                        "parameters": {"retry_after": self.retry_after},
                    },
                    status=429,
                )
            self.stats.peak_in_window = max(self.stats.peak_in_window, len(self.limit))
            if self.stats.first_at is None:
                self.stats.first_at = now
            self.stats.last_at = now
        return web.json_response({"ok": True, "result": await self._answer(method, params)})

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            await asyncio.sleep(min(float(params.get("timeout") or 0), 5.0))
            return []
        if method == "sendMessage":
            chat_id = str(params["chat_id"])
            self.stats.messages_per_chat[chat_id] += 1
            self._message_ids += 1
            message: dict[str, Any] = {
                "message_id": self._message_ids,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": BOT_USER,
                "text": str(params.get("text", "")),
            }
            return message
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    """The call's parameters from the query, a JSON body or a form (PTB sends forms)."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _chat(chat_id: str) -> dict[str, Any]:
    number = int(chat_id) if chat_id.removeprefix("-").isdigit() else 0
    if number > 0:
        return {"id": number, "type": "private", "first_name": f"User {number}"}
    return {"id": number, "type": "supergroup", "title": f"Group {chat_id}"}


async def serve(
    rate: float, port: int, window: float, retry_after: int, *, watch_stdin: bool = False
) -> None:
    """Run the server until SIGTERM/SIGINT (or stdin closes); print the URL first."""
    api = FakeBotApi(rate, window=window, retry_after=retry_after)
    print(await api.start(port=port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        loop.add_reader(sys.stdin.fileno(), _on_stdin, stop)
    try:
        await stop.wait()
    finally:
        if watch_stdin:
            loop.remove_reader(sys.stdin.fileno())
        await api.stop()
        print(json.dumps(api.stats.as_json() | {"messages_per_chat": {}}), file=sys.stderr)


def _on_stdin(stop: asyncio.Event) -> None:
    """Set `stop` when the parent closes our stdin (or dies), so no server is left behind."""
    if not os.read(sys.stdin.fileno(), 4096):
        stop.set()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.digest.fake_bot_api`."""
    parser = argparse.ArgumentParser(description="A rate-limited fake Telegram Bot API.")
    parser.add_argument("--rate", type=float, default=30.0, help="calls per window (0: no limit)")
    parser.add_argument("--window", type=float, default=1.0, help="seconds")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds a 429 asks for")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (a parent died)"
    )
    args = parser.parse_args(argv)
    serving = serve(
        args.rate, args.port, args.window, args.retry_after, watch_stdin=args.exit_on_stdin_eof
    )
    asyncio.run(serving)


if __name__ == "__main__":
    main()
