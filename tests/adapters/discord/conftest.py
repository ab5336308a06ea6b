from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

# Triaged: discord.py 2.7 imports the stdlib `audioop` for voice, which Python 3.11 flags as
# deprecated at import time, before pyproject's filterwarnings line for it applies here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    import discord.ext.test as dpytest
    import discord.ext.test.backend as back
    from discord.ext import commands

from adapters.discord.app import build_bot
from adapters.discord.events import ChatEvent
from tests.adapters.discord.fakes import FakeCore
from tests.adapters.discord.harness import Harness

CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "stat.ML", "math.GT", "hep-th"]


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
def events() -> list[ChatEvent]:
    return []


@pytest.fixture
async def bot(core: FakeCore, events: list[ChatEvent]) -> AsyncIterator[commands.Bot]:
    async def categories() -> list[str]:
        return CATEGORIES

    async def on_chat_event(event: ChatEvent) -> None:
        events.append(event)

    b = build_bot(
        core.registry(), categories=categories, on_chat_event=on_chat_event, sync_on_start=False
    )
    await b._async_setup_hook()
    dpytest.configure(b, members=0)
    # login() calls setup_hook in production; after configure, so that the button listener
    # lands in dpytest's connection state rather than the one it replaces.
    await b.setup_hook()
    yield b
    await dpytest.empty_queue()
    # No bot.close(): dpytest's fake websocket has no socket to close.


@pytest.fixture
def harness(bot: commands.Bot) -> Harness:
    return Harness(bot)


@pytest.fixture
def channel() -> discord.TextChannel:
    channel = dpytest.get_config().channels[0]
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.fixture
def member(channel: discord.TextChannel) -> discord.User:
    # Without the privileged members intent discord.py caches no members, so dpytest's are
    # None; the interaction payload carries the member itself, so a user is enough.
    return back.make_user("alice", "0001")


@pytest.fixture
def where(member: discord.User, channel: discord.TextChannel) -> dict[str, Any]:
    """A plain member in a server channel, without Manage Channels."""
    return {"member": member, "channel": channel, "permissions": discord.Permissions.text()}


@pytest.fixture
def admin_where(member: discord.User, channel: discord.TextChannel) -> dict[str, Any]:
    perms = discord.Permissions.text()
    perms.manage_channels = True
    return {"member": member, "channel": channel, "permissions": perms}


@pytest.fixture
def dm(member: discord.User) -> dict[str, Any]:
    return {"user": member}
