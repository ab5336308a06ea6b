"""Building and running the Discord bot; `bot/main.py` calls `build_bot` and `run_bot`.

discord.py is started by hand inside the process's one event loop (`async with bot:` then
`bot.start(token)`); `client.run()` would take the loop over. Its own rate-limit handling
(buckets, `retry_after`) is kept as it is. Given shards, the bot is discord.py's
`AutoShardedBot`, running the listed shards (SHARD_IDS) of `shard_count` in this process, so
several replicas can split one bot's servers between them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.cog import PapersCog
from adapters.discord.events import ChatEventCallback
from adapters.discord.options import Categories
from core.faults import describe_error
from core.registry import Registry

logger = logging.getLogger(__name__)


class PapersBot(commands.Bot):
    """A slash-command-only bot: no prefix help command, no privileged intents."""

    def __init__(
        self,
        registry: Registry,
        *,
        categories: Categories,
        guild_ids: Sequence[int],
        on_chat_event: ChatEventCallback | None,
        sync_on_start: bool,
        **options: Any,
    ) -> None:
        super().__init__(
            # Required by commands.Bot, never used: `on_message` below ignores messages.
            command_prefix=commands.when_mentioned,
            help_command=None,  # discord.py's default `help` would clash with ours
            intents=discord.Intents.default(),  # members, presences, message content stay off
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self._registry = registry
        self._categories = categories
        self._guild_ids = tuple(guild_ids)
        self._on_chat_event = on_chat_event
        self._sync_on_start = sync_on_start

    async def on_message(self, message: discord.Message, /) -> None:
        """Ignore messages: every command is a slash command.

        The default would treat "@bot words" as a prefix command and log CommandNotFound.
        """

    async def setup_hook(self) -> None:
        """Add the cog, then sync the slash commands (once logged in, the app id is known)."""
        await self.add_cog(
            PapersCog(
                self,
                self._registry,
                categories=self._categories,
                on_chat_event=self._on_chat_event,
            )
        )
        if self._sync_on_start:
            await sync_commands(self.tree, self._guild_ids)


class ShardedPapersBot(PapersBot, commands.AutoShardedBot):
    """`PapersBot` on discord.py's `AutoShardedClient`: several shards in one process."""


def build_bot(
    registry: Registry,
    *,
    categories: Categories,
    guild_ids: Sequence[int] = (),
    on_chat_event: ChatEventCallback | None = None,
    sync_on_start: bool = True,
    shard_ids: Sequence[int] = (),
    shard_count: int | None = None,
) -> commands.Bot:
    """Build the Discord bot for a core registry.

    Args:
        registry: The core commands; each becomes a slash command.
        categories: Returns the arXiv categories of tracked papers, for autocomplete.
        guild_ids: Servers to sync to instantly while developing (DISCORD_GUILD_IDS);
            empty syncs globally, which Discord may take up to an hour to show everywhere.
        on_chat_event: Receives `ChatGone` when a channel can no longer be reached.
        sync_on_start: Sync the slash commands in `setup_hook`; tests turn it off.
        shard_ids: The shards this process runs (SHARD_IDS); empty runs all `shard_count`.
        shard_count: The number of shards across every replica (SHARD_COUNT); None runs the
            unsharded `commands.Bot`.

    Raises:
        ValueError: `shard_ids` without `shard_count`, or an id not below it.
    """
    if shard_count is None:
        if shard_ids:
            raise ValueError("shard_ids need a shard_count")
        return PapersBot(
            registry,
            categories=categories,
            guild_ids=guild_ids,
            on_chat_event=on_chat_event,
            sync_on_start=sync_on_start,
        )
    if any(not 0 <= i < shard_count for i in shard_ids):
        raise ValueError(f"shard ids must be from 0 to {shard_count - 1}")
    return ShardedPapersBot(
        registry,
        categories=categories,
        guild_ids=guild_ids,
        on_chat_event=on_chat_event,
        sync_on_start=sync_on_start,
        shard_count=shard_count,
        # discord.py wants a list; None runs every shard.
        shard_ids=list(shard_ids) or None,
    )


async def sync_commands(
    tree: app_commands.CommandTree[commands.Bot], guild_ids: Sequence[int]
) -> None:
    """Sync the tree globally, or copy it to each development server and sync there.

    A failed sync is logged and the bot starts anyway: Discord keeps the last synced commands.
    """
    targets: Sequence[discord.Object | None] = [discord.Object(id=g) for g in guild_ids] or [None]
    for guild in targets:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        try:
            synced = await tree.sync(guild=guild)
        except discord.HTTPException as exc:
            logger.error(
                "could not sync slash commands to %s: %s",
                guild or "all servers",
                describe_error(exc),
            )
            continue
        logger.info("synced %d slash commands to %s", len(synced), guild or "all servers")


async def run_bot(bot: commands.Bot, token: str, stop: asyncio.Event) -> None:
    """Run the bot until `stop` is set, then close it; never logs the token.

    Raises:
        discord.LoginFailure: the token was refused (its message does not contain it).
    """
    async with bot:
        runner = asyncio.create_task(bot.start(token), name="discord-bot")
        waiter = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not runner.done():
                await bot.close()  # makes start() return
                await asyncio.wait({runner})
        runner.result()
