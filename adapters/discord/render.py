"""Pure rendering of core replies to Discord messages (embeds, content and button specs)."""

from __future__ import annotations

from typing import assert_never

import discord

from adapters.discord.card import render_card
from adapters.discord.markup import (
    BLANK,
    authors_short,
    clean,
    counts_line,
    escape,
    link_line,
    neutralise_mentions,
)
from adapters.discord.message import (
    COLOUR,
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EDIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_CAP,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    ButtonSpec,
    RenderedMessage,
    button_id,
    pack,
    split_content,
)
from core.replies import Failure, Help, PaperCard, PaperList, Problem, Reply, Text
from core.views import ListItem, ListView, build_card_view, build_list_view, one_line

_FIELD_MAX = FIELD_NAME_LIMIT + FIELD_VALUE_LIMIT
_MIN_PAPER_BUDGET = 120
_MIN_TITLE = 24
_MIN_VALUE = 60
_COUNTS_LIMIT = 300  # a list shows the main networks; the card has room for all of them


def render_reply(reply: Reply) -> list[RenderedMessage]:
    """Render a reply as one or more Discord messages; any buttons sit on the last one.

    A `Problem` or `Failure` is ephemeral: only the person who typed the command needs to see it.
    """
    match reply:
        case Text(lines=lines):
            return [RenderedMessage(content=c) for c in split_content(map(escape, lines))]
        case Problem(message=message, usage=usage):
            text = escape(message) + (f"\nUsage: `{code_span(usage)}`" if usage else "")
            return [RenderedMessage(content=text[:CONTENT_LIMIT] or BLANK, ephemeral=True)]
        case Failure(message=message):
            text = escape(message)[:CONTENT_LIMIT] or BLANK
            return [RenderedMessage(content=text, ephemeral=True)]
        case Help():
            return _render_help(reply)
        case PaperList():
            return _render_list(build_list_view(reply))
        case PaperCard():
            return [render_card(build_card_view(reply))]
        case _:
            assert_never(reply)


def paper_field(item: ListItem, budget: int = _FIELD_MAX) -> tuple[str, str]:
    """One paper as a field: `rank. title`, then authors, counts per source and links.

    `budget` bounds name plus value so that a page of papers fits one message: the authors
    line is dropped first, then links that do not fit, then the title is cut.
    """
    paper = item.paper
    prefix = f"{item.rank}. "
    room = min(FIELD_VALUE_LIMIT, max(budget - len(prefix) - _MIN_TITLE, _MIN_VALUE))
    counts = counts_line(item.counts, min(room, _COUNTS_LIMIT))
    authors = authors_short(paper.authors, min(100, room))
    lines = [authors, counts, link_line(paper.links, room - len(counts) - 1)]
    lines = [line for line in lines if line]
    if len(lines) > 1 and len("\n".join(lines)) > min(budget // 2, room):
        lines = lines[1:]
    value = "\n".join(lines) or BLANK
    room = max(24, min(FIELD_NAME_LIMIT, budget - len(value))) - len(prefix)
    return prefix + clean(paper.display_title, room), value


def code_span(text: str) -> str:
    """Text for inside backticks: no backticks, mentions neutralised, at most 150 characters.

    Markdown is shown as typed inside a code span, so only mentions need escaping.
    """
    return neutralise_mentions(one_line(text).replace("`", "'")[:150])


def _render_list(view: ListView) -> list[RenderedMessage]:
    head = discord.Embed(title=clean(one_line(view.heading), TITLE_LIMIT), colour=COLOUR)
    if not view.items:
        head.description = clean(view.empty_note, DESCRIPTION_LIMIT)
    page = f"Page {view.nav.page}" if view.nav else None
    footer = clean(" · ".join(p for p in (view.footer, page) if p), FOOTER_CAP) or None
    budget = _FIELD_MAX
    if view.nav and view.items:
        # A page is re-rendered in place by its buttons, so it has to fit one message.
        free = TOTAL_LIMIT - len(head) - len(footer or "")
        budget = min(budget, max(free // len(view.items), _MIN_PAPER_BUDGET))
    fields = [paper_field(item, budget) for item in view.items]
    messages = [RenderedMessage(embeds=e) for e in pack(head, fields, footer)]
    messages[-1].buttons = _paging_buttons(view)
    return messages


def _paging_buttons(view: ListView) -> tuple[ButtonSpec, ...]:
    nav = view.nav
    if nav is None:
        return ()
    wanted = [("◀ Previous", nav.previous), ("Next ▶", nav.next)]
    buttons = []
    for label, target in wanted:
        custom_id = button_id(EDIT, target.command, target.args) if target else None
        if custom_id is not None:
            buttons.append(ButtonSpec(label, custom_id=custom_id))
    return tuple(buttons)


def _render_help(reply: Help) -> list[RenderedMessage]:
    head = discord.Embed(
        title="Trending arXiv", description=clean(reply.intro, DESCRIPTION_LIMIT), colour=COLOUR
    )
    fields = []
    for cmd in reply.commands:
        usage = cmd.usage if cmd.usage.startswith("/") else f"/{cmd.usage}"
        value = clean(cmd.summary, FIELD_VALUE_LIMIT - 200)
        if cmd.example:
            value += f"\nExample: `{code_span(cmd.example)}`"
        fields.append((clean(one_line(usage), FIELD_NAME_LIMIT), value))
    return [RenderedMessage(embeds=e) for e in pack(head, fields)]
