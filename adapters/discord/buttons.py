"""Stateless buttons: the custom id holds the command to re-run, so clicks survive restarts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, Self, runtime_checkable

import discord
from discord.ext import commands

from adapters.discord.message import BUTTON_PREFIX, ButtonSpec

COG_NAME = "PapersCog"


@runtime_checkable
class ButtonHandler(Protocol):
    """Whoever answers our buttons (the `PapersCog`)."""

    async def handle_button(
        self, interaction: discord.Interaction[Any], mode: str, data: str
    ) -> None:
        """Answer a click on a button whose id carried `mode` and `data`."""
        ...


class ReplyButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(re.escape(BUTTON_PREFIX) + r"(?P<mode>[a-z]):(?P<data>.+)"),
):
    """One of our buttons; discord.py matches its id by the template, with no stored view.

    A view of these is never kept in discord.py's view store (it is "fully dynamic"), so
    sending many paged lists does not grow memory, and old messages keep working after restarts.
    """

    def __init__(self, label: str, custom_id: str) -> None:
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, style=discord.ButtonStyle.secondary)
        )
        match = self.template.fullmatch(custom_id)
        if match is None:  # the base class has already checked the id's prefix
            raise ValueError(f"not a button id of ours: {custom_id!r}")
        self.mode: str = match["mode"]
        self.data: str = match["data"]

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a clicked id."""
        label = getattr(item, "label", None) or match["mode"]
        return cls(label, match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the cog that knows the command registry."""
        client = interaction.client
        handler = client.get_cog(COG_NAME) if isinstance(client, commands.Bot) else None
        if isinstance(handler, ButtonHandler):
            await handler.handle_button(interaction, self.mode, self.data)


def build_view(buttons: Sequence[ButtonSpec]) -> discord.ui.View | None:
    """Build the view for rendered buttons; None when there are none.

    Must run inside the event loop (discord.py views create a future).
    """
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for spec in buttons:
        if spec.url is not None:
            view.add_item(discord.ui.Button(label=spec.label, url=spec.url))
        elif spec.custom_id is not None:
            view.add_item(ReplyButton(spec.label, spec.custom_id))
    return view
