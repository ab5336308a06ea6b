"""`trending-arxiv web` in-process: /healthz, Telegram's webhook, registration retries, shutdown.

Telegram is played by `FakeBotApi`, a small aiohttp server that answers the few Bot API methods
the web process calls and records them; it can fail the first requests to play an outage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from adapters.telegram.webhook import SECRET_HEADER
from bot.settings import Settings, SettingsError
from bot.web import adapter_states, build_web_app, serve_web, web_server
from bot.wiring import Engine, StartupError, open_engine
from core.backoff import Backoff
from core.models import SourceHealth
from core.scheduling import Scheduler
from core.storage.database import create_engine, session_factory
from core.storage.repository import SqlPaperRepository
from tests.adapters.telegram.updates import PRIVATE, message_update
from tests.bot.servers import closed_port

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret_-Token"
HOOK = "https://example.test/tg/hook"
SECRET_ENV = {"TELEGRAM_WEBHOOK_SECRET": SECRET}
FAST = Backoff(first=0.05, cap=0.2)


@dataclass
class FakeBotApi:
    """Answers getMe, setWebhook, setMyCommands and sendMessage, and records each call.

    The first `failures` requests get 502 (Telegram unreachable; the adapter's rate limiter
    already retries each call 3 times), the first `refused_webhooks` setWebhook calls the 400
    Telegram gives while the app's hostname does not resolve yet.
    """

    failures: int = 0
    refused_webhooks: int = 0
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    attempts: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=502, text="Bad Gateway")
        method = request.match_info["method"]
        params = {k: str(v) for k, v in (await request.post()).items()}
        self.calls.append((method, params))
        if method == "setWebhook" and self.methods().count("setWebhook") <= self.refused_webhooks:
            description = "Bad Request: bad webhook: Failed to resolve host"
            body = {"ok": False, "error_code": 400, "description": description}
            return web.json_response(body, status=400)
        result: Any = True
        if method == "getMe":
            result = {"id": 666, "is_bot": True, "first_name": "Test", "username": "TestNameBot"}
        elif method == "sendMessage":
            chat = {"id": int(params["chat_id"]), "type": "private"}
            result = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "text": params["text"]}
        return web.json_response({"ok": True, "result": result})

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


@asynccontextmanager
async def engine_for(**env: str) -> AsyncIterator[Engine]:
    base = {"DATABASE_URL": "sqlite://", "ARXIV_API_URL": f"http://127.0.0.1:{closed_port()}"}
    async with open_engine(Settings.from_env({**base, **env})) as engine:
        yield engine


@dataclass
class Web:
    url: str
    api: FakeBotApi
    stop: asyncio.Event
    task: asyncio.Task[int]
    http: httpx.AsyncClient

    async def healthz(self) -> httpx.Response:
        return await self.http.get(f"{self.url}/healthz")

    async def post_update(
        self, body: bytes | str, secret: str | bytes | None = SECRET
    ) -> httpx.Response:
        value = secret.encode() if isinstance(secret, str) else secret
        headers = {} if value is None else {SECRET_HEADER.encode(): value}
        return await self.http.post(f"{self.url}/tg/hook", content=body, headers=headers)

    async def telegram_state(self, wanted: str, wait_s: float = 5) -> None:
        deadline = time.monotonic() + wait_s
        while (state := (await self.healthz()).json()["adapters"]["telegram"]) != wanted:
            assert time.monotonic() < deadline, f"telegram stayed {state!r}, not {wanted!r}"
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running_web(
    api: FakeBotApi, api_port: int | None = None, **env: str
) -> AsyncIterator[Web]:
    """serve_web on a free loopback port, talking to `api` (or to a closed `api_port`)."""
    runner = web.AppRunner(api.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = api_port or site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    web_port = closed_port()
    settings = {
        "PORT": str(web_port),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_WEBHOOK_URL": HOOK,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        **env,
    }
    try:
        async with engine_for(**settings) as engine, httpx.AsyncClient(timeout=5) as http:
            stop = asyncio.Event()
            task = asyncio.create_task(serve_web(engine, stop, host="127.0.0.1", backoff=FAST))
            harness = Web(f"http://127.0.0.1:{web_port}", api, stop, task, http)
            await _listening(harness)
            try:
                yield harness
            finally:
                stop.set()
                assert await asyncio.wait_for(task, 10) == 0
    finally:
        await runner.cleanup()


async def _listening(harness: Web) -> None:
    for _ in range(200):
        assert not harness.task.done(), harness.task
        try:
            await harness.healthz()
            return
        except httpx.ConnectError:
            await asyncio.sleep(0.02)
    raise AssertionError("serve_web never listened")


def update_body(text: str = "/start") -> str:
    return json.dumps(message_update(text, PRIVATE))


async def test_healthz_reports_database_adapters_sources_and_scheduler() -> None:
    async with engine_for() as engine, httpx.AsyncClient(timeout=5) as http:
        at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
        await engine.repo.record_health(SourceHealth("hackernews", last_success=at, items_seen=7))
        scheduler = Scheduler([])
        scheduler.last_run["metadata"] = at
        port = closed_port()
        app = build_web_app(engine, {"telegram": "webhook", "discord": "off"}, scheduler)
        async with web_server(app, "127.0.0.1", port):
            response = await http.get(f"http://127.0.0.1:{port}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["adapters"] == {"telegram": "webhook", "discord": "off"}
    assert body["sources"] == {
        "hackernews": {
            "healthy": True,
            "last_success": "2026-01-02T03:04:00+00:00",
            "last_error": None,
            "last_error_at": None,
            "consecutive_failures": 0,
            "items_seen": 7,
        }
    }
    assert body["scheduler"] == {"metadata": "2026-01-02T03:04:00+00:00"}


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word: a hung database."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("database", ["refuses", "hangs"])
async def test_healthz_is_503_within_a_second_when_the_database_is_away(database: str) -> None:
    async with silent_server() as silent_port, engine_for() as engine:
        port = silent_port if database == "hangs" else closed_port()
        away = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/app")
        repo = SqlPaperRepository(session_factory(away), engine.ranking, engine.clock)
        broken = dataclasses.replace(engine, database=away, repo=repo)
        web_port = closed_port()
        try:
            app = build_web_app(broken, {"telegram": "off"}, None)
            async with web_server(app, "127.0.0.1", web_port), httpx.AsyncClient() as http:
                started = time.monotonic()
                response = await http.get(f"http://127.0.0.1:{web_port}/healthz", timeout=5)
                elapsed = time.monotonic() - started
        finally:
            await away.dispose()
    assert response.status_code == 503
    assert elapsed < 1.0
    body = response.json()
    assert body["status"] == "database unreachable"
    assert body["database"]["reachable"] is False
    assert "postgres" not in json.dumps(body)  # no URL, no credentials
    assert body["sources"] is None


async def test_webhook_update_with_the_secret_is_answered_through_the_bot_api() -> None:
    api = FakeBotApi()
    async with running_web(api) as w:
        await w.telegram_state("webhook")
        response = await w.post_update(update_body("/start"))
        assert response.status_code == 200
        for _ in range(250):
            if "sendMessage" in api.methods():
                break
            await asyncio.sleep(0.02)
    (webhook,) = [p for m, p in api.calls if m == "setWebhook"]
    assert webhook["url"] == HOOK
    assert webhook["secret_token"] == SECRET
    assert json.loads(webhook["allowed_updates"]) == [
        "message",
        "channel_post",
        "callback_query",
        "my_chat_member",
    ]
    (reply,) = [p for m, p in api.calls if m == "sendMessage"]
    assert reply["chat_id"] == str(PRIVATE["id"])
    assert "I track which arXiv papers" in reply["text"]
    assert "setMyCommands" in api.methods()
    # Other replicas and the next deploy still need the webhook: stopping leaves it registered.
    assert "deleteWebhook" not in api.methods()


REFUSED: list[tuple[str | bytes | None, str | bytes, int]] = [
    (None, update_body(), 403),
    ("wrong", update_body(), 403),
    (SECRET + "x", update_body(), 403),
    ("sécret".encode(), update_body(), 403),
    (SECRET, "not json", 400),
    (SECRET, "[1, 2]", 400),
    (SECRET, '{"message": {}}', 400),
    (SECRET, '{"update_id": "1"}', 400),
    (SECRET, '{"update_id": true}', 400),
    (SECRET, '{"update_id": 1, "message": "junk"}', 400),
    (SECRET, b"\xff\xfe", 400),
    (SECRET, "[" * 100_000, 400),
]


async def test_webhook_refuses_a_wrong_secret_and_junk() -> None:
    api = FakeBotApi()
    async with running_web(api) as w:
        await w.telegram_state("webhook")
        for secret, body, status in REFUSED:
            response = await w.post_update(body, secret=secret)
            assert response.status_code == status, (secret, body)
            assert "Traceback" not in response.text
        assert (await w.healthz()).status_code == 200
    assert "sendMessage" not in api.methods()


async def test_registration_is_retried_while_healthz_keeps_answering() -> None:
    api = FakeBotApi(refused_webhooks=3)
    async with running_web(api) as w:
        await w.telegram_state("webhook")
        assert (await w.healthz()).status_code == 200
    assert api.methods()[:5] == ["getMe", "setWebhook", "setWebhook", "setWebhook", "setWebhook"]


async def test_getme_is_retried_until_telegram_answers() -> None:
    api = FakeBotApi(failures=4)  # one attempt: the call and the rate limiter's 3 retries
    async with running_web(api) as w:
        health = await w.healthz()
        assert health.status_code == 200
        assert health.json()["adapters"]["telegram"] in ("starting", "retrying")
        # Until the application runs, Telegram is asked to come back later.
        assert (await w.post_update(update_body())).status_code == 503
        await w.telegram_state("webhook", wait_s=10)
    assert api.methods()[:2] == ["getMe", "setWebhook"]


async def test_web_comes_up_and_stops_quickly_while_telegram_is_unreachable() -> None:
    async with running_web(FakeBotApi(), api_port=closed_port()) as w:
        health = await w.healthz()
        assert health.status_code == 200
        assert health.json()["adapters"]["telegram"] in ("starting", "retrying")
        assert (await w.post_update(update_body())).status_code == 503
        assert (await w.post_update(update_body(), secret="wrong")).status_code == 403
        started = time.monotonic()
        w.stop.set()
        assert await asyncio.wait_for(w.task, 10) == 0
        assert time.monotonic() - started < 3


async def test_without_a_webhook_url_web_serves_no_webhook() -> None:
    api = FakeBotApi()
    async with running_web(api, TELEGRAM_WEBHOOK_URL="", TELEGRAM_WEBHOOK_SECRET="") as w:
        assert (await w.http.get(f"{w.url}/")).status_code == 200
        health = await w.healthz()
        assert health.json()["adapters"] == {"telegram": "polled by the worker", "discord": "off"}
        assert health.json()["scheduler"] is None
        assert (await w.post_update(update_body())).status_code in (404, 405)
    assert api.calls == []


async def test_web_serves_the_pages_beside_the_webhook() -> None:
    async with running_web(FakeBotApi()) as w:
        await w.telegram_state("webhook")
        home = await w.http.get(f"{w.url}/")
        feed = await w.http.get(f"{w.url}/feed.atom")
        api = await w.http.get(f"{w.url}/api/top")
        assert (await w.post_update(update_body())).status_code == 200
    assert home.status_code == 200
    assert "<h1>Trending now</h1>" in home.text
    assert "Nothing has been shared yet" in home.text
    assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert api.json()["papers"] == []


async def test_web_serves_the_pages_without_any_token() -> None:
    async with engine_for() as engine, httpx.AsyncClient(timeout=5) as http:
        app = build_web_app(engine, adapter_states(engine), None)
        async with web_server(app, "127.0.0.1", port := closed_port()):
            home = await http.get(f"http://127.0.0.1:{port}/")
            paper = await http.get(f"http://127.0.0.1:{port}/paper/1706.03762v7")
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
    assert home.status_code == 200
    assert (paper.status_code, paper.headers["location"]) == (301, "/paper/1706.03762")
    assert health.json()["adapters"] == {"telegram": "off", "discord": "off"}


async def test_a_port_in_use_is_a_startup_error() -> None:
    async with engine_for() as engine:
        app = build_web_app(engine, {}, None)
        async with web_server(app, "127.0.0.1", port := closed_port()):
            with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}"):
                async with web_server(build_web_app(engine, {}, None), "127.0.0.1", port):
                    pass


def test_webhook_settings_are_read_and_checked() -> None:
    settings = Settings.from_env({"TELEGRAM_WEBHOOK_URL": HOOK, "TELEGRAM_WEBHOOK_SECRET": SECRET})
    assert (settings.telegram_webhook_url, settings.telegram_webhook_secret) == (HOOK, SECRET)
    assert Settings.from_env({"TELEGRAM_WEBHOOK_SECRET": SECRET}).telegram_webhook_url is None


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "http://example.test/hook", **SECRET_ENV}, "an https:// URL"),
        ({"TELEGRAM_WEBHOOK_URL": "https://", **SECRET_ENV}, "an https:// URL"),
        ({"TELEGRAM_WEBHOOK_URL": "https://x.test/healthz", **SECRET_ENV}, "not use the path"),
        ({"TELEGRAM_WEBHOOK_URL": HOOK}, "TELEGRAM_WEBHOOK_SECRET is required"),
        (
            {"TELEGRAM_WEBHOOK_URL": HOOK, "TELEGRAM_WEBHOOK_SECRET": "has space!"},
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters",
        ),
        (
            {"TELEGRAM_WEBHOOK_URL": HOOK, "TELEGRAM_WEBHOOK_SECRET": "a" * 257},
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters",
        ),
    ],
)
def test_webhook_settings_problems_are_one_line_each_without_the_secret(
    env: dict[str, str], problem: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**env, "PORT": "0"})
    assert len(caught.value.problems) == 2  # ours, and PORT's: every problem at once
    assert any(problem in p for p in caught.value.problems)
    assert "has space" not in str(caught.value)
    assert "a" * 257 not in str(caught.value)
