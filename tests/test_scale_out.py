"""Two `trending-arxiv run` replicas against one PostgreSQL (DESIGN.md section 7).

Two worker processes against one PostgreSQL with 500 due subscriptions: every digest sent once,
both processes took part, each source polled by one process at a time.

The database is a fresh one, created on the server TEST_DATABASE_URL names and dropped after.
The subscriptions and a few shared papers are written straight into it before the workers start.
Both workers send to one fake Telegram Bot API (tests/digest/fake_bot_api.py), which counts the
messages per chat; which worker sent how many is read from each one's "digests: N sent" log
lines. Hacker News is a local fake whose every request takes `HN_DELAY` seconds and which counts
the requests in flight: a poll's requests come one after another, so two at once mean two
processes polling at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sources.hackernews import DEFAULT_HN_QUERIES
from core.clock import SystemClock
from core.models import ChatRef, Mention, Paper
from core.ports import Batch
from core.ranking import RankingConfig
from core.storage.database import normalize_url, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.subscriptions import Subscription
from tests.bot.servers import Answer, HttpServer, Query, closed_port, first, json_answer
from tests.digest.fake_bot_api import FakeBotApi

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_HOST = make_url(normalize_url(TEST_DATABASE_URL)).host if TEST_DATABASE_URL else None

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(sorted({"127.0.0.1", "::1", *([_HOST] if _HOST else [])})),
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run"),
]

SUBSCRIBERS = 500
FIRST_CHAT = 10_001  # private chats: positive ids
HN_DELAY = 1.0  # seconds per Hacker News request: a poll of 8 (4 queries, 2 kinds) lasts 8 s
HN_POLL_REQUESTS = 2 * len(DEFAULT_HN_QUERIES)
DEADLINE = 60.0  # seconds for every digest to arrive
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SENT = re.compile(r"digests: (\d+) sent")
EMPTY_PAGE = json.loads(
    (Path(__file__).parent / "data" / "e2e" / "hn_search_by_date_empty.json").read_text()
)


class SlowAlgolia:
    """Algolia's `search_by_date` with no hits, slowly; counts the requests in flight."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.requests = 0
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def route(self, query: Query) -> Answer:
        with self._lock:
            self.requests += 1
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            time.sleep(self.delay)  # the server's own thread: other requests go on meanwhile
            return json_answer({**EMPTY_PAGE, "query": first(query, "query")})
        finally:
            with self._lock:
                self._in_flight -= 1

    def poll_done(self, queries: int) -> bool:
        """Whether `queries` requests came and none is still being answered."""
        with self._lock:
            return self.requests >= queries and not self._in_flight


@pytest_asyncio.fixture
async def database_url() -> AsyncIterator[URL]:
    """A database of its own on the test server, created empty and dropped afterwards."""
    assert TEST_DATABASE_URL is not None
    server = make_url(normalize_url(TEST_DATABASE_URL))
    name = f"trending_arxiv_scale_out_{os.getpid()}"
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    async with admin.connect() as connection:
        await connection.execute(drop)
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        async with admin.connect() as connection:
            await connection.execute(drop)
        await admin.dispose()


async def seed(url: URL, now: datetime) -> list[str]:
    """Migrate, subscribe every chat to a digest due two minutes ago, share a few papers."""
    # 500 commits: without waiting for each to reach the disk, seconds faster.
    engine = create_async_engine(
        url, connect_args={"server_settings": {"synchronous_commit": "off"}}
    )
    try:
        await upgrade(engine)
        factory = session_factory(engine)
        # Due today a few minutes ago, subscribed long enough before to get it: one delivery.
        at = (now - timedelta(minutes=2)).time().replace(second=0, microsecond=0)
        since = now - timedelta(hours=12)
        store = SqlSubscriptionStore(factory)
        chats = [str(FIRST_CHAT + i) for i in range(SUBSCRIBERS)]
        for start in range(0, len(chats), 5):  # as many at once as the pool keeps open
            await asyncio.gather(
                *(
                    store.subscribe(Subscription(ChatRef("telegram", c), at=at, created_at=since))
                    for c in chats[start : start + 5]
                )
            )
        papers = tuple(Paper(f"2501.0000{i}", title=f"Paper {i}") for i in range(1, 4))
        shares = tuple(
            Mention("mastodon", f"{p.arxiv_id}-{n}", f"user{n}", now - timedelta(hours=1), "post",
                    p.arxiv_id)
            for p in papers
            for n in range(3)
        )  # fmt: skip
        repo = SqlPaperRepository(factory, RankingConfig(), SystemClock())
        await repo.commit_batch("mastodon", Batch(mentions=shares, papers=papers))
        return chats
    finally:
        await engine.dispose()


@dataclass
class Worker:
    """One `trending-arxiv run` process and the file its output goes to."""

    process: asyncio.subprocess.Process
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def sent(self) -> int:
        return sum(int(n) for n in SENT.findall(self.output()))


def worker_env(database: URL, telegram: str, hn: str) -> dict[str, str]:
    """What an operator would set on each replica; nothing else from our environment."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "PYTHONPATH") if k in os.environ}
    return env | {
        "DATABASE_URL": database.render_as_string(hide_password=False),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram,
        "TELEGRAM_MAX_RATE": "100",  # per worker; the fake does not limit
        "SOURCES": "hackernews",
        "HN_API_URL": f"{hn}/api/v1",
        "ARXIV_API_URL": f"http://127.0.0.1:{closed_port()}/api/query",
        "CONTACT_URL": "https://example.org/trending-arxiv-scale-out",
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }


def command() -> list[str]:
    script = Path(sys.executable).with_name("trending-arxiv")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


@contextlib.contextmanager
def slow_hacker_news() -> Iterator[tuple[SlowAlgolia, HttpServer]]:
    algolia = SlowAlgolia(HN_DELAY)
    with HttpServer({"/api/v1/search_by_date": algolia.route}) as server:
        yield algolia, server


async def start_worker(name: str, env: dict[str, str], cwd: Path) -> Worker:
    log = cwd / f"{name}.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            *command(), "run", env=env, cwd=cwd, stdout=out, stderr=out
        )
    return Worker(process, log)


async def wait_for(
    condition: Callable[[], bool], workers: list[Worker], seconds: float, what: str
) -> None:
    """Poll `condition()` until true; fail early, with the logs, if a worker dies."""
    deadline = time.monotonic() + seconds
    while not condition():
        for worker in workers:
            if worker.process.returncode is not None:
                pytest.fail(f"a worker exited while waiting for {what}:\n{worker.output()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(w.output()[-2000:] for w in workers)
            pytest.fail(f"timed out waiting for {what}:\n{logs}")
        await asyncio.sleep(0.2)


async def stop_workers(workers: list[Worker]) -> list[int | None]:
    for worker in workers:
        if worker.process.returncode is None:
            worker.process.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for worker in workers:
        try:
            codes.append(await asyncio.wait_for(worker.process.wait(), 20))
        except TimeoutError:
            worker.process.kill()
            await worker.process.wait()
            codes.append(None)
    return codes


async def test_two_workers_send_every_digest_once_and_poll_each_source_alone(
    database_url: URL, tmp_path: Path
) -> None:
    chats = await seed(database_url, datetime.now(UTC))
    api = FakeBotApi(rate=0)  # no flood control: each worker keeps to its own rate
    telegram = await api.start()
    workers: list[Worker] = []
    try:
        with slow_hacker_news() as (algolia, hn):
            env = worker_env(database_url, telegram, hn.url())
            workers = [await start_worker(n, env, tmp_path) for n in ("first", "second")]
            await wait_for(
                lambda: len(api.stats.messages_per_chat) >= SUBSCRIBERS, workers, DEADLINE,
                "every digest",
            )  # fmt: skip
            # Each worker logs its count once its round is recorded, just after the sends.
            await wait_for(
                lambda: sum(w.sent() for w in workers) >= SUBSCRIBERS, workers, 15,
                "the workers to log their sends",
            )  # fmt: skip
            # The digests may all be out before the 8 s poll has ended: stopping then would cut it.
            await wait_for(
                lambda: algolia.poll_done(HN_POLL_REQUESTS), workers, 30,
                "the Hacker News poll to end",
            )  # fmt: skip
            codes = await stop_workers(workers)
    finally:
        await stop_workers(workers)
        await api.stop()

    per_chat = api.stats.messages_per_chat
    assert sorted(per_chat) == sorted(chats)
    assert set(per_chat.values()) == {1}  # every digest once, none twice
    sent = [w.sent() for w in workers]
    assert sum(sent) == SUBSCRIBERS
    assert all(n > 0 for n in sent), f"one worker sent every digest: {sent}"
    assert codes == [0, 0]
    assert algolia.requests > 0  # Hacker News was polled
    assert algolia.most_in_flight == 1, "two workers polled Hacker News at once"
    # And polled once between them: the second found it fresh in the stored health.
    assert algolia.requests == HN_POLL_REQUESTS
