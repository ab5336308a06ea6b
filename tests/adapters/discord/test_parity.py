from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

from adapters.discord.app import sync_commands
from adapters.discord.cog import PapersCog
from core.commands import build_commands
from core.metadata import MetadataService
from core.ranking import RankingConfig
from core.registry import Command, Registry
from tests.adapters.discord.fakes import NAMES, FakeCore
from tests.fake_follows import InMemoryFollowLists
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore

GUILD, DM = 0, 1
STRING, INTEGER, BOOLEAN = 3, 4, 5


def payloads(bot: commands.Bot) -> dict[str, dict[str, Any]]:
    return {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}


def test_slash_commands_equal_the_core_registry(bot, core):
    assert {c.name for c in bot.tree.get_commands()} == core.registry().names == set(NAMES)


async def test_a_new_core_command_still_appears(bot):
    async def categories():
        return []

    fake = FakeCore()
    extra = [
        Command(
            "trending",
            "/trending [hours]",
            "Papers rising fastest.",
            "/trending 6",
            fake.handler("trending"),
        ),
        Command("about", "/about", "Who runs this bot.", "/about", fake.handler("about")),
    ]
    registry = Registry([*fake.registry().commands, *extra])
    await bot.remove_cog("PapersCog")
    await bot.add_cog(PapersCog(bot, registry, categories=categories))

    commands = payloads(bot)
    assert set(commands) == registry.names
    assert [o["name"] for o in commands["trending"]["options"]] == ["arguments"]
    assert commands["about"]["options"] == []  # its usage names no arguments


def test_top_options_are_typed_and_described(bot):
    options = {o["name"]: o for o in payloads(bot)["top"]["options"]}
    assert list(options) == ["n", "window", "category", "words", "following"]
    assert options["following"]["type"] == BOOLEAN
    assert (options["n"]["type"], options["n"]["min_value"], options["n"]["max_value"]) == (
        INTEGER,
        1,
        25,
    )
    assert [c["value"] for c in options["window"]["choices"]] == ["day", "week", "month", "all"]
    assert options["category"]["autocomplete"] is True
    assert all(o["description"] and len(o["description"]) <= 100 for o in options.values())
    assert not any(o["required"] for o in options.values())


def test_required_and_ranged_options(bot):
    commands = payloads(bot)
    [paper] = commands["paper"]["options"]
    assert (paper["name"], paper["type"], paper["required"]) == ("id_or_link", STRING, True)
    [words] = commands["search"]["options"]
    assert words["required"] is True
    [page] = commands["new"]["options"]
    assert page["min_value"] == 1
    assert "max_value" not in page
    subscribe = {o["name"]: o for o in commands["subscribe"]["options"]}
    assert list(subscribe) == ["time", "timezone", "n", "filters"]
    assert subscribe["timezone"]["autocomplete"] is True


def test_admin_commands_need_manage_channels_and_a_server(bot):
    commands = payloads(bot)
    manage = discord.Permissions(manage_channels=True).value
    for name in ("subscribe", "unsubscribe"):
        assert commands[name]["default_member_permissions"] == manage
        assert commands[name]["contexts"] == [GUILD]
    for name in set(NAMES) - {"subscribe", "unsubscribe"}:
        assert commands[name]["default_member_permissions"] is None
        assert sorted(commands[name]["contexts"]) == [GUILD, DM]
    assert all(0 < len(c["description"]) <= 100 for c in commands.values())


@pytest.fixture
def synced(bot, monkeypatch):
    calls = []

    async def sync(*, guild=None):
        calls.append(
            (
                guild.id if guild else None,
                sorted(c.name for c in bot.tree.get_commands(guild=guild)),
            )
        )
        if guild is not None and guild.id == 666:
            raise discord.Forbidden(
                SimpleNamespace(status=403, reason="Forbidden"), "Missing Access"
            )
        return []

    monkeypatch.setattr(bot.tree, "sync", sync)
    return calls


async def test_sync_commands_globally_by_default(bot, synced):
    await sync_commands(bot.tree, ())
    assert synced == [(None, sorted(NAMES))]


async def test_sync_commands_to_development_guilds(bot, synced, caplog):
    await sync_commands(bot.tree, (111, 666, 222))
    assert synced == [(111, sorted(NAMES)), (666, sorted(NAMES)), (222, sorted(NAMES))]
    assert "could not sync slash commands to" in caplog.text


async def test_slash_commands_equal_the_registry_build_commands_makes(bot):
    clock = FixedClock(datetime(2026, 11, 26, tzinfo=UTC))
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    metadata = MetadataService(repo, None, clock)
    follows = InMemoryFollowLists(repo, RankingConfig())
    registry = build_commands(
        repo,
        metadata,
        clock,
        RankingConfig(),
        subscriptions=InMemorySubscriptionStore(),
        follows=follows,
    )

    async def categories():
        return []

    await bot.remove_cog("PapersCog")
    await bot.add_cog(PapersCog(bot, registry, categories=categories))

    commands = payloads(bot)
    assert set(commands) == registry.names
    assert {"follow", "unfollow", "following"} <= registry.names
    for command in registry.commands:
        assert commands[command.name]["description"] == command.summary[:100]
    # Changing a channel's follow list is for those who may manage it, as /subscribe is.
    manage = discord.Permissions(manage_channels=True).value
    for name in ("follow", "unfollow"):
        assert commands[name]["default_member_permissions"] == manage
        assert commands[name]["contexts"] == [GUILD]
    assert commands["following"]["default_member_permissions"] is None
    assert [o["name"] for o in commands["follow"]["options"]] == ["arguments"]
