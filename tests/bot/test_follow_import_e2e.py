"""Follow lists end to end: /follow through the real account directory on recorded payloads.

The AppView and the Mastodon instance answer with the recorded pages of `getFollows` and
`/following` (tests/data/follows); the lists live in SQLite, migrated as a deployment's is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

from adapters.follows.bluesky import BlueskyFollows
from adapters.follows.directory import HttpAccountDirectory
from adapters.follows.mastodon import MastodonFollows
from core.commands import build_commands
from core.metadata import MetadataService
from core.models import ChatRef, Mention
from core.ports import Account
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import PaperList, Problem, Reply, Text
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.follow_lists import SqlFollowLists
from core.storage.repository import SqlPaperRepository
from tests.adapters.follows import test_bluesky, test_mastodon
from tests.adapters.follows.support import Sleeps, json_response, server_error
from tests.fakes import FixedClock

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
GROUP = ChatRef("telegram", "-1001")


@dataclass
class Bot:
    registry: Registry
    repo: SqlPaperRepository
    follows: SqlFollowLists

    async def ask(self, line: str) -> Reply:
        name, _, text = line.removeprefix("/").partition(" ")
        return await self.registry.dispatch_text(name, text, Request(GROUP, "u", is_admin=True))


async def build(bluesky: httpx.AsyncClient, mastodon: httpx.AsyncClient) -> AsyncIterator[Bot]:
    engine = create_engine("sqlite+aiosqlite://")
    await upgrade(engine)
    clock = FixedClock(NOW)
    repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)
    follows = SqlFollowLists(session_factory(engine), RankingConfig())
    directory = HttpAccountDirectory(
        [
            BlueskyFollows(bluesky, base_url=test_bluesky.BASE, sleep=Sleeps()),
            MastodonFollows(mastodon, sleep=Sleeps()),
        ]
    )
    registry = build_commands(
        repo,
        MetadataService(repo, None, clock),
        clock,
        RankingConfig(),
        follows=follows,
        directory=directory,
    )
    yield Bot(registry, repo, follows)
    await engine.dispose()


@pytest_asyncio.fixture
async def bot() -> AsyncIterator[Bot]:
    bluesky = test_bluesky.appview().client()
    mastodon = test_mastodon.instance().client()
    async for built in build(bluesky, mastodon):
        yield built


@pytest_asyncio.fixture
async def failing() -> AsyncIterator[Bot]:
    """The AppView fails on the second page of follows."""
    bluesky = test_bluesky.appview(second_page=lambda _: server_error()).client()
    mastodon = test_mastodon.instance(second_page=lambda _: json_response([], 429)).client()
    async for built in build(bluesky, mastodon):
        yield built


async def test_import_bluesky_follows_then_rank_their_shares(bot: Bot) -> None:
    reply = await bot.ask("/follow import bluesky:alice.bsky.social")

    assert reply == Text(
        (
            "Imported 5 accounts that @alice.bsky.social follows.",
            "This chat follows 5 accounts; /top following ranks their shares.",
        )
    )
    assert await bot.follows.page(GROUP, 10, 0) == sorted(
        test_bluesky.FOLLOWED, key=lambda a: a.shown
    )
    karpathy = test_bluesky.FOLLOWED[1]
    await bot.repo.add_mentions(
        [
            Mention(
                "bluesky", "at://k/1", karpathy.key, NOW - timedelta(hours=1), "post", "2611.00001"
            ),
            Mention("bluesky", "at://s/1", "did:plc:stranger", NOW, "post", "2611.00002"),
        ]
    )
    top = await bot.ask("/top following")
    assert isinstance(top, PaperList)
    assert [p.paper.arxiv_id for p in top.papers] == ["2611.00001"]


async def test_import_mastodon_follows_and_follow_typed_accounts(bot: Bot) -> None:
    imported = await bot.ask("/follow import mastodon:@bob@sigmoid.social")
    typed = await bot.ask("/follow mastodon:@Bob@sigmoid.social bluesky:alice.bsky.social")

    assert imported == Text(
        (
            "Imported 4 accounts that @bob@sigmoid.social follows.",
            "This chat follows 4 accounts; /top following ranks their shares.",
        )
    )
    assert typed == Text(
        ("Following now: @bob@sigmoid.social (Mastodon), @alice.bsky.social (Bluesky).",)
    )
    assert Account("mastodon", "gargron@mastodon.social", "gargron@mastodon.social") in (
        await bot.follows.page(GROUP, 10, 0)
    )


async def test_an_import_whose_second_page_fails_adds_nothing(failing: Bot) -> None:
    bluesky = await failing.ask("/follow import bluesky:alice.bsky.social")
    mastodon = await failing.ask("/follow import mastodon:bob@sigmoid.social")

    assert bluesky == Problem(
        "Nothing imported: Bluesky could not be asked just now; try again later."
    )
    assert mastodon == Problem(
        "Nothing imported: Mastodon could not be asked just now; try again later."
    )
    assert await failing.follows.counts(GROUP) == {}


async def test_a_handle_that_does_not_resolve_is_not_added(bot: Bot) -> None:
    reply = await bot.ask("/follow bluesky:nobody.bsky.social x:karpathy")

    assert isinstance(reply, Problem)
    assert reply.message.startswith("Nothing added: 2 accounts, none of them good; the first: ")
    assert await bot.follows.counts(GROUP) == {}
