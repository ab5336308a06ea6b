"""`PapersCog`: runs core commands for slash commands and button clicks, and reports gone chats."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from adapters.discord.buttons import COG_NAME, ReplyButton, build_view
from adapters.discord.events import ChatEvent, ChatEventCallback, ChatGone, channel_chat
from adapters.discord.message import EDIT, RenderedMessage
from adapters.discord.options import Arguments, Categories, SlashCommands
from adapters.discord.render import render_reply
from core.faults import describe_error, log_failure
from core.registry import Registry, Request, decode_callback
from core.replies import Problem, Reply

logger = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# /paper may ask arXiv, which allows one request per 3 s; /follow asks the networks, and an
# import reads up to 5,000 accounts page by page.
SLOW_COMMANDS = frozenset({"paper", "follow"})
DEFER_AFTER = 2.0  # Discord wants an answer within 3 s; anything slower is deferred first
CATEGORY_TTL = 300.0  # autocomplete asks on every keystroke; categories change slowly
APOLOGY = "Sorry, something went wrong on our side. Please try again later."

Defer = Callable[[], Awaitable[Any]]


class PapersCog(commands.Cog, name=COG_NAME):
    """Slash commands for every registry command, stateless buttons, and chat events."""

    def __init__(
        self,
        bot: commands.Bot,
        registry: Registry,
        *,
        categories: Categories,
        on_chat_event: ChatEventCallback | None = None,
        slow_commands: Collection[str] = SLOW_COMMANDS,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self._bot = bot
        self._registry = registry
        self._categories = categories
        self._on_chat_event = on_chat_event
        self._slow = frozenset(slow_commands)
        self._defer_after = defer_after
        self._category_cache: tuple[float, list[str]] | None = None
        self.slash_commands = SlashCommands(self._run, self._category_names).build(registry)

    async def cog_load(self) -> None:
        """Put the registry's app commands on the tree and listen for our buttons."""
        for command in self.slash_commands:
            self._bot.tree.add_command(command, override=True)
        self._previous_on_error = self._bot.tree.on_error
        self._bot.tree.error(self._on_app_command_error)
        self._bot.add_dynamic_items(ReplyButton)

    async def cog_unload(self) -> None:
        """Take the app commands and the button listener off the bot."""
        for command in self.slash_commands:
            self._bot.tree.remove_command(command.name)
        self._bot.tree.error(self._previous_on_error)
        self._bot.remove_dynamic_items(ReplyButton)

    async def _run(self, interaction: discord.Interaction[Any], name: str, args: Arguments) -> None:
        """Run one core command for a slash command and send the rendered reply."""
        if isinstance(args, Problem):  # the typed text was refused before any command ran
            await self._send(interaction, render_reply(args))
            return
        if isinstance(args, tuple):
            request = _request(interaction, args)
        else:
            request = replace(_request(interaction, ()), typed=args)
        defer = functools.partial(interaction.response.defer, thinking=True)
        reply = await self._dispatch(name, request, defer, slow=name in self._slow)
        await self._send(interaction, render_reply(reply))

    async def handle_button(
        self, interaction: discord.Interaction[Any], mode: str, data: str
    ) -> None:
        """Answer a click: re-run the command in the id and edit in place, or answer privately."""
        decoded = decode_callback(data)
        if decoded is None:
            return
        name, args = decoded
        try:
            await self._click(interaction, mode, name, args)
        except Exception as exc:
            log_failure(logger, exc, "button for /%s failed", name, then="the user was told")
            await _tell(interaction, APOLOGY)

    async def _click(
        self, interaction: discord.Interaction[Any], mode: str, name: str, args: tuple[str, ...]
    ) -> None:
        request = _request(interaction, args)
        slow = name in self._slow
        if mode == EDIT:
            reply = await self._dispatch(name, request, interaction.response.defer, slow=slow)
            await self._replace(interaction, render_reply(reply))
            return
        defer = functools.partial(interaction.response.defer, ephemeral=True, thinking=True)
        reply = await self._dispatch(name, request, defer, slow=slow)
        messages = render_reply(reply)
        for message in messages:
            message.ephemeral = True
        await self._send(interaction, messages, deferred_privately=True)

    async def _replace(
        self, interaction: discord.Interaction[Any], messages: list[RenderedMessage]
    ) -> None:
        """Re-render the clicked message; a page that overflows sends the rest as new messages."""
        if messages[0].ephemeral:  # a Problem: tell the clicker and leave the list as it is
            await self._send(interaction, messages)
            return
        await _edit(interaction, messages[0])
        await self._send(interaction, messages[1:])

    async def _dispatch(self, name: str, request: Request, defer: Defer, *, slow: bool) -> Reply:
        """Dispatch to core, deferring first when the command is slow or outlasts `defer_after`."""
        if slow:
            await defer()
        task = asyncio.create_task(self._registry.dispatch(name, request))
        try:
            if not slow:
                done, _ = await asyncio.wait({task}, timeout=self._defer_after)
                if not done:
                    await defer()
            return await task
        finally:
            task.cancel()  # only matters when deferring failed and the reply is not wanted

    async def _send(
        self,
        interaction: discord.Interaction[Any],
        messages: Iterable[RenderedMessage],
        *,
        deferred_privately: bool = False,
    ) -> None:
        response = interaction.response
        # The first follow-up after a "thinking…" deferral replaces it, public or not.
        public_deferral = (
            response.type is discord.InteractionResponseType.deferred_channel_message
            and not deferred_privately
        )
        for message in messages:
            view = build_view(message.buttons) or MISSING
            if not response.is_done():
                await response.send_message(
                    message.content,
                    embeds=message.embeds,
                    view=view,
                    ephemeral=message.ephemeral,
                    allowed_mentions=NO_MENTIONS,
                )
                continue
            if message.ephemeral and public_deferral:
                # A private answer cannot replace a public "thinking…" message: delete that first.
                await interaction.delete_original_response()
            public_deferral = False
            await interaction.followup.send(
                message.content or MISSING,
                embeds=message.embeds,
                view=view,
                ephemeral=message.ephemeral,
                allowed_mentions=NO_MENTIONS,
            )

    async def _on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        name = interaction.command.name if interaction.command else "?"
        if isinstance(error, app_commands.NoPrivateMessage):
            text = f"/{name} works in a server channel, not in direct messages."
        elif isinstance(error, app_commands.MissingPermissions):
            text = f"You need the Manage Channels permission in this channel to use /{name}."
        elif isinstance(error, app_commands.CheckFailure):
            text = f"You cannot use /{name} here."
        else:
            logger.error("/%s failed", name, exc_info=error)
            text = APOLOGY
        await _tell(interaction, text)

    async def _category_names(self) -> list[str]:
        now = asyncio.get_running_loop().time()
        if self._category_cache and now - self._category_cache[0] < CATEGORY_TTL:
            return self._category_cache[1]
        try:
            names = await self._categories()
        except Exception as exc:
            log_failure(logger, exc, "could not list categories for autocomplete")
            return []
        self._category_cache = (now, names)
        return names

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel can no longer receive digests."""
        await self.report(ChatGone(channel_chat(channel.id), "channel_deleted"))

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot left or was removed from a server: none of its channels can be reached."""
        for channel in guild.channels:
            if isinstance(channel, discord.abc.Messageable):
                await self.report(ChatGone(channel_chat(channel.id), "removed_from_guild"))

    async def report(self, event: ChatEvent) -> None:
        """Hand a chat event to core; a failing callback is logged, never raised into discord.py."""
        if self._on_chat_event is None:
            return
        try:
            await self._on_chat_event(event)
        except Exception as exc:
            log_failure(logger, exc, "on_chat_event failed for %s", event)


def _request(interaction: discord.Interaction[Any], args: tuple[str, ...]) -> Request:
    """A core request; in a DM the user is the admin of the conversation, as on Telegram."""
    in_dm = interaction.guild_id is None
    channel_id = interaction.channel_id or interaction.user.id
    return Request(
        chat=channel_chat(channel_id),
        user_id=str(interaction.user.id),
        args=args,
        is_admin=in_dm or interaction.permissions.manage_channels,
        digests_here=not in_dm,  # /subscribe is a server command on Discord
    )


async def _edit(interaction: discord.Interaction[Any], message: RenderedMessage) -> None:
    view = build_view(message.buttons)
    if interaction.response.is_done():  # deferred (type 6): edit the original message
        await interaction.edit_original_response(
            content=message.content, embeds=message.embeds, view=view, allowed_mentions=NO_MENTIONS
        )
    else:
        await interaction.response.edit_message(
            content=message.content, embeds=message.embeds, view=view, allowed_mentions=NO_MENTIONS
        )


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer privately, whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            if (
                interaction.response.type
                is discord.InteractionResponseType.deferred_channel_message
            ):
                # The first follow-up would take the place of the "thinking…" message, which
                # shows to the whole channel: a private one must not, so remove it first.
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException as exc:  # expired interaction, Discord down: nothing more to do
        logger.warning("could not answer interaction %s: %s", interaction.id, describe_error(exc))
