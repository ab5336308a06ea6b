"""End to end in a Telegram group: who may subscribe, and one digest at the local time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.telegram.app import build_application, start, stop
from adapters.telegram.sink import TelegramDigestSink
from core.commands import build_commands
from core.digest import dispatch_due_digests
from core.metadata import MetadataService
from core.models import Mention, Paper
from core.ranking import RankingConfig
from core.sending import send_pending_deliveries
from tests.adapters.telegram.emulator import Emulator
from tests.adapters.telegram.updates import ADMIN, GROUP, USER
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore

pytestmark = [pytest.mark.enable_socket, pytest.mark.emulator]

# 06:00 UTC on a winter Thursday: 07:00 in Berlin, half an hour before the digest.
MORNING = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
COMMAND = "/subscribe 07:30 Europe/Berlin 5 cs.LG"


@dataclass
class Group:
    emu: Emulator
    clock: FixedClock
    papers: InMemoryPaperRepository
    subscriptions: InMemorySubscriptionStore
    sink: TelegramDigestSink


@pytest.fixture
async def group(emulator_url: str) -> AsyncIterator[Group]:
    token = f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}"
    clock = FixedClock(MORNING)
    papers = InMemoryPaperRepository(RankingConfig(), clock)
    subscriptions = InMemorySubscriptionStore()
    registry = build_commands(
        papers, MetadataService(papers, None, clock), clock, RankingConfig(), subscriptions
    )
    app = build_application(token, registry, api_url=emulator_url)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=30) as client:
        await start(app, poll_timeout=5)
        try:
            yield Group(
                Emulator(client, token), clock, papers, subscriptions, TelegramDigestSink(app.bot)
            )
        finally:
            await stop(app)


async def shared_papers(papers: InMemoryPaperRepository) -> None:
    described = [
        Paper(f"2611.0000{i}", title=f"Paper {i}", categories=("cs.LG",) if i < 7 else ("math.AG",))
        for i in range(1, 9)
    ]
    await papers.save_papers(described)
    await papers.add_mentions(
        [
            Mention(
                "bluesky",
                f"post-{p.arxiv_id}-{n}",
                f"user{n}",
                MORNING - timedelta(hours=2),
                "post",
                p.arxiv_id,
            )
            for i, p in enumerate(described)
            for n in range(9 - i)
        ]
    )


async def digest_round(group: Group) -> int:
    queued = await dispatch_due_digests(group.subscriptions, group.clock.now())
    await send_pending_deliveries(
        group.subscriptions, group.papers, {"telegram": group.sink}, group.clock.now()
    )
    return queued


async def test_only_an_admin_subscribes_and_the_group_gets_one_digest_at_0730_berlin(group: Group):
    emu, chat = group.emu, GROUP["id"]
    await shared_papers(group.papers)

    await emu.send(COMMAND, GROUP, USER)
    refusal = await emu.reply(chat)
    assert "Only an admin of this chat can use /subscribe" in refusal["text"]
    assert await group.subscriptions.active() == []

    await emu.set_member(chat, ADMIN["id"], "administrator")
    await emu.send(COMMAND, GROUP, ADMIN)
    accepted = await emu.reply(chat)
    assert "every day at 07:30 Europe/Berlin, the 5 most shared papers in cs.LG" in accepted["text"]

    group.clock.set(MORNING + timedelta(minutes=29))  # 07:29 in Berlin: not yet
    assert await digest_round(group) == 0

    group.clock.set(MORNING + timedelta(minutes=30))  # 07:30 in Berlin
    assert await digest_round(group) == 1
    (digest,) = await emu.replies(chat)
    assert digest["parse_mode"] == "HTML"
    assert "Trending arXiv · Thursday 26 November 2026 · cs.LG" in digest["text"]
    shown = [f"Paper {i}" for i in range(1, 9) if f"Paper {i}<" in digest["text"]]
    assert shown == ["Paper 1", "Paper 2", "Paper 3", "Paper 4", "Paper 5"]  # cs.LG, top five

    group.clock.set(MORNING + timedelta(minutes=45))  # the dispatcher runs again, and again
    assert await digest_round(group) == 0
    assert await digest_round(group) == 0
    body = {"token": emu.token, "chat_id": chat, "timeout": 1}
    assert (await emu.client.post("/_emu/botMessages", json=body)).json()["result"] == []
