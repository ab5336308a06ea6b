from __future__ import annotations

import asyncio
import logging

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from adapters.discord.app import build_bot, run_bot
from adapters.discord.events import ChatGone
from core.models import ChatRef
from tests.adapters.discord.fakes import FakeCore

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secret-token-never-logged"


async def no_categories():
    return []


def test_build_bot_needs_no_privileged_intents():
    bot = build_bot(FakeCore().registry(), categories=no_categories)
    assert bot.help_command is None
    assert not (bot.intents.members)
    assert not (bot.intents.presences)
    assert not (bot.intents.message_content)
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == {"parse": []}  # type: ignore[comparison-overlap]


async def test_run_bot_starts_by_hand_and_closes_when_stopped(monkeypatch):
    bot = build_bot(FakeCore().registry(), categories=no_categories)
    started = []
    closed = asyncio.Event()

    async def start(token, *, reconnect=True):
        started.append(token)
        await closed.wait()  # a real start() returns once close() has run

    async def close():
        closed.set()
        await original_close()

    original_close = bot.close
    monkeypatch.setattr(bot, "start", start)
    monkeypatch.setattr(bot, "close", close)
    stop = asyncio.Event()
    runner = asyncio.create_task(run_bot(bot, TOKEN, stop))
    await asyncio.sleep(0.01)
    assert started == [TOKEN]
    assert not runner.done()

    stop.set()
    await asyncio.wait_for(runner, 1)
    assert bot.is_closed()


async def test_run_bot_login_failure_propagates_without_the_token(monkeypatch, caplog):
    bot = build_bot(FakeCore().registry(), categories=no_categories)

    async def static_login(token):  # what discord.py raises when Discord answers 401
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(bot.http, "static_login", static_login)
    with caplog.at_level(logging.DEBUG), pytest.raises(discord.LoginFailure) as failure:
        await run_bot(bot, TOKEN, asyncio.Event())

    assert TOKEN not in str(failure.value)
    assert TOKEN not in caplog.text
    assert "secret-token" not in caplog.text


async def test_deleted_channel_is_reported(bot, channel, events):
    dpytest.backend.delete_channel(channel)
    await dpytest.run_all_events()
    assert events == [ChatGone(ChatRef("discord", str(channel.id)), "channel_deleted")]


async def test_removal_from_a_server_reports_its_channels(bot, channel, events):
    bot.dispatch("guild_remove", channel.guild)
    await dpytest.run_all_events()
    assert ChatGone(ChatRef("discord", str(channel.id)), "removed_from_guild") in events
    assert all(e.reason == "removed_from_guild" for e in events)


async def test_bot_runs_no_prefix_commands(bot, channel, member, monkeypatch):
    processed = []

    async def process_commands(message):
        processed.append(message)

    monkeypatch.setattr(bot, "process_commands", process_commands)
    dpytest.backend.make_message("!help", member, channel)
    await dpytest.run_all_events()
    assert processed == []


def test_build_bot_runs_the_given_shards_when_sharded():
    bot = build_bot(
        FakeCore().registry(), categories=no_categories, shard_ids=[0, 2], shard_count=4
    )
    assert isinstance(bot, commands.AutoShardedBot)
    assert bot.shard_ids == [0, 2]
    assert bot.shard_count == 4
    assert bot.help_command is None  # still our bot
    every = build_bot(FakeCore().registry(), categories=no_categories, shard_count=2)
    assert isinstance(every, commands.AutoShardedBot)
    assert every.shard_ids is None  # discord.py runs all shards


def test_build_bot_is_unsharded_without_a_shard_count():
    bot = build_bot(FakeCore().registry(), categories=no_categories)
    assert not isinstance(bot, commands.AutoShardedBot)
    with pytest.raises(ValueError, match="shard_count"):
        build_bot(FakeCore().registry(), categories=no_categories, shard_ids=[0])
    with pytest.raises(ValueError, match="from 0 to 1"):
        build_bot(FakeCore().registry(), categories=no_categories, shard_ids=[2], shard_count=2)
