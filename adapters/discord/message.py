"""Discord's message limits, the rendered-message value, and packing fields into embeds.

Limits (discord.py's `embeds.py` and Discord's API reference): title 256, description 4096,
25 fields of name 256 and value 1024, footer 2048, 6000 characters summed over every embed of a
message, 10 embeds a message, 2000 characters of content, 100 characters of custom id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord

from adapters.discord.markup import BLANK
from core.registry import encode_callback

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
EMBEDS_LIMIT = 10
CONTENT_LIMIT = 2000
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80

# Our footers are short; capping them keeps title + description + footer of one embed
# under the 6000 total, so packing never has to split a single embed.
FOOTER_CAP = 1024
COLOUR = discord.Colour(0xB31B1B)  # arXiv red

# Button ids: "ta:" marks ours; "e" re-renders the message in place (paging),
# "s" answers with a new ephemeral message (a card's "Abstract").
BUTTON_PREFIX = "ta:"
EDIT = "e"
SHOW = "s"


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """A button to build at send time: a link (`url`) or one of ours (`custom_id`).

    Rendering stays pure: a `discord.ui.View` needs a running event loop, so the cog builds it.
    """

    label: str
    url: str | None = None
    custom_id: str | None = None


@dataclass(slots=True)
class RenderedMessage:
    """One Discord message: content, up to ten embeds and the buttons under it."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    buttons: tuple[ButtonSpec, ...] = ()
    ephemeral: bool = False


def button_id(mode: str, command: str, args: tuple[str, ...]) -> str | None:
    """The custom id of a button that re-runs `command args`, or None if it does not fit."""
    data = encode_callback(command, args)
    if data is None:
        return None
    custom_id = f"{BUTTON_PREFIX}{mode}:{data}"
    return custom_id if len(custom_id) <= CUSTOM_ID_LIMIT else None


def split_content(lines: Iterable[str]) -> list[str]:
    """Join escaped lines into chunks of at most 2000 characters, breaking between lines."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > CONTENT_LIMIT:  # one very long line: hard-split it
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:CONTENT_LIMIT])
            line = line[CONTENT_LIMIT:]
        if current and len(current) + 1 + len(line) > CONTENT_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not chunks:
        chunks.append(current or BLANK)
    return chunks


def pack(
    head: discord.Embed, fields: Sequence[tuple[str, str]], footer: str | None = None
) -> list[list[discord.Embed]]:
    """Spread fields over embeds (25 each) and messages (10 embeds, 6000 characters each).

    `head` carries the title and description and opens the first message; `footer`, already
    escaped and at most `FOOTER_CAP` long, closes the last embed. Room for the footer is kept
    in every message, so it always fits.
    """
    reserve = len(footer or "")
    messages: list[list[discord.Embed]] = [[head]]
    current, used = head, len(head)
    for name, value in fields:
        cost = len(name or BLANK) + len(value or BLANK)
        over = used + cost + reserve > TOTAL_LIMIT
        if over or len(current.fields) >= FIELD_LIMIT:
            current = discord.Embed(colour=head.colour)
            if over or len(messages[-1]) >= EMBEDS_LIMIT:
                messages.append([])
                used = 0
            messages[-1].append(current)
        current.add_field(name=name or BLANK, value=value or BLANK, inline=False)
        used += cost
    if footer:
        current.set_footer(text=footer)
    return messages
