"""Slash commands built from the core registry, with typed options mapped onto core's arguments.

Each command Discord knows well gets typed, described options here (keyed by name), whose
choices and ranges come from core's grammar; `/top` and `/new` hand core its typed arguments,
and free text goes through core's tokenizer, as typed text does on every platform. Any other
registry command gets one optional "arguments" string, so a new core command still appears.

The callbacks are methods: discord.py reads each parameter's annotation to build the option,
and calls the method bound to this object. Annotations are evaluated at runtime by discord.py,
so this module does not use `from __future__ import annotations`.
"""

import functools
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord
from discord import app_commands

from core.arguments import DEFAULT_N, MAX_N, WINDOW_CHOICES, NewArgs, TopArgs
from core.grammar import MAX_LINE
from core.models import Window
from core.registry import Command, Registry, read_arguments
from core.replies import Problem
from core.subscription_commands import SubscribeArgs

# What a callback hands the cog: words to parse, core's typed arguments, or a refusal.
Arguments = tuple[str, ...] | TopArgs | NewArgs | SubscribeArgs | Problem
Run = Callable[[discord.Interaction[Any], str, Arguments], Awaitable[None]]
Categories = Callable[[], Awaitable[list[str]]]
Choices = list[app_commands.Choice[str]]

CHOICE_LIMIT = 25
DESCRIPTION_LIMIT = 100
# The commands with typed options, by name; any other takes one "arguments" string, or nothing
# when its usage names no arguments (`/help`, `/settings`).
_SPECS = {
    "top": "_top",
    "new": "_new",
    "paper": "_paper",
    "search": "_search",
    "subscribe": "_subscribe",
}
# Options completed from live data, by option name.
_AUTOCOMPLETE = {"category": "category_choices", "timezone": "timezone_choices"}
WINDOWS = [app_commands.Choice(name=label, value=value) for value, label in WINDOW_CHOICES]
# Discord enforces these before the command runs; core checks them again all the same.
Count = app_commands.Range[int, 1, MAX_N]
Page = app_commands.Range[int, 1]
Typed = app_commands.Range[str, 1, MAX_LINE]


def split_words(text: str | None) -> tuple[str, ...] | Problem:
    """Read typed text with core's grammar (quotes group words), as every platform does."""
    return read_arguments(text or "")


def prefix_choices(names: Iterable[str], current: str) -> Choices:
    """Up to 25 choices: names starting with `current` (or with a part after a `/` or `.`)."""
    needle = current.strip().lower()
    hits: list[str] = []
    for name in names:
        lowered = name.lower()
        parts = lowered.replace(".", "/").split("/")
        if lowered.startswith(needle) or any(p.startswith(needle) for p in parts):
            hits.append(name)
            if len(hits) == CHOICE_LIMIT:
                break
    return [app_commands.Choice(name=h[:100], value=h[:100]) for h in hits]


def manages_channels(interaction: discord.Interaction[Any]) -> bool:
    """The runtime check of administrative commands: Manage Channels in this channel.

    Raises:
        app_commands.NoPrivateMessage: used outside a server.
        app_commands.MissingPermissions: the member lacks Manage Channels here.
    """
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_channels:
        raise app_commands.MissingPermissions(["manage_channels"])
    return True


# What a digest needs of the bot in its channel, by permission flag, as Discord's client names it.
DIGEST_RIGHTS = {"send_messages": "Send Messages", "embed_links": "Embed Links"}


def digest_refusal(interaction: discord.Interaction[Any]) -> Problem | None:
    """Why the bot could not post digests where `/subscribe` was typed, or None if it can.

    Subscribing anyway would fail every day: Discord refuses the bot's messages there.
    """
    granted = interaction.app_permissions
    missing = [name for flag, name in DIGEST_RIGHTS.items() if not getattr(granted, flag)]
    if not missing:
        return None
    return Problem(
        f"I can't post digests in this channel: give me {' and '.join(missing)} here first."
    )


def _takes_arguments(cmd: Command) -> bool:
    """Whether the usage names anything after the command, e.g. `/digest [date]`."""
    return len(cmd.usage.split()) > 1


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class SlashCommands:
    """The app commands of one registry; every callback delegates to `run(interaction, name, args)`.

    Built from bound methods: discord.py then calls them with this object as `self`.
    """

    def __init__(self, run: Run, categories: Categories) -> None:
        self._run = run
        self._categories = categories

    def build(self, registry: Registry) -> list[app_commands.Command[Any, ..., None]]:
        """One app command per registry command, typed where a spec exists."""
        return [self._command(cmd) for cmd in registry.commands]

    def _command(self, cmd: Command) -> app_commands.Command[Any, ..., None]:
        spec = _SPECS.get(cmd.name)
        if spec is not None:
            callback = getattr(self, spec)
        elif _takes_arguments(cmd):
            callback = self._arguments
        else:
            callback = self._bare
        summary = " ".join(cmd.summary.split()) or cmd.name
        app_cmd: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=cmd.name, description=summary[:DESCRIPTION_LIMIT], callback=callback
        )
        for param in app_cmd.parameters:
            completer = _AUTOCOMPLETE.get(param.name)
            if completer is not None:
                app_cmd.autocomplete(param.name)(getattr(self, completer))
        if cmd.admin_only:
            # Discord enforces the default permission, but a server admin may relax it in the
            # server's integration settings; the check keeps Manage Channels required anyway.
            app_commands.guild_only(app_cmd)
            app_commands.default_permissions(manage_channels=True)(app_cmd)
            app_commands.check(manages_channels)(app_cmd)
        else:
            app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(app_cmd)
        return app_cmd

    async def category_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> Choices:
        """Autocomplete a category from the categories of tracked papers."""
        return prefix_choices(await self._categories(), current)

    async def timezone_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> Choices:
        """Autocomplete an IANA time zone such as `Europe/Berlin`."""
        return prefix_choices(_timezones(), current)

    @app_commands.describe(
        n=f"How many papers (1-{MAX_N})",
        window="Count shares in this window instead of trending",
        category="An arXiv category, e.g. cs.LG",
        words="Words the title or abstract must contain; quotes keep a phrase together",
        following="Count only the shares of the accounts this channel follows (/following)",
    )
    @app_commands.choices(window=WINDOWS)
    async def _top(
        self,
        interaction: discord.Interaction[Any],
        n: Count | None = None,
        window: str | None = None,
        category: str | None = None,
        words: Typed | None = None,
        following: bool | None = None,
    ) -> None:
        phrases = split_words(words)
        if isinstance(phrases, Problem):
            await self._run(interaction, "top", phrases)
            return
        chosen: Window = next((value for value, _ in WINDOW_CHOICES if value == window), "trending")
        typed = TopArgs(
            n or DEFAULT_N, chosen, category or None, phrases, following=bool(following)
        )
        await self._run(interaction, "top", typed)

    @app_commands.describe(page="Page number, from 1")
    async def _new(self, interaction: discord.Interaction[Any], page: Page | None = None) -> None:
        await self._run(interaction, "new", NewArgs(page or 1))

    @app_commands.describe(id_or_link="An arXiv id or a link to the paper, e.g. 2401.01234")
    async def _paper(self, interaction: discord.Interaction[Any], id_or_link: Typed) -> None:
        await self._run(interaction, "paper", split_words(id_or_link))

    @app_commands.describe(words="Words the title or abstract must contain")
    async def _search(self, interaction: discord.Interaction[Any], words: Typed) -> None:
        await self._run(interaction, "search", split_words(words))

    @app_commands.describe(
        time="When to post, HH:MM (24-hour)",
        timezone="Time zone of that time, e.g. Europe/Berlin",
        n=f"How many papers (1-{MAX_N})",
        filters="Categories or words to keep, e.g. cs.LG diffusion",
    )
    async def _subscribe(
        self,
        interaction: discord.Interaction[Any],
        time: str | None = None,
        timezone: str | None = None,
        n: Count | None = None,
        filters: Typed | None = None,
    ) -> None:
        refusal = digest_refusal(interaction)
        words = split_words(filters)
        if refusal or isinstance(words, Problem):
            await self._run(interaction, "subscribe", refusal or words)
            return
        typed = SubscribeArgs(time or None, timezone or None, n, words)
        await self._run(interaction, "subscribe", typed)

    async def _bare(self, interaction: discord.Interaction[Any]) -> None:
        name = interaction.command.name if interaction.command else ""
        await self._run(interaction, name, ())

    @app_commands.describe(arguments="Arguments as you would type them after the command")
    async def _arguments(
        self, interaction: discord.Interaction[Any], arguments: Typed | None = None
    ) -> None:
        name = interaction.command.name if interaction.command else ""
        await self._run(interaction, name, split_words(arguments))
