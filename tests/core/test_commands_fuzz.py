"""Any input at all, through the registry on a real SQLite store: an answer, never a crash.

`Registry.dispatch` turns a crash into a `Failure`, so the property is that no reply is one.
The store holds described papers, so that words and categories reach the SQL they filter by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.commands import build_commands
from core.metadata import MetadataService
from core.models import ChatRef, Mention, Paper
from core.ports import Account
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import Failure, Problem
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.follow_lists import SqlFollowLists
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from tests.fake_follows import FakeAccountDirectory
from tests.fakes import FixedClock

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CHAT = ChatRef("console", "fuzz")
COMMANDS = (
    *("start", "help", "top", "new", "paper", "search", "subscribe", "settings", "digest"),
    *("follow", "unfollow", "following"),
)


@pytest_asyncio.fixture
async def registry() -> AsyncIterator[Registry]:
    engine = create_engine("sqlite+aiosqlite://")
    await upgrade(engine)
    clock = FixedClock(NOW)
    repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)
    ids = [f"2611.{i:05d}" for i in range(1, 31)]
    await repo.save_papers(
        [
            Paper(i, title=f"Graph neural networks {i}", abstract="Diffusion models and graphs.")
            for i in ids
        ]
    )
    await repo.add_mentions(
        [
            Mention("bluesky", f"p{n}", f"user{n % 7}", NOW - timedelta(hours=n), "post", i)
            for n, i in enumerate(ids)
        ]
    )
    # No arXiv: /paper of an unknown id answers from the store alone.
    subscriptions = SqlSubscriptionStore(session_factory(engine))
    metadata = MetadataService(repo, None, clock)
    follows = SqlFollowLists(session_factory(engine), RankingConfig())
    await follows.add(CHAT, [Account("bluesky", "did:plc:user1", "user1")], NOW)
    directory = FakeAccountDirectory(
        [Account("x", "graph", "graph")], follows={"graph": [Account("x", "x", "x")]}
    )
    yield build_commands(repo, metadata, clock, RankingConfig(), subscriptions, follows, directory)
    await engine.dispose()


WORD = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(
        [
            *("5", "0", "26", "day", "week", "all", "cs.LG", "math", "page=2", "page=0"),
            *("following", "import", "all", "x:graph", "bluesky:user1", "x:", ":x", "x:@"),
            *("page=999999999", "abstract", "graph", "%", "_", "\\", '"graph neural"', "“x"),
            *("\x00", "\ud800", "²", "\uff11\uff12", "e\u0301", "\u202e", "🙂"),
        ]
    ),
    st.from_regex(r"\d{4}\.\d{4,6}(v\d)?", fullmatch=True),
)
# Many words (a thousand, past any LIKE limit) and very long ones (past the line limit).
ARGS = st.one_of(
    st.lists(WORD, max_size=6),
    st.builds(
        lambda word, n: [word] * n,
        st.sampled_from(["graph", "neural", "x", "cs.LG"]),
        st.sampled_from([9, 100, 999, 1000, 1500]),  # past SQLite's expression depth too
    ),
    st.lists(st.text(alphabet="ab ", min_size=4000, max_size=20_000), min_size=1, max_size=2),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(COMMANDS), args=ARGS, typed=st.booleans())
async def test_every_command_answers_any_arguments_without_failing(
    registry: Registry, name: str, args: list[str], typed: bool
) -> None:
    request = Request(CHAT, "u1", is_admin=True)
    if typed:  # as a platform hands core a line: core's grammar reads it
        reply = await registry.dispatch_text(name, " ".join(args), request)
    else:  # as words already split (the shell's argv, Discord's options)
        reply = await registry.dispatch(name, Request(CHAT, "u1", tuple(args), is_admin=True))
    if name == "subscribe":  # the digest a stored subscription would get must build too
        digest = await registry.dispatch("digest", request)
        assert not isinstance(digest, Failure), digest

    assert not isinstance(reply, Failure), reply
    if isinstance(reply, Problem):
        assert reply.message
        assert "\n" not in reply.message
        assert len(reply.message) < 200
