"""A crash mid fan-out: `trending-arxiv run` is SIGKILLed while sending 300 digests, then restarted.

DESIGN.md section 6: "A crash between send and mark can repeat only the deliveries that were in
flight." The bot runs as a subprocess against a SQLite file seeded here and the Telegram Bot API
emulator (tests/peers/telegram-emulator.sh). Once some but not all chats have their digest, it
is killed with SIGKILL; the deliveries it left `sending` are read from the file at once. It is
started again and runs until every chat has its digest. Every chat must end with one, and no more
chats may have two than there were deliveries in flight at the kill.

A claim left by a dead sender is taken again only after the lease (`LEASE_SECONDS`, 5 minutes).
bot/settings.py has no setting for it (a `DIGEST_LEASE_SECONDS` would do), so the test ages the
dead claims in the file instead, as if the lease had run out while the bot was down.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import httpx
import pytest

from core.models import ChatRef, Mention, Paper
from core.ranking import RankingConfig
from core.sending import LEASE_SECONDS
from core.storage.database import create_engine, normalize_url, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.subscriptions import Subscription
from tests.bot.servers import closed_port
from tests.fakes import FixedClock

pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1"]),
    pytest.mark.emulator,
]

CHATS = 300
FIRST_CHAT = 710_000_001  # private chats: positive ids, only the overall rate limit applies
KILL_AFTER = 60  # chats with their digest when the first process is killed
PAPERS = 12
START_S = 30.0  # until the first digest goes out (imports, migrations, the sender's first run)
FINISH_S = 40.0  # for the restarted process to send the rest (~240 at 30 a second)


@dataclass
class Bot:
    """One `trending-arxiv run` process and its log."""

    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]

    def alive(self) -> bool:
        return self.popen.poll() is None


def _command() -> list[str]:
    script = Path(sys.executable).with_name("trending-arxiv")
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot", "run"]


def _start(name: str, env: dict[str, str], cwd: Path) -> Bot:
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            _command(),
            env=env,
            cwd=cwd,  # no .env of the checkout is read
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Bot(popen, log)


def _stop(bot: Bot) -> None:
    """SIGTERM, and SIGKILL if it has not stopped within 15 s."""
    if not bot.alive():
        return
    bot.popen.send_signal(signal.SIGTERM)
    try:
        bot.popen.wait(15)
    except subprocess.TimeoutExpired:
        bot.popen.kill()
        bot.popen.wait(5)


async def _seed(database_url: str, now: datetime) -> None:
    """Papers shared in the last hours; CHATS subscriptions due two minutes ago, in UTC."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        factory = session_factory(engine)
        repo = SqlPaperRepository(factory, RankingConfig(), FixedClock(now))
        ids = [f"2611.{n:05d}" for n in range(1, PAPERS + 1)]
        await repo.add_mentions(
            [
                Mention(
                    source="bluesky",
                    post_id=f"{arxiv_id}-{k}",
                    author=f"fan{k}",
                    posted_at=now - timedelta(hours=1 + rank),
                    kind="post",
                    arxiv_id=arxiv_id,
                    url=f"https://example.org/{arxiv_id}/{k}",
                    text=f"look at arXiv:{arxiv_id}",
                )
                for rank, arxiv_id in enumerate(ids)
                for k in range(PAPERS - rank)
            ]
        )
        # Described, so the metadata job has nothing to ask arXiv (its URL is a closed port).
        await repo.save_papers(
            [
                Paper(
                    arxiv_id,
                    title=f"Paper number {n} on crash recovery",
                    authors=("Ada Lovelace",),
                    abstract="Exactly once, in effect.",
                    categories=("cs.DC",),
                    published=now - timedelta(days=1),
                    version=1,
                )
                for n, arxiv_id in enumerate(ids, 1)
            ]
        )
        due = now - timedelta(minutes=2)
        store = SqlSubscriptionStore(factory)
        for n in range(CHATS):
            await store.subscribe(
                Subscription(
                    ChatRef("telegram", str(FIRST_CHAT + n)),
                    at=clock_time(due.hour, due.minute),
                    timezone="UTC",
                    size=5,
                    # After yesterday's digest and before today's: exactly one is due.
                    created_at=now - timedelta(hours=1),
                )
            )
    finally:
        await engine.dispose()


def _sent_per_chat(api: str, token: str) -> Counter[int]:
    """sendMessage calls the emulator received, per chat."""
    params = {"token": token, "method": "sendMessage"}
    response = httpx.get(f"{api}/_emu/calls", params=params, timeout=10)
    response.raise_for_status()
    return Counter(int(call["params"]["chat_id"]) for call in response.json()["result"])


def _deliveries(path: Path, status: str) -> list[int]:
    """Chat ids of the deliveries in `status`, read straight from the file."""
    with sqlite3.connect(path, timeout=10) as db:
        rows = db.execute("SELECT chat_id FROM deliveries WHERE status = ?", (status,))
        return sorted(int(chat_id) for (chat_id,) in rows)


def _expire_claims(path: Path, now: datetime) -> int:
    """Date the dead sender's claims back past the lease, as if it ran out while we were down."""
    stale = (now - timedelta(seconds=LEASE_SECONDS + 60)).replace(tzinfo=None)
    with sqlite3.connect(path, timeout=10) as db:
        cursor = db.execute(
            "UPDATE deliveries SET claimed_at = ? WHERE status = 'sending'",
            (stale.isoformat(" ", "microseconds"),),
        )
        return cursor.rowcount


def _wait(what: str, check: Callable[[], bool], bot: Bot, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        assert bot.alive(), f"the bot exited while waiting until {what}:\n{bot.output()}"
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {wait_s} s: {what}\n{bot.output()}")


def test_sigkill_mid_fan_out_repeats_only_the_deliveries_in_flight(
    emulator_url: str, tmp_path: Path
) -> None:
    token = f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}"  # fresh: the emulator keys by token
    database = tmp_path / "bot.sqlite3"
    database_url = normalize_url(f"sqlite:///{database}")
    asyncio.run(_seed(database_url, datetime.now(UTC)))
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": emulator_url,
        "SOURCES": "none",
        "ARXIV_API_URL": f"http://127.0.0.1:{closed_port()}/api/query",
    }
    chats = {FIRST_CHAT + n for n in range(CHATS)}

    first = _start("first", env, tmp_path)
    try:
        _wait(
            f"{KILL_AFTER} chats have their digest",
            lambda: len(_sent_per_chat(emulator_url, token)) >= KILL_AFTER,
            first,
            START_S,
        )
        first.popen.send_signal(signal.SIGKILL)
        first.popen.wait(10)
    finally:
        if first.alive():
            first.popen.kill()
            first.popen.wait(10)
    in_flight = _deliveries(database, "sending")
    time.sleep(0.5)  # a request written just before the kill still reaches the emulator
    at_kill = _sent_per_chat(emulator_url, token)
    assert 0 < len(at_kill) < CHATS, f"not killed mid fan-out:\n{first.output()}"
    assert in_flight, f"nothing was in flight at the kill:\n{first.output()}"
    assert _expire_claims(database, datetime.now(UTC)) == len(in_flight)

    second = _start("second", env, tmp_path)
    try:
        _wait(
            "every chat has its digest and no delivery is left to send",
            lambda: (
                set(_sent_per_chat(emulator_url, token)) >= chats
                and not _deliveries(database, "pending")
                and not _deliveries(database, "sending")
            ),
            second,
            START_S + FINISH_S,
        )
    finally:
        _stop(second)

    sent = _sent_per_chat(emulator_url, token)
    doubled = sorted(chat for chat, n in sent.items() if n > 1)
    print(
        f"\n{len(at_kill)} chats had their digest at the kill; {len(in_flight)} deliveries were "
        f"in flight (sending); {len(doubled)} chats got the digest twice; "
        f"{len(set(in_flight) & set(at_kill))} in-flight deliveries had reached the Bot API"
    )
    assert set(sent) == chats, f"chats without a digest: {sorted(chats - set(sent))[:10]}"
    assert max(sent.values()) <= 2, f"a chat got three digests:\n{second.output()}"
    assert len(doubled) <= len(in_flight)
    # Only a delivery that was in flight and had reached the Bot API can repeat.
    assert set(doubled) <= set(in_flight) & set(at_kill)
    assert len(_deliveries(database, "sent")) == CHATS
